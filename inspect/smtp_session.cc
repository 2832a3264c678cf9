// SmtpSession: the SMTP protocol machine — client framing, reply matching, transactions.
#include "inspect/smtp_session.h"

#include <algorithm>
#include <cstring>

#include "inspect/smtp_address.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace misdirect::inspect {
namespace {

constexpr Direction kClient = Direction::kClientToServer;
constexpr Direction kServer = Direction::kServerToClient;

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

std::string_view trim(std::string_view text) noexcept {
  while (!text.empty() && is_space(text.front())) {
    text.remove_prefix(1);
  }
  while (!text.empty() && (is_space(text.back()) || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

// Control characters other than TAB (CR is stripped before) never appear in a command.
bool is_binary(unsigned char byte) noexcept { return (byte < 0x20 && byte != '\t') || byte == 0x7f; }

#if defined(__SSE2__)
// Lanes of `block` that are binary (see is_binary), as a movemask.
int binary_lanes(__m128i block) noexcept {
  const __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(block, _mm_set1_epi8(0x1f)), block);
  const __m128i tab = _mm_cmpeq_epi8(block, _mm_set1_epi8('\t'));
  const __m128i del = _mm_cmpeq_epi8(block, _mm_set1_epi8(0x7f));
  return _mm_movemask_epi8(_mm_or_si128(_mm_andnot_si128(tab, control), del));
}
#endif

// Sixteen bytes a step where SSE2 is there (a line of 8 to 15 bytes as two overlapping halves,
// a longer one in blocks with the last overlapping), never reading outside the line.
bool has_binary(std::string_view line) noexcept {
  const char* data = line.data();
  const std::size_t size = line.size();
#if defined(__SSE2__)
  if (size >= 16) {
    for (std::size_t i = 0;; i += 16) {
      const std::size_t at = size - i > 16 ? i : size - 16;
      if (binary_lanes(_mm_loadu_si128(reinterpret_cast<const __m128i*>(data + at))) != 0) {
        return true;
      }
      if (at == size - 16) {
        return false;
      }
    }
  }
  if (size >= 8) {
    const __m128i block = _mm_unpacklo_epi64(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(data)),
                                             _mm_loadl_epi64(reinterpret_cast<const __m128i*>(data + size - 8)));
    return binary_lanes(block) != 0;
  }
#endif
  for (std::size_t i = 0; i < size; ++i) {
    if (is_binary(static_cast<unsigned char>(data[i]))) {
      return true;
    }
  }
  return false;
}

// A SASL response line: base64, "=" (empty) or "*" (cancel). Commands always hold a space or
// ':' except bare verbs; bare verbs during AUTH are read as responses until the server answers.
bool looks_like_sasl_response(std::string_view line) noexcept {
  for (const char c : line) {
    const bool base64 = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                        c == '+' || c == '/' || c == '=' || c == '*';
    if (!base64) {
      return false;
    }
  }
  return true;
}

// "FROM" / "TO" (given in capitals) then optional spaces then ':'; returns what follows the colon.
bool strip_keyword_colon(std::string_view arguments, std::string_view keyword,
                         std::string_view& rest) noexcept {
  if (arguments.size() < keyword.size()) {
    return false;
  }
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    // Clearing 0x20 maps a-z onto A-Z and nothing else onto a capital letter.
    if ((static_cast<unsigned char>(arguments[i]) & 0xdf) != static_cast<unsigned char>(keyword[i])) {
      return false;
    }
  }
  std::string_view tail = arguments.substr(keyword.size());
  while (!tail.empty() && is_space(tail.front())) {
    tail.remove_prefix(1);
  }
  if (tail.empty() || tail.front() != ':') {
    return false;
  }
  rest = tail.substr(1);
  return true;
}

// Four letters folded to lowercase in one word ("RCPT", "rcpt" and "RcPt" give the same value).
// Folding with 0x20 is exact for letters, which every verb is made of.
constexpr uint32_t folded_word(const char* text) noexcept {
  return (static_cast<uint32_t>(static_cast<unsigned char>(text[0]) | 0x20) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(text[1]) | 0x20) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(text[2]) | 0x20) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(text[3]) | 0x20);
}

SmtpVerb verb_of(std::string_view token) noexcept;

// Whether a line (CR and LF may follow) starts with a known command verb as its first word.
bool starts_with_command(std::string_view line) noexcept {
  std::size_t end = 0;
  while (end < line.size() && !is_space(line[end]) && line[end] != '\r') {
    ++end;
  }
  return verb_of(line.substr(0, end)) != SmtpVerb::kUnknown;
}

