// SmtpSession: the SMTP protocol machine for one TCP connection, fed both byte streams.
//
// Framing and meaning are separate: the client stream is cut into command lines (bounded by the
// caller's line buffer), DATA content (skipped to its terminator without copying) and BDAT chunks
// (exactly n octets skipped); the server stream is read as reply codes only. Commands go into a
// fixed ring of outstanding commands that the server's replies are matched against in order.
//
// Transactions (ids from 1, per session):
//   * Ids are given on the client side, when a command line is parsed: every MAIL FROM takes a
//     new id; an RCPT TO joins the client's open transaction, or takes a new "implicit" id when
//     none is open (RCPT before MAIL, after RSET, after the end of data, ...).
//   * Ends are decided by the server, when the reply to the ending command is read: 2xx to a
//     MAIL ends the older ones (kNewMail); 2xx to RSET/HELO/EHLO (kReset); any reply to QUIT
//     (kQuit); 220 to STARTTLS (kTlsStarted); the reply to the end of DATA or to BDAT LAST
//     (2xx kDataAccepted + delivered, else kDataRejected). finish() and a TLS handshake end what
//     is left (reply_code 0 when no reply ended it).
//   * Every id whose command the server has answered belongs to the server's open transaction
//     until one of those ends; so an id rejected at MAIL (550, or 503 to a nested MAIL) ends
//     together with the transaction the server was really in, with the same outcome.
//   * A rejected nested MAIL: RCPTs the client sends after its 503 has arrived carry the older,
//     still-open transaction's id; RCPTs pipelined before the 503 arrived carry the nested id,
//     which then ends together with the older one.
//   * Every transaction id carried by a MailFrom or RcptTo gets exactly one TransactionEnd, after
//     every RcptReply that arrived before its end.
//
// Content: DATA starts skipping content as soon as the client's DATA line is parsed (one-sided
// captures have no 354); a non-354 reply to it returns the client to commands. The content ends
// at a line holding only "." with CRLF or bare LF line ends ("\r\n.\r\n", "\n.\n", and the
// mixes); dot-stuffed lines ("..x") are content. BDAT n skips exactly n octets right after its
// line, with no reply needed. STARTTLS: the client's next three octets after the command decide
// (TLS record header 16 03 00..04 → TlsStarted, everything ends with kTlsStarted, parsing stops).
//
// LMTP (RFC 2033) is the same envelope with LHLO for EHLO; the one difference on the wire is that
// the end of the content (the "." line, or BDAT LAST) is answered once per recipient the server
// accepted, in RCPT order, instead of once. The client's greeting decides the dialect (LHLO:
// LMTP; HELO/EHLO: SMTP); before any greeting, SmtpConfig::presume_lmtp does (port 24). In LMTP
// the accepted recipients of the server's open transaction are remembered (numbers up to
// kMaxLmtpRecipients; beyond, counted off as kLmtpRecipientsUntracked), the end of content waits
// for that many replies (one when none was seen accepted: RCPT replies lost or a one-sided
// capture), each given as a DeliveryReply, and the transaction then ends delivered when at least
// one recipient's reply was 2xx (kDataAccepted), else kDataRejected.
//
// Pickup: when the first client line of a session (before any server greeting) or the first
// whole line after a client gap is not a command, the stream is presumed to be inside message
// content and skipped to its terminator, so body lines never become recipients. Content that was
// entered that way, or that lost bytes or its 354 to a gap, is also ended by any server reply that
// matches no outstanding command (the server is not reading content if it speaks); that reply is
// not interpreted, and the client continues outside any transaction.
//
// Gaps: a client gap in command mode drops the line it cut and resynchronises on the next line;
// a line that starts with a command verb right where the gap ends is taken as whole (the gap
// ended at a line end), not as the tail of a cut line (if the first whole line is not a command, the gap is presumed to have hidden a DATA command and the
// client is skipped as message content up to the terminator); in DATA content it stays in the
// content; in a BDAT chunk it is subtracted exactly. A server gap drops every outstanding
// command: their replies are presumed lost (their RCPTs get no RcptReply, their effects are not
// guessed) and replies resume on the next line.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "inspect/smtp_event.h"

namespace misdirect::inspect {

struct SmtpConfig {
  uint32_t max_line_bytes = 4096;      // longer lines are consumed and counted, never buffered
  uint32_t max_pending_commands = 64;  // pipelined commands awaiting replies (at most 128)
  bool presume_lmtp = false;           // LMTP until the client's greeting says (port 24)
};

class SmtpSession {
 public:
  static constexpr uint32_t kMaxPendingCommands = 128;
  // BDAT sizes above this are refused as malformed (kMalformedBdat) and not skipped.
  static constexpr uint64_t kMaxBdatChunkBytes = uint64_t{1} << 40;
  // LMTP: accepted recipients of one transaction whose numbers are remembered for the replies
  // after the content (RFC 5321 asks servers to take at least 100 recipients).
  static constexpr uint32_t kMaxLmtpRecipients = 128;

