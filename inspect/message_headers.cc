// MessageHeaderParser: a byte-at-a-time state machine over the header block (skipped lines are
// jumped over with memchr), with the value of a wanted field collected unfolded in raw_ and
// decoded when the next line shows that the field has ended.
#include "inspect/message_headers.h"

#include <cstring>
#include <optional>

#include "inspect/header_text.h"

namespace misdirect::inspect {
namespace {

constexpr std::string_view kFieldNames[kHeaderFieldCount] = {
    "from", "to", "cc", "subject", "message-id", "date", "x-mailer", "reply-to"};

bool is_space(char c) noexcept { return c == ' ' || c == '\t'; }

// A field-name byte: printable US-ASCII other than ':' (RFC 5322 ftext).
bool is_name_byte(uint8_t byte) noexcept { return byte >= 33 && byte <= 126 && byte != ':'; }

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

// Splits an address list at the commas between addresses: not inside "quoted strings" (with
// backslash escapes), (comments, nested) or <angle brackets>. Calls `item` with each non-empty,
// trimmed address.
template <typename Item>
void split_address_list(std::string_view list, Item&& item) noexcept {
  bool quoted = false;
  bool escaped = false;
  int comment_depth = 0;
  bool angle = false;
  std::size_t start = 0;
  const auto emit = [&](std::size_t end) {
    std::string_view part = list.substr(start, end - start);
    while (!part.empty() && is_space(part.front())) part.remove_prefix(1);
    while (!part.empty() && is_space(part.back())) part.remove_suffix(1);
    if (!part.empty()) {
      item(part);
    }
  };
  for (std::size_t i = 0; i < list.size(); ++i) {
    const char c = list[i];
    if (escaped) {
      escaped = false;
      continue;
    }
    if (c == '\\' && (quoted || comment_depth > 0)) {
      escaped = true;
    } else if (quoted) {
      quoted = c != '"';
    } else if (c == '"' && comment_depth == 0) {
      quoted = true;
    } else if (c == '(') {
      ++comment_depth;
    } else if (c == ')' && comment_depth > 0) {
      --comment_depth;
    } else if (comment_depth > 0) {
      continue;
    } else if (c == '<') {
      angle = true;
    } else if (c == '>') {
      angle = false;
    } else if (c == ',' && !angle) {
      emit(i);
      start = i + 1;
    }
  }
  emit(list.size());
}

}  // namespace

std::string_view header_field_name(HeaderField field) noexcept {
  const auto index = static_cast<std::size_t>(field);
  return index < kHeaderFieldCount ? kFieldNames[index] : std::string_view("?");
}

bool is_address_list(HeaderField field) noexcept {
  return field == HeaderField::kFrom || field == HeaderField::kTo || field == HeaderField::kCc || field == HeaderField::kReplyTo;
}

std::string_view header_block_end_name(HeaderBlockEnd end) noexcept {
  switch (end) {
    case HeaderBlockEnd::kOpen: return "open";
    case HeaderBlockEnd::kBlankLine: return "blank_line";
    case HeaderBlockEnd::kNotAHeader: return "not_a_header";
    case HeaderBlockEnd::kByteLimit: return "byte_limit";
    case HeaderBlockEnd::kContentEnd: return "content_end";
  }
  return "?";
}

std::string_view next_list_item(std::string_view& list) noexcept {
  if (list.empty()) {
    return {};
  }
  const std::size_t separator = list.find('\0');
  const std::string_view item = list.substr(0, separator);
  list = separator == std::string_view::npos ? std::string_view() : list.substr(separator + 1);
  return item;
}

std::string_view address_in_mailbox(std::string_view mailbox) noexcept {
  // "Name <addr>": the last angle-bracketed part outside quotes (a decoded display name can hold
  // "<...>" of its own, before the real address). A decoded display name can also hold a lone '"'
  // that leaves the quotes open to the end: then the brackets are looked for again, quotes ignored
  // (an addr-spec is never an encoded-word, so the real one is still there as sent).
  const auto last_angled = [mailbox](bool honour_quotes, bool& quotes_open) {
    bool quoted = false;
    std::size_t open = std::string_view::npos;
    std::string_view last;
    bool angled = false;
    for (std::size_t i = 0; i < mailbox.size(); ++i) {
      const char c = mailbox[i];
      if (honour_quotes && c == '\\' && quoted) {
        ++i;
      } else if (honour_quotes && c == '"') {
        quoted = !quoted;
      } else if (c == '<' && !quoted) {
        open = i;
      } else if (c == '>' && !quoted && open != std::string_view::npos) {
        last = mailbox.substr(open + 1, i - open - 1);
        angled = true;
        open = std::string_view::npos;
      }
    }
    quotes_open = quoted;
    return angled ? std::optional<std::string_view>(last) : std::nullopt;
  };
  bool quotes_open = false;
  std::optional<std::string_view> angled = last_angled(true, quotes_open);
  if (!angled && quotes_open) {
    angled = last_angled(false, quotes_open);
  }
  if (angled) {
    return angled->find('@') != std::string_view::npos ? *angled : std::string_view();
  }
  // "addr (Name)" or a bare addr: the text before any comment, trimmed.
  std::string_view bare = mailbox.substr(0, mailbox.find('('));
  while (!bare.empty() && is_space(bare.front())) bare.remove_prefix(1);
  while (!bare.empty() && is_space(bare.back())) bare.remove_suffix(1);
  if (bare.find('@') == std::string_view::npos || bare.find(' ') != std::string_view::npos) {
    return {};
  }
  return bare;
}

void MessageHeaderParser::start(MessageHeaders& out, Framing framing) noexcept {
  out.clear();
  out_ = &out;
  framing_ = framing;
  state_ = State::kLineStart;
  block_bytes_ = 0;
  any_field_ = false;
  collecting_ = false;
  raw_truncated_ = false;
  name_length_ = 0;
  name_too_long_ = false;
  raw_length_ = 0;
}

void MessageHeaderParser::append_raw(char c) noexcept {
  if (raw_length_ < kMaxRawValueBytes) {
    raw_[raw_length_++] = c;
  } else {
    raw_truncated_ = true;
  }
}

void MessageHeaderParser::complete_field() noexcept {
  if (!collecting_) {
    return;
  }
  collecting_ = false;
  const std::string_view raw(raw_, raw_length_);
  const std::span<char> buffer = out_->buffer(field_);
  bool truncated = raw_truncated_;
  bool replaced = false;
  std::size_t length = 0;
  if (field_ == HeaderField::kMessageId || field_ == HeaderField::kDate) {
    const HeaderTextResult result = copy_header_text(raw, buffer);
    length = result.length;
    truncated = truncated || result.truncated;
    replaced = result.replaced;
  } else if (is_address_list(field_)) {
    split_address_list(raw, [&](std::string_view address) {
      if (truncated && length >= buffer.size()) {
        return;
      }
      std::size_t at = length;
      if (length > 0) {
        if (length >= buffer.size()) {
          truncated = true;
          return;
        }
        buffer[length] = '\0';
        at = length + 1;
      }
      const HeaderTextResult result = decode_header_text(address, buffer.subspan(at));
      replaced = replaced || result.replaced;
      if (result.truncated) {
        truncated = true;
      }
      if (result.length > 0) {
        length = at + result.length;
      }
    });
  } else {
    const HeaderTextResult result = decode_header_text(raw, buffer);
    length = result.length;
    truncated = truncated || result.truncated;
    replaced = result.replaced;
  }
  out_->set_length(field_, length);
  if (truncated) {
    out_->mark_truncated();
  }
  if (replaced) {
    out_->mark_replaced();
  }
}

void MessageHeaderParser::end_block(HeaderBlockEnd end) noexcept {
  complete_field();
  if (end == HeaderBlockEnd::kByteLimit) {
    out_->mark_truncated();
  }
  out_->set_end(end, block_bytes_);
}

void MessageHeaderParser::name_complete() noexcept {
  any_field_ = true;
  state_ = State::kSkipLine;
  if (name_too_long_) {
    return;
  }
  const std::string_view name(name_, name_length_);
  for (std::size_t i = 0; i < kHeaderFieldCount; ++i) {
    const auto field = static_cast<HeaderField>(i);
    if (name.size() == kFieldNames[i].size() && std::memcmp(name.data(), kFieldNames[i].data(), name.size()) == 0) {
      if (!out_->has(field)) {
        field_ = field;
        collecting_ = true;
        raw_length_ = 0;
        raw_truncated_ = false;
        state_ = State::kValue;
      }
      return;
    }
  }
}

// The first byte of a line (after a removed stuffing dot).
void MessageHeaderParser::line_start_byte(uint8_t byte) noexcept {
  if (byte == '\n') {
    end_block(HeaderBlockEnd::kBlankLine);
    return;
  }
  if (byte == '\r') {
    state_ = State::kBlankCr;
    return;
  }
  if (is_space(static_cast<char>(byte))) {
    // A continuation: unfolding keeps the whitespace and drops the line break before it.
    if (collecting_) {
      append_raw(static_cast<char>(byte));
      state_ = State::kValue;
    } else if (any_field_) {
      state_ = State::kSkipLine;
    } else {
      end_block(HeaderBlockEnd::kNotAHeader);
    }
    return;
  }
  complete_field();
  if (!is_name_byte(byte)) {
    end_block(HeaderBlockEnd::kNotAHeader);
    return;
  }
  name_length_ = 1;
  name_too_long_ = false;
  name_[0] = lower(static_cast<char>(byte));
  state_ = State::kName;
}

void MessageHeaderParser::feed(std::span<const uint8_t> bytes) noexcept {
  std::size_t i = 0;
  while (i < bytes.size() && !done()) {
    if (state_ == State::kSkipLine) {
      // The rest of a line that is not kept: one jump to its end.
      const std::size_t room = kMaxBlockBytes - block_bytes_;
      const std::size_t span = bytes.size() - i < room ? bytes.size() - i : room;
      const auto* newline = static_cast<const uint8_t*>(std::memchr(bytes.data() + i, '\n', span));
      if (newline == nullptr) {
        block_bytes_ += static_cast<uint32_t>(span);
        i += span;
        if (block_bytes_ >= kMaxBlockBytes) {
          end_block(HeaderBlockEnd::kByteLimit);
        }
        continue;
      }
      const std::size_t through = static_cast<std::size_t>(newline - (bytes.data() + i)) + 1;
      block_bytes_ += static_cast<uint32_t>(through);
      i += through;
      state_ = State::kLineStart;
      continue;
    }
    if (block_bytes_ >= kMaxBlockBytes) {
      end_block(HeaderBlockEnd::kByteLimit);
      return;
    }
    const uint8_t byte = bytes[i++];
    ++block_bytes_;
    switch (state_) {
      case State::kLineStart:
        if (framing_ == Framing::kDotStuffed && byte == '.') {
          state_ = State::kDotLine;
        } else {
          line_start_byte(byte);
        }
        break;
      case State::kDotLine:
        // ".." is a stuffed '.', ".\r\n" (or ".\n") ends the content; any other byte after a
        // single dot is taken as the line's first byte (the dot removed, as a server would).
        if (byte == '\r') {
          state_ = State::kDotLineCr;
        } else if (byte == '\n') {
          end_block(HeaderBlockEnd::kContentEnd);
        } else {
          line_start_byte(byte);
        }
        break;
      case State::kDotLineCr:
        if (byte == '\n') {
          end_block(HeaderBlockEnd::kContentEnd);
        } else {
          end_block(HeaderBlockEnd::kNotAHeader);
        }
        break;
      case State::kBlankCr:
        end_block(byte == '\n' ? HeaderBlockEnd::kBlankLine : HeaderBlockEnd::kNotAHeader);
        break;
      case State::kName:
        if (byte == ':') {
          name_complete();
        } else if (is_name_byte(byte)) {
          if (name_length_ < kMaxNameBytes) {
            name_[name_length_++] = lower(static_cast<char>(byte));
          } else {
            name_too_long_ = true;
          }
        } else if (is_space(static_cast<char>(byte))) {
          state_ = State::kNameSpace;
        } else {
          end_block(HeaderBlockEnd::kNotAHeader);
        }
        break;
      case State::kNameSpace:
        if (byte == ':') {
          name_complete();
        } else if (!is_space(static_cast<char>(byte))) {
          end_block(HeaderBlockEnd::kNotAHeader);
        }
        break;
      case State::kValue:
        if (byte == '\r') {
          state_ = State::kValueCr;
        } else if (byte == '\n') {
          state_ = State::kLineStart;
        } else {
          append_raw(static_cast<char>(byte));
        }
        break;
      case State::kValueCr:
        if (byte == '\n') {
          state_ = State::kLineStart;
        } else {
          // A bare CR inside a value reads as whitespace.
          append_raw(' ');
          if (byte == '\r') {
            break;
          }
          append_raw(static_cast<char>(byte));
          state_ = State::kValue;
        }
        break;
      case State::kSkipLine:
        break;
    }
  }
}

void MessageHeaderParser::finish() noexcept {
  if (!done()) {
    end_block(HeaderBlockEnd::kContentEnd);
  }
}

}  // namespace misdirect::inspect