// The verb of a command, case-insensitive; one word comparison rather than a string per verb.
SmtpVerb verb_of(std::string_view token) noexcept {
  if (token.size() == 8) {
    return folded_word(token.data()) == folded_word("star") && folded_word(token.data() + 4) == folded_word("ttls")
               ? SmtpVerb::kStartTls
               : SmtpVerb::kUnknown;
  }
  if (token.size() != 4) {
    return SmtpVerb::kUnknown;
  }
  switch (folded_word(token.data())) {
    case folded_word("rcpt"): return SmtpVerb::kRcpt;
    case folded_word("mail"): return SmtpVerb::kMail;
    case folded_word("data"): return SmtpVerb::kData;
    case folded_word("bdat"): return SmtpVerb::kBdat;
    case folded_word("ehlo"): return SmtpVerb::kEhlo;
    case folded_word("helo"): return SmtpVerb::kHelo;
    case folded_word("rset"): return SmtpVerb::kRset;
    case folded_word("noop"): return SmtpVerb::kNoop;
    case folded_word("vrfy"): return SmtpVerb::kVrfy;
    case folded_word("expn"): return SmtpVerb::kExpn;
    case folded_word("help"): return SmtpVerb::kHelp;
    case folded_word("quit"): return SmtpVerb::kQuit;
    case folded_word("auth"): return SmtpVerb::kAuth;
    case folded_word("lhlo"): return SmtpVerb::kLhlo;
    default: return SmtpVerb::kUnknown;
  }
}

bool is_positive(uint16_t code) noexcept { return code >= 200 && code < 300; }

}  // namespace

SmtpSession::SmtpSession(const SmtpConfig& config, SmtpEventSink& sink,
                         std::span<char> client_line_buffer) noexcept
    : sink_(sink),
      line_buffer_(client_line_buffer),
      line_bound_(static_cast<uint32_t>(
          std::min<std::size_t>(config.max_line_bytes, client_line_buffer.size()))),
      pending_capacity_(std::clamp<uint32_t>(config.max_pending_commands, 1, kMaxPendingCommands)),
      lmtp_(config.presume_lmtp) {}

bool SmtpSession::encrypted() const noexcept { return encrypted_; }

void SmtpSession::emit(const SmtpEvent& event) noexcept { sink_.on_event(event); }

void SmtpSession::anomaly(SmtpAnomalyKind kind, Direction direction) noexcept {
  emit(Anomaly{kind, direction});
}

void SmtpSession::feed(Direction direction, std::span<const uint8_t> bytes) noexcept {
  last_feed_consumed_ = 0;
  if (encrypted_ || finished_ || bytes.empty()) {
    return;
  }
  last_feed_consumed_ = bytes.size();
  if (direction == kClient) {
    feed_client(bytes.data(), bytes.size());
  } else {
    feed_server(bytes.data(), bytes.size());
  }
}

// ---- client stream -------------------------------------------------------------------------

void SmtpSession::feed_client(const uint8_t* data, std::size_t size) noexcept {
  std::size_t position = 0;
  while (position < size && !encrypted_) {
    switch (client_state_) {
      case ClientState::kCommand:
        position += consume_command_bytes(data + position, size - position);
        break;
      case ClientState::kDataBody: {
        const uint32_t transaction = body_transaction_;  // consume_body may end the content
        const std::size_t used = consume_body(data + position, size - position);
        emit(MessageContent{transaction, {reinterpret_cast<const char*>(data + position), used}, true});
        position += used;
        break;
      }
      case ClientState::kBdatChunk: {
        const uint64_t take = std::min<uint64_t>(bdat_remaining_, size - position);
        emit(MessageContent{bdat_transaction_,
                            {reinterpret_cast<const char*>(data + position), static_cast<std::size_t>(take)},
                            false});
        bdat_remaining_ -= take;
        position += static_cast<std::size_t>(take);
        if (bdat_remaining_ == 0) {
          client_state_ = ClientState::kCommand;
        }
        break;
      }
      case ClientState::kTlsCheck:
        consume_tls_check(data[position]);
        if (client_state_ == ClientState::kTlsCheck || encrypted_) {
          ++position;  // the octet was held (or completed the record header)
        }
        break;
      case ClientState::kStopped:
        last_feed_consumed_ = position;
        return;
    }
  }
  if (encrypted_) {
    last_feed_consumed_ = position;
  }
}

