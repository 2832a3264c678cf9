// SmtpCounter: the counters of a worker's SMTP flows and of their records, one table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/counter_table.h"
#include "inspect/smtp_event.h"

namespace misdirect::dataplane {

enum class SmtpCounter : uint16_t {
  kSessions,
  kCommands,
  kTransactions,
  kDelivered,
  kRecipients,
  kRecipientsAccepted,
  kRecipientsRejected,
  kRecipientsUnanswered,
  kRecipientDomainsInvalid,
  kRecipientDomainsIdna,
  kLookalikeRecipients,
  kAlerts,
  kSmtpRecords,
  kTlsSessions,
  kRecipientsUntracked,
  kTransactionsForced,
  kFieldsTruncated,
  kRepeatAlertsSuppressed,
  kAlertMemoryFull,
  kAlertsCapped,
  kRecordsTooLarge,
  kRecordsDropped,
  kLookalikeSenders,
  kSenderAlerts,
  kLearnedAlerts,
  kSniAlerts,
  kLookalikeSeenAgain,
  kRoleOff,
  kClientHellos,
  kTlsAnomalies,
  kMessages,
  kMessageHeadersTruncated,
  kMessageHeadersDropped,
  kLmtpDelivered,
  kLmtpNotDelivered,
  kPercentHackRecipients,
  kPercentHackLookalikes,
  kRecipientDomainsALabel,
  kLookalikeHeaderAddresses,
  kHeaderAlerts,
  kCount,
};

inline constexpr CounterInfo kSmtpCounterInfo[] = {
    {"sessions", "SMTP sessions inspected"},
    {"commands", "client command lines"},
    {"transactions", "mail transactions ended"},
    {"delivered", "transactions whose message the server accepted"},
    {"recipients", "RCPT TO commands"},
    {"recipients_accepted", "RCPT TO answered 2xx"},
    {"recipients_rejected", "RCPT TO answered 4xx/5xx"},
    {"recipients_unanswered", "RCPT TO with no reply seen"},
    {"recipient_domains_invalid", "recipient domains that failed normalisation"},
    {"recipient_domains_idna", "recipient domains with non-ASCII bytes, mapped with UTS #46 by libidn2 (the one step on the packet path that allocates)"},
    {"lookalike_recipients", "recipients at a look-alike domain"},
    {"alerts", "alert records written"},
    {"smtp_records", "smtp records written"},
    {"tls_sessions", "sessions that turned to TLS after STARTTLS"},
    {"recipients_untracked", "recipients beyond the per-session storage bound (alerted at once, not in smtp records)"},
    {"transactions_forced", "transactions written early because too many were open at once"},
    {"fields_truncated", "HELO or MAIL FROM values cut at their storage bound"},
    {"repeat_alerts_suppressed", "look-alike recipients sent again in the same flow (one alert per flow and recipient)"},
    {"alert_memory_full", "look-alikes of other roles alerted again because the per-session memory of them was full"},
    {"alerts_capped", "look-alike recipients not alerted: the flow reached its alert cap (one anomaly record says so)"},
    {"records_too_large", "records that did not fit the record buffer"},
    {"records_dropped", "records the output refused (ring full)"},
    {"lookalike_senders", "MAIL FROM addresses at a look-alike domain"},
    {"sender_alerts", "of the alerts, role sender"},
    {"learned_alerts", "of the alerts, role dns-learned (server address taught by a look-alike's DNS answer)"},
    {"sni_alerts", "of the alerts, role tls-sni"},
    {"lookalike_seen_again", "look-alikes met again in another role on a flow that alerted on them (recorded, not alerted)"},
    {"role_off", "look-alikes not alerted because --roles turned their role off"},
    {"client_hellos", "TLS ClientHellos read on SMTP flows (after STARTTLS or on port 465)"},
    {"tls_anomalies", "TLS streams whose ClientHello could not be read (not a handshake, too long, malformed, cut)"},
    {"messages", "message contents (DATA or BDAT) whose header block was read"},
    {"message_headers_truncated", "header blocks or header values cut at their bounds (64 KiB, per-field buffers)"},
    {"message_headers_dropped", "header blocks dropped before their smtp record was written (a third message began first)"},
    {"lmtp_delivered", "LMTP: recipients whose own reply after the content was 2xx (delivered to that mailbox)"},
    {"lmtp_not_delivered", "LMTP: recipients whose own reply after the content was 4xx/5xx"},
    {"percent_hack_recipients", "recipients not at a look-alike whose local part routes on with % (user%host@relay): the host judged too"},
    {"percent_hack_lookalikes", "of those, the host after the last % was a look-alike (alerted as the recipient's domain)"},
    {"recipient_domains_a_label", "recipient domains sent with an xn-- label, decoded and validated by libidn2's UTS #46 lookup (allocates, like recipient_domains_idna)"},
    {"lookalike_header_addresses", "From: and Reply-To: addresses at a look-alike domain"},
    {"header_alerts", "of the alerts, roles header-from and reply-to"},
};
static_assert(std::size(kSmtpCounterInfo) == static_cast<std::size_t>(SmtpCounter::kCount));

inline constexpr int kSmtpAnomalyKindCount = static_cast<int>(inspect::SmtpAnomalyKind::kLmtpRecipientsUntracked) + 1;

}  // namespace misdirect::dataplane
