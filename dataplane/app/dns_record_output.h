// DnsRecordOutput: the one way what a DNS flow saw leaves the flow (as records, written in output/),
// and DnsAlertFacts, what one dns-query alert says.
//
// DnsFlow decides *when* a record is due and whether a message is logged (DnsLogMode); the output
// decides what the records look like. The views passed are valid only during the output call.
#pragma once

#include <cstdint>
#include <string_view>

#include "dataplane/flow/flow_identity.h"
#include "inspect/dns_event.h"
#include "inspect/lookalike_kind.h"

namespace misdirect::dataplane {

// One look-alike question name's alert: the question as asked, what the matcher said, and the
// response code of the response with its id, when one arrived.
struct DnsAlertFacts {
  uint16_t id = 0;
  uint16_t query_type = 0;
  std::string_view name;  // as asked
  std::string_view domain;  // canonical
  std::string_view protected_domain;
  inspect::LookalikeKind kind = inspect::LookalikeKind::kTldSwap;
  std::string_view variant;
  uint64_t generation = 0;
  bool answered = false;  // false: no response with the query's id (rcode null)
  uint8_t rcode = 0;
};

// Where DnsFlow's records go. Implemented in output/ (DnsRecordWriter); the calls are on the packet
// path: no allocation, no blocking.
class DnsRecordOutput {
 public:
  // One dns-query alert. `flow`: client = the side that asks.
  virtual void alert(const FlowIdentity& flow, uint64_t timestamp_ns, const DnsAlertFacts& facts) noexcept = 0;

  // One message's dns record, built while the message is read: begun at its first question, given
  // each question and each reported resource record in order, finished at the message's end. A
  // message's events all come from one feed, so a worker builds one dns record at a time.
  virtual void message_begin(const FlowIdentity& flow, uint64_t timestamp_ns,
                             const inspect::DnsMessageBegin& message) noexcept = 0;
  virtual void message_question(const inspect::DnsQuestion& question) noexcept = 0;
  virtual void message_record(const inspect::DnsRecord& record) noexcept = 0;
  virtual void message_end() noexcept = 0;

 protected:
  ~DnsRecordOutput() = default;
};

}  // namespace misdirect::dataplane