std::size_t SmtpSession::consume_command_bytes(const uint8_t* data, std::size_t size) noexcept {
  const auto* newline = static_cast<const uint8_t*>(std::memchr(data, '\n', size));
  const std::size_t segment = newline == nullptr ? size : static_cast<std::size_t>(newline - data);
  if (newline != nullptr && line_length_ == 0 && !line_too_long_ && !line_discard_ &&
      segment <= line_bound_) {
    // The whole line is in this chunk: parse it in place, no copy.
    settle_server_for_client_line();
    on_client_line({reinterpret_cast<const char*>(data), segment}, false);
    drain_early_replies();
    return segment + 1;
  }
  if (!line_discard_ || gap_line_check_) {
    const std::size_t room = line_bound_ - line_length_;
    const std::size_t take = std::min(room, segment);
    if (take > 0) {
      std::memcpy(line_buffer_.data() + line_length_, data, take);
      line_length_ += static_cast<uint32_t>(take);
    }
    if (segment > room) {
      line_too_long_ = true;
    }
  }
  if (newline == nullptr) {
    return size;
  }
  const std::string_view line(line_buffer_.data(), line_length_);
  const bool too_long = line_too_long_;
  bool discard = line_discard_;
  if (discard && gap_line_check_ && !too_long && starts_with_command(line)) {
    // The gap ended exactly where this command begins: nothing of it was lost, and the replies
    // seen while the hole was open answered only lines inside the hole.
    discard = false;
    gap_answered_ = false;
  }
  gap_line_check_ = false;
  line_length_ = 0;
  line_too_long_ = false;
  line_discard_ = false;
  settle_server_for_client_line();
  if (!discard) {
    on_client_line(line, too_long);
  } else if (gap_answered_) {
    gap_answered_ = false;
  } else {
    // The tail of a line cut by a gap: most likely a command whose head was lost, which the
    // server answers, so it keeps a place in the queue (taken back if the next line shows the
    // gap left us in message content).
    push(PendingKind::kOther, client_transaction_, 0);
    ++gap_placeholders_;
  }
  drain_early_replies();
  return segment + 1;
}

void SmtpSession::on_client_line(std::string_view raw, bool too_long) noexcept {
  std::string_view line = raw;
  while (!line.empty() && line.back() == '\r') {
    line.remove_suffix(1);
  }
  if (too_long) {
    anomaly(SmtpAnomalyKind::kLineTooLong, kClient);
  }
  if (auth_active_) {
    if (looks_like_sasl_response(line)) {
      return;  // a credential: consumed, never reported
    }
    auth_active_ = false;  // the server's final reply was not seen; this is a command again
  }
  std::string_view verb_text = line;
  std::string_view arguments;
  // Verbs are four letters (STARTTLS eight): look there first.
  std::size_t space = line.size() > 4 && is_space(line[4]) ? 4 : 0;
  while (space < line.size() && !is_space(line[space])) {
    ++space;
  }
  if (space < line.size()) {
    verb_text = line.substr(0, space);
    arguments = trim(line.substr(space + 1));
  }
  const SmtpVerb verb = verb_of(verb_text);

  if (first_line_check_) {
    first_line_check_ = false;
    if (verb == SmtpVerb::kUnknown) {
      // The first line after a pickup or a gap is not a command: most likely the middle of a
      // message. Skip content to its terminator rather than read body lines as commands.
      emit(CommandSeen{SmtpVerb::kUnknown});
      anomaly(SmtpAnomalyKind::kUnknownCommand, kClient);
      // The cut lines were content too: the server answers none of them.
      pending_count_ -= std::min<uint32_t>(gap_placeholders_, pending_count_);
      gap_placeholders_ = 0;
      enter_body(true);
      return;
    }
  }
  gap_placeholders_ = 0;
  if (too_long || has_binary(line)) {
    // Not interpreted (a truncated or binary argument is no address), but still a command
    // the server answers, so it keeps its place in the queue.
    if (!too_long) {
      anomaly(SmtpAnomalyKind::kBinaryInCommand, kClient);
    }
    emit(CommandSeen{verb});
    if (verb == SmtpVerb::kAuth) {
      auth_active_ = true;
      push(PendingKind::kAuth, client_transaction_, 0);
    } else {
      push(PendingKind::kOther, client_transaction_, 0);
    }
    return;
  }
  on_command(verb, arguments);
}

