// Worker: everything one lcore (or the replay thread) owns on the packet path —
// decode → IP fragments → flow table → TCP stream per direction → SmtpSession → Matcher → records.
//
// Shared-nothing: a Worker is used by exactly one thread. The control plane reaches it only by
// publishing a new MatcherGeneration that the owning thread picks up between bursts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "dataplane/app/dns_log_mode.h"
#include "dataplane/app/matcher_binding.h"
#include "dataplane/decode/packet_view.h"
#include "dataplane/output/record_sink.h"
#include "dataplane/output/smtp_log_mode.h"
#include "inspect/lookalike_role.h"

namespace misdirect::dataplane {

class EvidenceRing;
class LearnedAddressBook;
class LearnedBookGate;

class StatsNode;
struct DecoderConfig;

struct WorkerConfig {
  uint32_t worker_id = 0;
  // Decoding: UDP ports opened as VXLAN / GENEVE, and how many encapsulations are walked through.
  std::vector<uint16_t> vxlan_ports = {4789};
  std::vector<uint16_t> geneve_ports = {6081};
  uint32_t max_encapsulation_depth = 4;
  // Flow table.
  uint32_t max_flows = 1u << 20;
  uint64_t idle_timeout_ns = 300'000'000'000;    // established flows with no packet
  uint64_t closed_timeout_ns = 10'000'000'000;   // after FIN/RST, to catch the last replies
  // Secret mixed into the flow table's and the fragment table's bucket choice, so that senders
  // cannot aim many flows at one bucket. 0: a random one per worker (--hash-seed sets it for
  // reproducible runs; outputs never depend on it).
  uint64_t hash_seed = 0;
  // TCP reassembly.
  uint32_t stream_memcap_bytes = 1u << 20;         // out-of-order bytes held per direction
  uint32_t stream_max_pieces = 2048;               // out-of-order pieces (held segments) per direction
  uint64_t reassembly_memcap_bytes = 256ull << 20; // out-of-order bytes held by this worker
  uint64_t gap_wait_ns = 5'000'000'000;            // how long a hole may stay open before it is a gap
  // SMTP.
  std::vector<uint16_t> smtp_ports = {25, 587, 2525};
  bool port_agnostic_detection = true;
  // ~80 KiB of address space each (2.6 GiB in all), touched only as used. Sessions sent in tiny
  // segments live long: the adversarial benchmark keeps more than 16,384 open on one worker.
  uint32_t max_smtp_sessions = 32768;
  uint32_t max_line_bytes = 4096;
  SmtpLogMode smtp_log = SmtpLogMode::kAll;
  // DNS (UDP and TCP) on these ports is parsed: dns-query alerts, learned addresses, dns records.
  std::vector<uint16_t> dns_ports = {53};
  uint32_t max_dns_sessions = 16384;      // DNS flows inspected at once (~12 KiB each, touched as used)
  uint32_t max_dns_tcp_sessions = 1024;   // of those, over TCP (each with 2 × 4 KiB of message buffer)
  // Which DNS messages get a `dns` record: those about look-alikes (and learned exchangers) by default.
  DnsLogMode dns_log = DnsLogMode::kLookalike;
  // Roles a look-alike may alert in (--roles); every role by default.
  inspect::RoleSet roles;
  // An SMTP connection to one of these ports whose server address a look-alike's DNS answer gave
  // raises a dns-learned alert once its recipients turn out unreadable.
  std::vector<uint16_t> learned_smtp_ports = {25, 465, 587};
  // Shared by the workers of one sensor or one `replay --workers` (each writes its own table, reads
  // all); null: the worker keeps a book of its own (replay with one worker). Owned by whoever made
  // the workers.
  LearnedAddressBook* learned_book = nullptr;
  // replay --workers: the order the workers read the shared book in (see LearnedBookGate); null
  // elsewhere. Owned by whoever made the workers.
  LearnedBookGate* learned_gate = nullptr;
  uint32_t learned_facts = 4096;                   // per worker, power of two
  uint64_t learned_max_age_ns = 3'600'000'000'000; // a DNS TTL above this counts as this
  // Replay only: the capture being read, written as `pcap_filename` (empty: field omitted).
  std::string pcap_filename;
  // Records: `host` on every record (empty: omitted); the Community ID seed; the run's flow_id
  // salt, the same for every worker of a run (0: one drawn at random for this worker alone).
  std::string sensor_name;
  uint16_t community_id_seed = 0;
  uint64_t flow_id_salt = 0;
  // Evidence pcaps (--evidence-dir; empty: off). SMTP flows keep their first frames in one of
  // `evidence_buffers` buffers of `evidence_buffer_bytes`; an alerting flow's frames go through a
  // ring of `evidence_ring_bytes` to whoever writes the files (evidence_ring()), and its alerts
  // name `<evidence_dir>/<flow_id>.pcap` as `capture_file`.
  std::string evidence_dir;
  uint32_t evidence_buffers = 1024;
  uint32_t evidence_buffer_bytes = 32u << 10;
  std::size_t evidence_ring_bytes = std::size_t{8} << 20;
  // Live only: the sensor's port names, indexed by PacketView::input, written as `in_iface`
  // (LiveSensor fills it; empty in replay, which writes no `in_iface`).
  std::vector<std::string> input_names;
};

// The decoder settings of a worker with `config` and bucket seed `hash_seed` (tunnel ports, depth
// bound, fragment table seed): the fan-out's FanoutClassifier decodes with them too, so it opens
// exactly what the workers open.
DecoderConfig decoder_config(const WorkerConfig& config, uint64_t hash_seed);

class Worker {
 public:
  Worker(const WorkerConfig& config, RecordSink& sink);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  // Between bursts only.
  void bind_matcher(const MatcherBinding& binding) noexcept;
  // Replay: the file whose packets follow (for `pcap_filename`). Call after finish() of the
  // previous file: the new capture's clock may start earlier, so timers run on a clock shifted
  // past the previous one while records keep the capture's own timestamps.
  void set_source_name(const std::string& name);

