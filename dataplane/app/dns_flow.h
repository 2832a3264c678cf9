// DnsFlow: one DNS flow's consumer (UDP datagrams on a DNS port, or a TCP connection to one). It
// feeds the DnsSession, judges every question name, decides on `dns-query` alerts, teaches the
// LearnedAddressBook what answers about look-alikes said, and hands records to its DnsRecordOutput
// when they are due (the output, in output/, decides what they look like).
//
// When records are due:
//   alert — per look-alike question name (one per flow and name), when the response with its id
//           arrives (so the alert carries the response code), or at the end of the flow without
//           one (rcode null).
//   dns   — one `request` record per query and one `response` record per response whose question
//           is a look-alike or a learned mail exchanger (DnsLogMode::kLookalike, the default), or
//           for every message (kAll), in Suricata's version 3 layout.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "dataplane/app/alerted_names.h"
#include "dataplane/app/dns_counters.h"
#include "dataplane/app/dns_log_mode.h"
#include "dataplane/app/dns_record_output.h"
#include "dataplane/app/learned_address_book.h"
#include "dataplane/app/matcher_binding.h"
#include "dataplane/counter_table.h"
#include "dataplane/flow/flow_identity.h"
#include "inspect/dns_session.h"
#include "inspect/domain_name.h"
#include "inspect/lookalike_kind.h"
#include "inspect/lookalike_role.h"
#include "inspect/matcher.h"

namespace misdirect::dataplane {

// What all DNS flows of one worker share.
struct DnsFlowEnvironment {
  const MatcherBinding* matcher = nullptr;
  DnsRecordOutput* output = nullptr;
  CounterArray<DnsCounter>* counters = nullptr;
  std::array<uint64_t, inspect::kDnsAnomalyKindCount>* anomalies = nullptr;
  LearnedAddressBook* learned = nullptr;  // null: nothing is learned
  CounterArray<LearnedCounter>* learned_counters = nullptr;
  uint32_t worker_id = 0;
  inspect::RoleSet roles;
  DnsLogMode dns_log = DnsLogMode::kLookalike;
};

class DnsFlow final : public inspect::DnsEventSink {
 public:
  static constexpr std::size_t kMaxPendingAlerts = 4;
  static constexpr std::size_t kMaxInterest = 8;
  static constexpr std::size_t kNameBytes = 255;

  // `identity`: client = the side that asks (not on the DNS port). `tcp_buffer`: TCP only.
  DnsFlow(DnsFlowEnvironment& environment, const FlowIdentity& identity, inspect::DnsTransport transport,
          std::span<uint8_t> tcp_buffer) noexcept;
  DnsFlow(const DnsFlow&) = delete;
  DnsFlow& operator=(const DnsFlow&) = delete;

  void feed(inspect::Direction direction, std::span<const uint8_t> bytes, uint64_t now_ns) noexcept;
  void gap(inspect::Direction direction, uint64_t byte_count, uint64_t now_ns) noexcept;
  // The flow ended: pending alerts are written without a response code.
  void finish(uint64_t now_ns) noexcept;

  void on_event(const inspect::DnsEvent& event) noexcept override;

 private:
  // No default member initialisers in the texts and tables below: a DnsFlow is about 12 KiB, a
  // sensor makes one per DNS flow, and what is never used must not be written (a new flow touches
  // only what it fills). Every Text is assigned before it is read.
  struct Text {
    std::array<char, kNameBytes> bytes;
    uint8_t length;
    std::string_view view() const noexcept { return {bytes.data(), length}; }
    void assign(std::string_view value) noexcept;
  };
  // A dns-query alert waiting for its response code.
  struct PendingAlert {
    uint16_t id;
    uint16_t query_type;
    inspect::LookalikeKind kind;
    uint64_t generation;
    uint64_t query_ns;
    Text name;       // as asked
    Text domain;     // canonical
    Text protected_domain;
    Text variant;
  };
  // A name in the current response that leads from a look-alike: the look-alike itself, its MX
  // targets, CNAME targets of either.
  struct Interest {
    Text name;
    Text origin;
  };

  void on_begin(const inspect::DnsMessageBegin& begin) noexcept;
  void on_question(const inspect::DnsQuestion& question) noexcept;
  void on_record(const inspect::DnsRecord& record) noexcept;
  void on_end(const inspect::DnsMessageEnd& end) noexcept;

  // The question's verdict; false when the name is not canonicalisable or not a look-alike.
  // normalize_domain, counting the names that took libidn2 (names_idna).
  inspect::DomainError normalize(std::string_view name, inspect::CanonicalDomain& canonical) noexcept;
  bool judge(std::string_view name, inspect::CanonicalDomain& canonical, inspect::Verdict& verdict,
             uint64_t& generation) noexcept;
  void alert_question(const inspect::DnsQuestion& question, const inspect::CanonicalDomain& canonical,
                      const inspect::Verdict& verdict, uint64_t generation) noexcept;
  void write_alert(const PendingAlert& alert, bool answered, uint8_t rcode) noexcept;
  const Interest* interest_of(std::string_view canonical) const noexcept;
  void add_interest(std::string_view name, std::string_view origin) noexcept;
  void learn(const inspect::DnsRecord& record, std::string_view owner, std::string_view origin) noexcept;
  // Completes `fact` (its kind, and its address for kAddress, set) with what every fact holds — the
  // name it is about, the look-alike its chain began at, who answered, when, the TTL — and gives it
  // to the book.
  void teach(LearnedFact& fact, std::string_view host, std::string_view origin, uint32_t ttl) noexcept;

  DnsFlowEnvironment& environment_;
  FlowIdentity identity_;
  uint64_t now_ns_ = 0;
  uint64_t transactions_ = 0;

  // The message being read.
  inspect::DnsMessageBegin message_{};
  bool logging_ = false;          // the output is building a dns record for it
  bool log_decided_ = false;      // its first question decided whether it is logged
  uint8_t interest_count_ = 0;
  std::array<Interest, kMaxInterest> interest_;

  AlertedNames alerted_;
  uint8_t pending_used_ = 0;  // bit i: pending_[i] holds an alert waiting for its response
  std::array<PendingAlert, kMaxPendingAlerts> pending_;
  inspect::DnsSession session_;
};

}  // namespace misdirect::dataplane