void SmtpSession::on_command(SmtpVerb verb, std::string_view arguments) noexcept {
  emit(CommandSeen{verb});
  switch (verb) {
    case SmtpVerb::kHelo:
    case SmtpVerb::kEhlo:
    case SmtpVerb::kLhlo: {
      const std::size_t end = arguments.find_first_of(" \t");
      lmtp_ = verb == SmtpVerb::kLhlo;  // the greeting names the dialect
      emit(Helo{arguments.substr(0, end), verb != SmtpVerb::kHelo, lmtp_});
      push(PendingKind::kHelo, client_transaction_, 0);
      client_transaction_ = 0;
      break;
    }
    case SmtpVerb::kMail:
      on_mail(arguments);
      break;
    case SmtpVerb::kRcpt:
      on_rcpt(arguments);
      break;
    case SmtpVerb::kData:
      ++data_count_;
      push(PendingKind::kData, client_transaction_, data_count_);
      enter_body(false);
      break;
    case SmtpVerb::kBdat:
      on_bdat(arguments);
      break;
    case SmtpVerb::kRset:
      push(PendingKind::kRset, client_transaction_, 0);
      client_transaction_ = 0;
      break;
    case SmtpVerb::kQuit:
      push(PendingKind::kQuit, client_transaction_, 0);
      client_transaction_ = 0;
      break;
    case SmtpVerb::kStartTls:
      push(PendingKind::kStartTls, client_transaction_, 0);
      client_transaction_ = 0;
      client_state_ = ClientState::kTlsCheck;
      tls_held_count_ = 0;
      starttls_reply_ = StartTlsReply::kPending;
      plaintext_after_starttls_ = false;
      break;
    case SmtpVerb::kAuth:
      // The mechanism and any initial response are credentials: nothing of them is reported.
      auth_active_ = true;
      push(PendingKind::kAuth, client_transaction_, 0);
      break;
    case SmtpVerb::kNoop:
    case SmtpVerb::kVrfy:
    case SmtpVerb::kExpn:
    case SmtpVerb::kHelp:
      push(PendingKind::kOther, client_transaction_, 0);
      break;
    case SmtpVerb::kUnknown:
      anomaly(SmtpAnomalyKind::kUnknownCommand, kClient);
      push(PendingKind::kOther, client_transaction_, 0);
      break;
  }
}

void SmtpSession::on_mail(std::string_view arguments) noexcept {
  std::string_view rest;
  SmtpPath path;
  if (strip_keyword_colon(arguments, "FROM", rest)) {
    path = parse_smtp_path(rest);
  } else {
    path.error = SmtpPathError::kMissing;
  }
  if (path.error != SmtpPathError::kOk) {
    anomaly(SmtpAnomalyKind::kMalformedMail, kClient);
    push(PendingKind::kOther, client_transaction_, 0);
    return;
  }
  if (client_transaction_ != 0 && client_transaction_ == client_mail_transaction_) {
    // MAIL inside an open transaction: RFC 5321 forbids it; the server's reply decides.
    anomaly(SmtpAnomalyKind::kCommandOutOfSequence, kClient);
  }
  const uint32_t id = ++last_transaction_;
  client_transaction_ = id;
  client_mail_transaction_ = id;
  emit(MailFrom{id, path.address, path.parameters, has_esmtp_keyword(path.parameters, "SMTPUTF8")});
  push(PendingKind::kMail, id, 0);
}

void SmtpSession::on_rcpt(std::string_view arguments) noexcept {
  std::string_view rest;
  SmtpPath path;
  if (arguments.size() >= 3 && (arguments[0] & 0xdf) == 'T' && (arguments[1] & 0xdf) == 'O' &&
      arguments[2] == ':') {
    // "TO:" as nearly every client sends it; other spellings take the general path below.
    path = parse_smtp_path(arguments.substr(3));
  } else if (strip_keyword_colon(arguments, "TO", rest)) {
    path = parse_smtp_path(rest);
  } else {
    path.error = SmtpPathError::kMissing;
  }
  if (path.error != SmtpPathError::kOk || path.address.empty()) {
    anomaly(SmtpAnomalyKind::kMalformedRcpt, kClient);
    push(PendingKind::kOther, client_transaction_, 0);
    return;
  }
  if (client_transaction_ <= ended_through_) {
    // No transaction open on the client side (or the server already ended it): implicit one.
    client_transaction_ = ++last_transaction_;
  }
  const uint32_t recipient = ++recipient_count_;
  emit(RcptTo{client_transaction_, recipient, path.address, path.domain, path.parameters});
  push(PendingKind::kRcpt, client_transaction_, recipient);
}