  // `client_line_buffer` holds one client command line (its size is the line bound the caller
  // chose, normally config.max_line_bytes); the caller owns it so sessions can live in pools.
  // Server replies need no line buffer: only their codes and continuation marks are read.
  SmtpSession(const SmtpConfig& config, SmtpEventSink& sink,
              std::span<char> client_line_buffer) noexcept;

  // Bytes of one direction, in order. Any chunking yields the same events.
  void feed(Direction direction, std::span<const uint8_t> bytes) noexcept;
  // `byte_count` bytes of this direction were lost; resynchronise on the next line.
  void on_gap(Direction direction, uint64_t byte_count) noexcept;
  // How many transaction ids the client has opened so far (ids run from 1).
  uint32_t transactions_opened() const noexcept { return last_transaction_; }

  // The connection ended: ends the open transaction(s) with kSessionEnd.
  void finish() noexcept;

  bool encrypted() const noexcept;
  // The session speaks LMTP (an LHLO, or presumed from the port and not contradicted).
  bool lmtp() const noexcept { return lmtp_; }
  // Octets of the last feed() the machine read: all of them, unless parsing stopped at a TLS
  // record header inside them — then the TLS stream goes on from this offset.
  std::size_t last_feed_consumed() const noexcept { return last_feed_consumed_; }

  // The client stream has bytes still in flight behind a hole (the reassembler holds later
  // data): server replies that match no outstanding command may answer commands not yet seen.
  // The caller says so before feeding server bytes; such replies are kept (bounded) and matched
  // to the client's next commands instead of being dropped.
  void set_client_lagging(bool lagging) noexcept { client_lagging_ = lagging; }

 private:
  static constexpr uint32_t kMaxEarlyReplies = 16;

  // What the client stream is carrying.
  enum class ClientState : uint8_t {
    kCommand,    // at the start, after a command line, after DATA content or a BDAT chunk, and
                 // after a refused DATA or STARTTLS: command lines (or SASL responses in AUTH)
    kDataBody,   // on a DATA command line (not waiting for 354, so one-sided captures work), or
                 // presumed after a resync whose first line is not a command: skip to "." line
    kBdatChunk,  // after a valid "BDAT n" with n > 0: exactly n octets are skipped
    kTlsCheck,   // after a STARTTLS line: the next three octets decide TLS record or plaintext
    kStopped,    // after a TLS record header: the rest is encrypted, nothing more is parsed
  };
  // Where the DATA terminator scan is inside the current content line.
  enum class BodyPhase : uint8_t {
    kLineStart,  // on entering content and after every LF: a "." here may start the terminator
    kMidLine,    // after any other octet, and after a gap: jump to the next LF
    kDot,        // after "." at a line start: LF ends the content, CR may, else dot-stuffing
    kDotCr,      // after ".\r" at a line start: LF ends the content
  };
  enum class StartTlsReply : uint8_t { kNone, kPending, kAccepted };

  // What an outstanding command does when its reply arrives.
  enum class PendingKind : uint8_t {
    kOther, kHelo, kMail, kRcpt, kData, kDataEnd, kBdat, kBdatLast, kRset, kQuit, kStartTls, kAuth,
  };
  struct Pending {
    uint32_t transaction;  // the client's transaction when it was sent (0: none)
    uint32_t detail;       // RCPT: recipient number; DATA / end of data: the body serial
    PendingKind kind;
  };

  void emit(const SmtpEvent& event) noexcept;
  void anomaly(SmtpAnomalyKind kind, Direction direction) noexcept;

  void feed_client(const uint8_t* data, std::size_t size) noexcept;
  std::size_t consume_command_bytes(const uint8_t* data, std::size_t size) noexcept;
  std::size_t consume_body(const uint8_t* data, std::size_t size) noexcept;
  void consume_tls_check(uint8_t byte) noexcept;
  void leave_tls_check() noexcept;
  void on_client_line(std::string_view line, bool too_long) noexcept;
  void on_command(SmtpVerb verb, std::string_view arguments) noexcept;
  void on_mail(std::string_view arguments) noexcept;
  void on_rcpt(std::string_view arguments) noexcept;
  void on_bdat(std::string_view arguments) noexcept;
  void enter_body(bool presumed) noexcept;
  void end_body() noexcept;
  void push(PendingKind kind, uint32_t transaction, uint32_t detail) noexcept;

