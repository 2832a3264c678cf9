// SmtpEvent: the names of verbs, anomalies and transaction end reasons, as records print them.
#include "inspect/smtp_event.h"

namespace misdirect::inspect {

std::string_view verb_name(SmtpVerb verb) noexcept {
  switch (verb) {
    case SmtpVerb::kHelo: return "HELO";
    case SmtpVerb::kEhlo: return "EHLO";
    case SmtpVerb::kMail: return "MAIL";
    case SmtpVerb::kRcpt: return "RCPT";
    case SmtpVerb::kData: return "DATA";
    case SmtpVerb::kBdat: return "BDAT";
    case SmtpVerb::kRset: return "RSET";
    case SmtpVerb::kNoop: return "NOOP";
    case SmtpVerb::kVrfy: return "VRFY";
    case SmtpVerb::kExpn: return "EXPN";
    case SmtpVerb::kHelp: return "HELP";
    case SmtpVerb::kQuit: return "QUIT";
    case SmtpVerb::kStartTls: return "STARTTLS";
    case SmtpVerb::kAuth: return "AUTH";
    case SmtpVerb::kLhlo: return "LHLO";
    case SmtpVerb::kUnknown: return "unknown";
  }
  return "unknown";
}

std::string_view anomaly_name(SmtpAnomalyKind kind) noexcept {
  switch (kind) {
    case SmtpAnomalyKind::kLineTooLong: return "line_too_long";
    case SmtpAnomalyKind::kBinaryInCommand: return "binary_in_command";
    case SmtpAnomalyKind::kUnknownCommand: return "unknown_command";
    case SmtpAnomalyKind::kReplyWithoutCommand: return "reply_without_command";
    case SmtpAnomalyKind::kMalformedReply: return "malformed_reply";
    case SmtpAnomalyKind::kMalformedRcpt: return "malformed_rcpt";
    case SmtpAnomalyKind::kMalformedMail: return "malformed_mail";
    case SmtpAnomalyKind::kMalformedBdat: return "malformed_bdat";
    case SmtpAnomalyKind::kPlaintextAfterStartTls: return "plaintext_after_starttls";
    case SmtpAnomalyKind::kPipelineOverflow: return "pipeline_overflow";
    case SmtpAnomalyKind::kResyncAfterGap: return "resync_after_gap";
    case SmtpAnomalyKind::kCommandOutOfSequence: return "command_out_of_sequence";
    case SmtpAnomalyKind::kLmtpRecipientsUntracked: return "lmtp_recipients_untracked";
  }
  return "unknown";
}

std::string_view transaction_end_reason_name(TransactionEndReason reason) noexcept {
  switch (reason) {
    case TransactionEndReason::kDataAccepted: return "data_accepted";
    case TransactionEndReason::kDataRejected: return "data_rejected";
    case TransactionEndReason::kReset: return "reset";
    case TransactionEndReason::kNewMail: return "new_mail";
    case TransactionEndReason::kQuit: return "quit";
    case TransactionEndReason::kTlsStarted: return "tls_started";
    case TransactionEndReason::kSessionEnd: return "session_end";
  }
  return "unknown";
}

}  // namespace misdirect::inspect