void SmtpSession::on_bdat(std::string_view arguments) noexcept {
  // "n" or "n LAST"; n is decimal octets.
  std::size_t digits = 0;
  uint64_t size = 0;
  bool valid = true;
  while (digits < arguments.size() && arguments[digits] >= '0' && arguments[digits] <= '9') {
    size = size * 10 + static_cast<uint64_t>(arguments[digits] - '0');
    ++digits;
    if (size > kMaxBdatChunkBytes) {
      valid = false;
      break;
    }
  }
  bool last = false;
  if (valid) {
    const std::string_view tail = trim(arguments.substr(digits));
    if (digits == 0 || (digits < arguments.size() && !is_space(arguments[digits]))) {
      valid = false;
    } else if (tail.empty()) {
      last = false;
    } else if (equals_caseless(tail, "LAST")) {
      last = true;
    } else {
      valid = false;
    }
  }
  if (!valid) {
    // The size is unknown, so the chunk cannot be skipped: follow the server, which reads what
    // comes next as commands too (non-commands become unknown-command anomalies).
    anomaly(SmtpAnomalyKind::kMalformedBdat, kClient);
    push(PendingKind::kOther, client_transaction_, 0);
    return;
  }
  bdat_transaction_ = client_transaction_;
  if (last) {
    push(PendingKind::kBdatLast, client_transaction_, 0);
    client_transaction_ = 0;
  } else {
    push(PendingKind::kBdat, client_transaction_, 0);
  }
  if (size > 0) {
    bdat_remaining_ = size;
    client_state_ = ClientState::kBdatChunk;
  }
}

void SmtpSession::enter_body(bool presumed) noexcept {
  client_state_ = ClientState::kDataBody;
  body_phase_ = BodyPhase::kLineStart;
  body_doubtful_ = presumed;
  body_serial_ = presumed ? 0 : data_count_;
  body_transaction_ = presumed ? 0 : client_transaction_;
}

std::size_t SmtpSession::consume_body(const uint8_t* data, std::size_t size) noexcept {
  // The terminator is a line holding only "." (CRLF or bare LF line ends on both sides, so
  // "\r\n.\r\n", "\n.\n", "\r\n.\n" and "\n.\r\n" all end the content). A line starting with
  // ".." is dot-stuffed content. The scan never copies: it jumps from line end to line end.
  std::size_t i = 0;
  while (i < size) {
    if (body_phase_ == BodyPhase::kMidLine) {
      const auto* newline = static_cast<const uint8_t*>(std::memchr(data + i, '\n', size - i));
      if (newline == nullptr) {
        return size;
      }
      i = static_cast<std::size_t>(newline - data) + 1;
      body_phase_ = BodyPhase::kLineStart;
      continue;
    }
    const uint8_t byte = data[i++];
    switch (body_phase_) {
      case BodyPhase::kLineStart:
        body_phase_ = byte == '.' ? BodyPhase::kDot
                      : byte == '\n' ? BodyPhase::kLineStart
                                     : BodyPhase::kMidLine;
        break;
      case BodyPhase::kDot:
        if (byte == '\n') {
          end_body();
          return i;
        }
        body_phase_ = byte == '\r' ? BodyPhase::kDotCr : BodyPhase::kMidLine;
        break;
      case BodyPhase::kDotCr:
        if (byte == '\n') {
          end_body();
          return i;
        }
        body_phase_ = BodyPhase::kMidLine;
        break;
      case BodyPhase::kMidLine:
        break;
    }
  }
  return size;
}

void SmtpSession::end_body() noexcept {
  push(PendingKind::kDataEnd, body_transaction_, body_serial_);
  client_transaction_ = 0;
  client_state_ = ClientState::kCommand;
  body_doubtful_ = false;
}

void SmtpSession::consume_tls_check(uint8_t byte) noexcept {
  // A TLS record header: content type 22 (handshake), version 3.0 .. 3.4.
  const bool match = (tls_held_count_ == 0 && byte == 0x16) || (tls_held_count_ == 1 && byte == 0x03) ||
                     (tls_held_count_ == 2 && byte <= 0x04);
  if (match && tls_held_count_ < 2) {
    tls_held_[tls_held_count_++] = byte;
    return;
  }
  if (match) {
    start_tls(byte);
    return;
  }
  // Plaintext after STARTTLS: a decrypted capture or a broken client. If the server's 220 has
  // been seen it is an anomaly now; if not yet, when it arrives.
  if (starttls_reply_ == StartTlsReply::kAccepted) {
    anomaly(SmtpAnomalyKind::kPlaintextAfterStartTls, kClient);
  } else {
    plaintext_after_starttls_ = true;
  }
  leave_tls_check();
}

void SmtpSession::leave_tls_check() noexcept {
  client_state_ = ClientState::kCommand;
  const uint8_t held = tls_held_count_;
  tls_held_count_ = 0;
  if (held > 0) {
    consume_command_bytes(tls_held_.data(), held);  // no line end among them: buffered only
  }
}

void SmtpSession::start_tls(uint8_t minor_version) noexcept {
  emit(TlsStarted{{0x16, 0x03, minor_version}});
  end_through(last_transaction_, false, 0, TransactionEndReason::kTlsStarted);
  encrypted_ = true;
  client_state_ = ClientState::kStopped;
  pending_count_ = 0;
}

