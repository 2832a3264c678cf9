// SmtpEvent: what the SMTP machine tells its consumer, as plain values.
//
// String views in an event point into the session's line buffer and are valid only during the
// sink call; a consumer that keeps them copies them into bounded storage of its own.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <variant>

#include "inspect/direction.h"

namespace misdirect::inspect {

// Client command verbs, case-insensitive on the wire.
enum class SmtpVerb : uint8_t {
  kHelo, kEhlo, kMail, kRcpt, kData, kBdat, kRset, kNoop, kVrfy, kExpn, kHelp, kQuit,
  kStartTls, kAuth, kLhlo, kUnknown,
};
std::string_view verb_name(SmtpVerb verb) noexcept;

// Every command line the client sent (including unknown verbs), for counting.
struct CommandSeen {
  SmtpVerb verb;
};

// HELO, EHLO, or LMTP's LHLO (RFC 2033), which makes the session LMTP from then on.
struct Helo {
  std::string_view hostname;
  bool extended;      // EHLO or LHLO rather than HELO
  bool lmtp = false;  // LHLO
};

// MAIL FROM. `address` has angle brackets and parameters removed ("" for the null sender <>).
struct MailFrom {
  uint32_t transaction;
  std::string_view address;
  std::string_view parameters;
  bool smtputf8;
};

// RCPT TO, reported as soon as the client sends it (a one-sided capture has no replies).
// `address` is the mailbox as sent without brackets, source route or parameters;
// `domain` is its domain part exactly as sent (not yet normalised).
struct RcptTo {
  uint32_t transaction;
  uint32_t recipient;  // per-session sequence number, matched by RcptReply
  std::string_view address;
  std::string_view domain;
  std::string_view parameters;
};

// The server's reply to the RCPT TO with the same `recipient` number.
struct RcptReply {
  uint32_t transaction;
  uint32_t recipient;
  uint16_t code;  // 2xx accepted, 4xx/5xx rejected
};

// LMTP only (RFC 2033): after the message content (the end of DATA, or BDAT LAST) the server
// answers once for every recipient it accepted, in RCPT order; this is that recipient's reply —
// the message was delivered to that mailbox (2xx) or not (4xx/5xx).
struct DeliveryReply {
  uint32_t transaction;
  uint32_t recipient;  // the RcptTo / RcptReply number
  uint16_t code;
};

enum class TransactionEndReason : uint8_t {
  kDataAccepted,   // 250 after DATA or BDAT LAST: delivered (LMTP: to at least one recipient)
  kDataRejected,   // 4xx/5xx after the message content (LMTP: for every recipient)
  kReset,          // RSET, or HELO/EHLO mid-transaction
  kNewMail,        // a new MAIL FROM started another transaction
  kQuit,
  kTlsStarted,
  kSessionEnd,     // finish(): the flow closed or expired
};
std::string_view transaction_end_reason_name(TransactionEndReason reason) noexcept;

// Exactly once for every transaction id that any MailFrom or RcptTo carried.
struct TransactionEnd {
  uint32_t transaction;
  bool delivered;
  uint16_t reply_code;  // 0 when no reply was seen
  TransactionEndReason reason;
};

// Message content as the client sent it, piece by piece in order: DATA content (dot-stuffed,
// up to and including the terminating "." line) or the octets of BDAT chunks (exact). The pieces
// of one message carry one transaction id (0 when the content belongs to no transaction the
// session knows: content presumed after a gap or a pickup, or DATA with no MAIL or RCPT).
// Chunking follows the input, so consumers must not depend on it.
struct MessageContent {
  uint32_t transaction;
  std::string_view bytes;
  bool dot_stuffed;  // DATA (true) or BDAT (false)
};

// The client's first bytes after the server's 220 to STARTTLS were a TLS record: the
// rest of the session is encrypted and the machine stops parsing.
// `record_header` is the first three octets of the TLS record (16 03 0x), which the machine read
// to decide; the rest of the stream follows (SmtpSession::last_feed_consumed says where).
struct TlsStarted {
  std::array<uint8_t, 3> record_header;
};

enum class SmtpAnomalyKind : uint8_t {
  kLineTooLong,
  kBinaryInCommand,
  kUnknownCommand,
  kReplyWithoutCommand,
  kMalformedReply,
  kMalformedRcpt,
  kMalformedMail,
  kMalformedBdat,
  kPlaintextAfterStartTls,
  kPipelineOverflow,
  kResyncAfterGap,
  kCommandOutOfSequence,
  // LMTP: more accepted recipients in one transaction than the session remembers numbers for;
  // their per-recipient replies are still counted off (never mistaken for other replies) but
  // carry recipient number 0.
  kLmtpRecipientsUntracked,
};
std::string_view anomaly_name(SmtpAnomalyKind kind) noexcept;

struct Anomaly {
  SmtpAnomalyKind kind;
  Direction direction;
};

using SmtpEvent = std::variant<CommandSeen, Helo, MailFrom, RcptTo, RcptReply, TransactionEnd,
                               TlsStarted, Anomaly, MessageContent, DeliveryReply>;

class SmtpEventSink {
 public:
  virtual void on_event(const SmtpEvent& event) noexcept = 0;

 protected:
  ~SmtpEventSink() = default;
};

}  // namespace misdirect::inspect