  void feed_server(const uint8_t* data, std::size_t size) noexcept;
  void on_reply(uint16_t code) noexcept;
  void apply_reply(const Pending& command, uint16_t code) noexcept;
  // LMTP: one of the replies to the end of content; true when it was the last one expected.
  bool count_delivery_reply(const Pending& command, uint16_t code) noexcept;
  void reach(uint32_t transaction) noexcept;
  void end_through(uint32_t last, bool delivered, uint16_t code, TransactionEndReason reason) noexcept;
  void start_tls(uint8_t minor_version) noexcept;
  // A client line is complete: whatever server line is half read was complete for the client
  // (a client answers only after a whole line), so it ends here; an unfinished multi-line reply
  // to EHLO/HELO ends too (the client would not go on before the last line).
  void settle_server_for_client_line() noexcept;
  // Replies that arrived before their commands (see set_client_lagging) go to the commands
  // now queued, in order.
  void drain_early_replies() noexcept;

  SmtpEventSink& sink_;
  std::span<char> line_buffer_;
  uint32_t line_bound_;
  uint32_t pending_capacity_;

  // Client framing.
  ClientState client_state_ = ClientState::kCommand;
  BodyPhase body_phase_ = BodyPhase::kLineStart;
  uint32_t line_length_ = 0;
  bool line_too_long_ = false;
  bool line_discard_ = false;     // after a gap: drop bytes up to the next line end
  bool gap_line_check_ = false;   // the discarded line is the one a client gap ended in: kept
                                  // when it starts with a command (the gap ended at a line end)
  bool first_line_check_ = true;  // the next client line decides command vs presumed content
  uint8_t gap_placeholders_ = 0;  // queued stand-ins for lines cut by a gap (taken back if the
                                  // next line shows the gap left us in message content)
  bool auth_active_ = false;      // client lines are SASL responses, never parsed or reported
  bool body_doubtful_ = false;    // content entered without a confirming 354, or after a gap
  uint8_t tls_held_count_ = 0;
  std::array<uint8_t, 2> tls_held_{};
  uint64_t bdat_remaining_ = 0;
  uint32_t body_serial_ = 0;      // which DATA the current content belongs to
  uint32_t body_transaction_ = 0;
  uint32_t bdat_transaction_ = 0;  // the transaction of the BDAT chunk being read

  // Server framing: the reply code is read digit by digit, the rest of each line skipped.
  bool server_skip_line_ = false;
  uint8_t reply_digits_ = 0;
  uint16_t reply_code_ = 0;
  uint16_t continuation_code_ = 0;  // inside a multi-line reply: the code of its "ddd-" lines
  bool greeting_seen_ = false;
  bool client_lagging_ = false;
  bool gap_answered_ = false;  // the replies to what the last client gap swallowed were seen
  uint8_t early_count_ = 0;
  std::array<uint16_t, kMaxEarlyReplies> early_replies_{};
  StartTlsReply starttls_reply_ = StartTlsReply::kNone;
  bool plaintext_after_starttls_ = false;

  // Transactions: ids (ended_through_, reached_through_] are the server's open transaction;
  // (reached_through_, last_transaction_] were sent but not yet answered.
  uint32_t last_transaction_ = 0;
  uint32_t reached_through_ = 0;
  uint32_t ended_through_ = 0;
  uint32_t client_transaction_ = 0;  // the id new RCPTs join (0: none open on the client side)
  uint32_t server_mail_ = 0;         // the id of the MAIL the server accepted, while open
  uint32_t client_mail_transaction_ = 0;  // client_transaction_ equals it when a MAIL opened it
  uint32_t recipient_count_ = 0;
  uint32_t data_count_ = 0;

  // Only [pending_head_, pending_head_ + pending_count_) is ever read: not zeroed per session.
  std::array<Pending, kMaxPendingCommands> pending_;
  uint32_t pending_head_ = 0;
  uint32_t pending_count_ = 0;

  // LMTP: the recipients the server accepted in its open transaction, in RCPT order (only the
  // first lmtp_accepted_count_ entries, at most kMaxLmtpRecipients, are ever read), and how far
  // the replies after the content have come.
  struct AcceptedRecipient {
    uint32_t transaction;
    uint32_t recipient;
  };
  bool lmtp_ = false;
  bool lmtp_delivered_any_ = false;
  uint32_t lmtp_accepted_count_ = 0;
  uint32_t lmtp_replies_seen_ = 0;
  std::array<AcceptedRecipient, kMaxLmtpRecipients> lmtp_accepted_;

  bool encrypted_ = false;
  std::size_t last_feed_consumed_ = 0;
  bool finished_ = false;
};

}  // namespace misdirect::inspect