void SmtpSession::push(PendingKind kind, uint32_t transaction, uint32_t detail) noexcept {
  if (pending_count_ == pending_capacity_) {
    // Its reply will be read as a reply without a command; nothing older is displaced, so
    // replies to the commands already queued still match.
    anomaly(SmtpAnomalyKind::kPipelineOverflow, kClient);
    return;
  }
  const uint32_t slot = (pending_head_ + pending_count_) % pending_capacity_;
  pending_[slot] = Pending{transaction, detail, kind};
  ++pending_count_;
}

// ---- server stream -------------------------------------------------------------------------

void SmtpSession::feed_server(const uint8_t* data, std::size_t size) noexcept {
  std::size_t i = 0;
  while (i < size && !encrypted_) {
    if (server_skip_line_) {
      const auto* newline = static_cast<const uint8_t*>(std::memchr(data + i, '\n', size - i));
      if (newline == nullptr) {
        return;
      }
      i = static_cast<std::size_t>(newline - data) + 1;
      server_skip_line_ = false;
      continue;
    }
    if (reply_digits_ == 0 && size - i >= 4 && data[i + 3] == ' ') {
      // The usual last line of a reply, "ddd " whole in this chunk: read at once.
      const unsigned d0 = data[i] - '0';
      const unsigned d1 = data[i + 1] - '0';
      const unsigned d2 = data[i + 2] - '0';
      if (d0 <= 9 && d1 <= 9 && d2 <= 9) {
        i += 4;
        server_skip_line_ = true;
        continuation_code_ = 0;
        on_reply(static_cast<uint16_t>(d0 * 100 + d1 * 10 + d2));
        continue;
      }
    }
    const uint8_t byte = data[i++];
    if (reply_digits_ < 3) {
      if (byte >= '0' && byte <= '9') {
        reply_code_ = static_cast<uint16_t>(reply_code_ * 10 + (byte - '0'));
        ++reply_digits_;
        continue;
      }
      anomaly(SmtpAnomalyKind::kMalformedReply, kServer);
      server_skip_line_ = byte != '\n';
    } else if (byte == ' ' || byte == '\r' || byte == '\n') {
      // The last line of a reply ("250 ", or a bare "250"): the reply counts here, once.
      server_skip_line_ = byte != '\n';
      const uint16_t code = reply_code_;
      reply_digits_ = 0;
      reply_code_ = 0;
      continuation_code_ = 0;
      on_reply(code);
      continue;
    } else if (byte == '-') {
      server_skip_line_ = true;  // a continuation line of a multi-line reply
      continuation_code_ = reply_code_;
    } else {
      anomaly(SmtpAnomalyKind::kMalformedReply, kServer);
      server_skip_line_ = byte != '\n';
    }
    reply_digits_ = 0;
    reply_code_ = 0;
  }
}

void SmtpSession::on_reply(uint16_t code) noexcept {
  const bool head_is_starttls =
      pending_count_ > 0 && pending_[pending_head_].kind == PendingKind::kStartTls;
  if (!greeting_seen_ && ((code == 220 && !head_is_starttls) || pending_count_ == 0)) {
    // The greeting answers no command, even when the client spoke before it in our feed.
    greeting_seen_ = true;
    first_line_check_ = false;  // a fresh session: its first line is a command, not content
    return;
  }
  if (!client_lagging_ && early_count_ > 0) {
    // The client caught up and left these unanswered: they answered nothing we saw.
    for (uint8_t n = 0; n < early_count_; ++n) {
      anomaly(SmtpAnomalyKind::kReplyWithoutCommand, kServer);
    }
    early_count_ = 0;
  }
  if (pending_count_ == 0 && client_lagging_ && early_count_ < kMaxEarlyReplies &&
      client_state_ == ClientState::kCommand) {
    early_replies_[early_count_++] = code;  // its command is still behind a hole
    return;
  }
  if (pending_count_ == 0) {
    anomaly(SmtpAnomalyKind::kReplyWithoutCommand, kServer);
    if (client_state_ == ClientState::kDataBody && body_doubtful_) {
      // The server speaks, so it is not reading content: the terminator (or a refusal of
      // DATA) was lost. The client resumes with commands at its next line, outside the
      // transaction (after a lost terminator it is over; after a refusal clients RSET).
      client_state_ = ClientState::kCommand;
      client_transaction_ = 0;
      line_discard_ = body_phase_ != BodyPhase::kLineStart;
      body_doubtful_ = false;
    }
    return;
  }
  greeting_seen_ = true;  // the greeting comes first: later replies answer commands
  const Pending command = pending_[pending_head_];
  if (command.kind == PendingKind::kAuth && code == 334) {
    return;  // a SASL challenge: the exchange goes on, AUTH stays outstanding
  }
  if (lmtp_ && (command.kind == PendingKind::kDataEnd || command.kind == PendingKind::kBdatLast) &&
      !count_delivery_reply(command, code)) {
    return;  // more per-recipient replies to this content follow
  }
  pending_head_ = (pending_head_ + 1) % pending_capacity_;
  --pending_count_;
  apply_reply(command, code);
}

