// DnsCounter: the counters of a worker's DNS flows and of their records, one table.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>

#include "dataplane/counter_table.h"

namespace misdirect::dataplane {

enum class DnsCounter : uint16_t {
  kSessions,
  kQueries,
  kResponses,
  kResponsesMatched,
  kMalformed,
  kQuestions,
  kRecords,
  kRecordsSkipped,
  kLookalikeQuestions,
  kAlerts,
  kRepeatAlertsSuppressed,
  kAlertMemoryFull,
  kPendingAlertsFull,
  kRoleOff,
  kDnsRecords,
  kRecordsTooLarge,
  kRecordsDropped,
  kNamesIdna,
  kCount,
};

inline constexpr CounterInfo kDnsCounterInfo[] = {
    {"sessions", "DNS flows inspected (UDP or TCP)"},
    {"queries", "well-formed DNS queries"},
    {"responses", "well-formed DNS responses"},
    {"responses_matched", "responses whose id matched a query seen the other way on the flow"},
    {"malformed", "DNS messages dropped as malformed (anomalies say why); never alerted on"},
    {"questions", "questions in well-formed messages"},
    {"records", "resource records reported (answer, authority, additional)"},
    {"records_skipped", "resource records past the first 128 of a message: checked, not reported"},
    {"lookalike_questions", "query questions for a look-alike name or a name under one"},
    {"alerts", "dns-query alert records written"},
    {"repeat_alerts_suppressed", "look-alike names asked again on the same flow (one alert per flow and name)"},
    {"alert_memory_full", "alerts written without repeat suppression because the per-flow memory was full"},
    {"pending_alerts_full", "look-alike queries alerted at once, without waiting for the response code, because every pending slot was in use"},
    {"role_off", "look-alike questions not alerted because --roles turned dns-query off"},
    {"dns_records", "dns records written"},
    {"records_too_large", "records that did not fit the record buffer"},
    {"records_dropped", "records the output refused (ring full)"},
    {"names_idna", "names with an xn-- label or a non-ASCII byte, read by libidn2's UTS #46 lookup (allocates)"},
};
static_assert(std::size(kDnsCounterInfo) == static_cast<std::size_t>(DnsCounter::kCount));

}  // namespace misdirect::dataplane