  // Packets in order, as if one at a time. Works in stages of up to 32: decode, key and hash
  // every packet and prefetch its hash bucket, then prefetch every flow record, then process
  // each — so a burst of 32 or more pays its cache misses side by side, a burst of 1 one by one.
  // The packets' bytes must stay valid until this returns.
  void process_burst(std::span<const PacketView> packets) noexcept;
  // Replay's fan-out (control/replay_fanout.h): this worker's share of a burst whose first packet
  // has `burst_first_ns` and whose largest timestamp is `burst_max_ns`. The clock moves as it
  // would for the whole burst, so timers and housekeeping fire at the packet times they would in
  // a single worker. `burst_end` false: more of the same burst's share follows in another call.
  void process_share(std::span<const PacketView> share, uint64_t burst_first_ns, uint64_t burst_max_ns,
                     bool burst_end) noexcept;
  // Time moves on without packets: expire idle flows, give up on old holes. `now_ns` is packet
  // time in replay and the clock in the live sensor; it never goes backwards.
  void advance_time(uint64_t now_ns) noexcept;
  // End of input or shutdown: end every open flow, flushing pending alerts and smtp records.
  void finish(uint64_t now_ns) noexcept;

  // Cold: adds this worker's counters to a stats record's tree (`stats.*` and `misdirect.*`);
  // numbers add to what is there, so several workers' trees sum.
  void collect_stats(StatsNode& record) const;
  // The generation of the matcher bound now (0: none).
  uint64_t matcher_generation() const noexcept;
  // The bucket seed in use (the configured one, or the random one picked when it was 0).
  uint64_t hash_seed() const noexcept;
  // Evidence frames waiting for the writer (one consumer thread); null when evidence is off.
  EvidenceRing* evidence_ring() noexcept;
  // Cold: selected totals for consistency checks and summaries.
  struct Totals {
    uint64_t packets = 0;
    uint64_t bytes = 0;
    uint64_t alerts = 0;
    uint64_t records_dropped = 0;
    uint64_t smtp_sessions = 0;
    uint64_t recipients = 0;
  };
  Totals totals() const noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace misdirect::dataplane