bool SmtpSession::count_delivery_reply(const Pending& command, uint16_t code) noexcept {
  reach(command.transaction);
  const uint32_t n = lmtp_replies_seen_++;
  if (lmtp_accepted_count_ > 0) {
    const AcceptedRecipient accepted =
        n < kMaxLmtpRecipients ? lmtp_accepted_[n] : AcceptedRecipient{command.transaction, 0};
    emit(DeliveryReply{accepted.transaction, accepted.recipient, code});
  }
  lmtp_delivered_any_ = lmtp_delivered_any_ || is_positive(code);
  return lmtp_replies_seen_ >= std::max<uint32_t>(1, lmtp_accepted_count_);
}

void SmtpSession::settle_server_for_client_line() noexcept {
  if (continuation_code_ != 0 && pending_count_ > 0 &&
      pending_[pending_head_].kind == PendingKind::kHelo) {
    const uint16_t code = continuation_code_;
    continuation_code_ = 0;
    server_skip_line_ = false;
    reply_digits_ = 0;
    reply_code_ = 0;
    on_reply(code);
    return;
  }
  if (server_skip_line_ && continuation_code_ == 0) {
    server_skip_line_ = false;  // the rest of a line whose code was already read
  }
}

void SmtpSession::drain_early_replies() noexcept {
  uint8_t used = 0;
  while (used < early_count_ && pending_count_ > 0 && !encrypted_) {
    const uint16_t code = early_replies_[used++];
    const bool lagging = client_lagging_;
    client_lagging_ = true;  // keep the rest of the bank while it is being applied
    on_reply(code);
    client_lagging_ = lagging;
  }
  if (used > 0) {
    for (uint8_t i = used; i < early_count_; ++i) {
      early_replies_[i - used] = early_replies_[i];
    }
    early_count_ = static_cast<uint8_t>(early_count_ - used);
  }
}

void SmtpSession::reach(uint32_t transaction) noexcept {
  reached_through_ = std::max(reached_through_, transaction);
}

void SmtpSession::apply_reply(const Pending& command, uint16_t code) noexcept {
  reach(command.transaction);
  const bool positive = is_positive(code);
  switch (command.kind) {
    case PendingKind::kMail:
      if (positive) {
        end_through(command.transaction - 1, false, code, TransactionEndReason::kNewMail);
        server_mail_ = command.transaction;
      } else if (client_transaction_ == command.transaction && server_mail_ > ended_through_) {
        // A refused nested MAIL: the server is still in the older transaction, which later
        // RCPTs join.
        client_transaction_ = server_mail_;
        client_mail_transaction_ = server_mail_;
      }
      break;
    case PendingKind::kRcpt:
      emit(RcptReply{command.transaction, command.detail, code});
      if (positive) {
        // LMTP answers the content once for each of these (kept in any dialect: it is cheap).
        if (lmtp_accepted_count_ < kMaxLmtpRecipients) {
          lmtp_accepted_[lmtp_accepted_count_] = AcceptedRecipient{command.transaction, command.detail};
        } else if (lmtp_) {
          anomaly(SmtpAnomalyKind::kLmtpRecipientsUntracked, kServer);
        }
        ++lmtp_accepted_count_;
      }
      break;
    case PendingKind::kData:
      if (client_state_ == ClientState::kDataBody && body_serial_ == command.detail) {
        if (code == 354) {
          body_doubtful_ = false;
        } else {
          // DATA refused: the client sends no content, so what follows are commands.
          client_state_ = ClientState::kCommand;
          line_discard_ = body_phase_ != BodyPhase::kLineStart;
        }
      }
      break;
    case PendingKind::kDataEnd:
    case PendingKind::kBdatLast: {
      // LMTP: delivered when any recipient's reply was; `code` is the last of those replies.
      const bool delivered = lmtp_replies_seen_ > 0 ? lmtp_delivered_any_ : positive;
      end_through(reached_through_, delivered, code,
                  delivered ? TransactionEndReason::kDataAccepted : TransactionEndReason::kDataRejected);
      break;
    }
    case PendingKind::kHelo:
    case PendingKind::kRset:
      if (positive) {
        end_through(reached_through_, false, code, TransactionEndReason::kReset);
      }
      break;
    case PendingKind::kQuit:
      end_through(reached_through_, false, code, TransactionEndReason::kQuit);
      break;
    case PendingKind::kStartTls:
      if (code == 220) {
        starttls_reply_ = StartTlsReply::kAccepted;
        end_through(reached_through_, false, code, TransactionEndReason::kTlsStarted);
        if (plaintext_after_starttls_) {
          anomaly(SmtpAnomalyKind::kPlaintextAfterStartTls, kClient);
          plaintext_after_starttls_ = false;
        }
      } else {
        starttls_reply_ = StartTlsReply::kNone;
        plaintext_after_starttls_ = false;
        if (client_state_ == ClientState::kTlsCheck) {
          leave_tls_check();  // refused (454): the session goes on in plaintext
        }
      }
      break;
    case PendingKind::kAuth:
      auth_active_ = false;
      break;
    case PendingKind::kBdat:
    case PendingKind::kOther:
      break;
  }
}

void SmtpSession::end_through(uint32_t last, bool delivered, uint16_t code,
                              TransactionEndReason reason) noexcept {
  while (ended_through_ < last) {
    ++ended_through_;
    emit(TransactionEnd{ended_through_, delivered, code, reason});
  }
  reached_through_ = std::max(reached_through_, ended_through_);
  if (server_mail_ <= ended_through_) {
    server_mail_ = 0;
  }
  // Every caller marks a boundary of the server's transaction (a MAIL accepted, RSET, the end of
  // content, QUIT, TLS): LMTP's accepted recipients start again.
  lmtp_accepted_count_ = 0;
  lmtp_replies_seen_ = 0;
  lmtp_delivered_any_ = false;
}

// ---- gaps and the end ----------------------------------------------------------------------

void SmtpSession::on_gap(Direction direction, uint64_t byte_count) noexcept {
  if (encrypted_ || finished_ || byte_count == 0) {
    return;
  }
  anomaly(SmtpAnomalyKind::kResyncAfterGap, direction);
  if (direction == kServer) {
    server_skip_line_ = true;
    reply_digits_ = 0;
    reply_code_ = 0;
    continuation_code_ = 0;
    early_count_ = 0;
    greeting_seen_ = true;
    // The lost bytes may have held any number of replies: every outstanding command is
    // presumed answered, effects unknown. Their ids count as reached by the server.
    for (uint32_t n = 0; n < pending_count_; ++n) {
      const Pending& command = pending_[(pending_head_ + n) % pending_capacity_];
      reach(command.transaction);
      if (command.kind == PendingKind::kData && client_state_ == ClientState::kDataBody &&
          body_serial_ == command.detail) {
        body_doubtful_ = true;  // the 354 (or a refusal) is lost: content unconfirmed
      }
    }
    pending_count_ = 0;
    pending_head_ = 0;
    lmtp_replies_seen_ = 0;
    lmtp_delivered_any_ = false;
    return;
  }
  switch (client_state_) {
    case ClientState::kBdatChunk:
      if (byte_count < bdat_remaining_) {
        bdat_remaining_ -= byte_count;
        return;  // still exactly in step
      }
      client_state_ = ClientState::kCommand;
      line_discard_ = byte_count > bdat_remaining_;
      gap_line_check_ = line_discard_;
      first_line_check_ = line_discard_;
      bdat_remaining_ = 0;
      line_length_ = 0;
      line_too_long_ = false;
      return;
    case ClientState::kDataBody:
      // Content is where most bytes are; stay in it, but a line start is no longer known.
      body_phase_ = BodyPhase::kMidLine;
      body_doubtful_ = true;
      return;
    case ClientState::kTlsCheck:
      tls_held_count_ = 0;
      client_state_ = ClientState::kCommand;
      [[fallthrough]];
    case ClientState::kCommand:
      // Replies that arrived while this hole was open answered what the hole swallowed (the
      // line it cut, the lines inside it and the line it cut short): they are used up, and the
      // cut tail needs no stand-in. Without such replies, the tail gets a stand-in below.
      gap_answered_ = early_count_ > 0;
      early_count_ = 0;
      line_discard_ = true;
      gap_line_check_ = true;
      line_length_ = 0;
      line_too_long_ = false;
      first_line_check_ = true;
      return;
    case ClientState::kStopped:
      return;
  }
}

void SmtpSession::finish() noexcept {
  if (finished_) {
    return;
  }
  finished_ = true;
  end_through(last_transaction_, false, 0, TransactionEndReason::kSessionEnd);
}

}  // namespace misdirect::inspect
