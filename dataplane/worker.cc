// Worker: the packet path of one thread, from frames to records.
#include "dataplane/worker.h"

#include <algorithm>
#include <array>
#include <bitset>
#include <cstddef>
#include <memory>
#include <new>
#include <random>
#include <string>
#include <vector>

#include "dataplane/app/dns_flow.h"
#include "dataplane/app/learned_address_book.h"
#include "dataplane/flow/app_detector.h"
#include "dataplane/flow/community_id.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/lookalike_alert.h"
#include "dataplane/output/evidence_recorder.h"
#include "dataplane/output/evidence_ring.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/app/smtp_flow.h"
#include "dataplane/output/smtp_record_writer.h"
#include "dataplane/output/stats_tree.h"
#include "dataplane/flow/tcp_stream.h"
#include "inspect/lookalike_kind.h"
#include "inspect/matcher.h"

namespace misdirect::dataplane {
namespace {

constexpr uint16_t kImplicitTlsPort = 465;
constexpr uint16_t kLmtpPort = 24;  // LMTP (RFC 2033) between mail hubs and mailbox stores
constexpr std::size_t kRecordBufferBytes = 512 * 1024;  // one smtp record with ~1000 recipients
// One dns record: at most DnsMessageParser::kMaxRecords records of a 64 KiB message, escaped.
constexpr std::size_t kDnsRecordBufferBytes = 256 * 1024;
constexpr std::size_t kDnsTcpBufferBytes = 2 * inspect::DnsSession::kDefaultTcpMessageBytes;
constexpr uint64_t kHousekeepingIntervalNs = 100'000'000;
constexpr uint32_t kNoSlot = UINT32_MAX;
// process_burst works through its packets in stages over this many at a time (decode all, then
// prefetch every bucket, then every flow record, then process), so each stage's cache misses
// overlap instead of being paid one packet after another.
constexpr std::size_t kStageBurst = 32;

// Flow::app_state, set when the flow starts. Kept in the flow record (whose first line the lookup
// has just read) so that flows no longer inspected never touch the FlowApp side table.
constexpr uint8_t kAppInspect = 0x01;     // reassembly runs: detection or SMTP parsing wants bytes
constexpr uint8_t kAppSmtpByPort = 0x02;  // on a configured SMTP port: SMTP without detection
constexpr uint8_t kAppClientIsB = 0x04;   // with kAppSmtpByPort or kAppDns: endpoint B is the client
constexpr uint8_t kAppDns = 0x08;         // on a DNS port (UDP datagrams or a TCP stream): DnsFlow
constexpr uint8_t kAppImplicitTls = 0x10; // with kAppSmtpByPort: port 465, TLS from the first byte
constexpr uint8_t kAppLmtp = 0x20;        // with kAppSmtpByPort: port 24, LMTP until the client greets
constexpr uint8_t kAppTunnelled = 0x80;   // the first packet was encapsulated: see flow_tunnel()
constexpr uint8_t kProtoUdp = 17;

// kAppClientIsB as the way the client's bytes travel, and back.
constexpr uint8_t client_bit(FlowDirection client_to_server) noexcept {
  return client_to_server == FlowDirection::kBToA ? kAppClientIsB : 0;
}
constexpr FlowDirection client_to_server_of(const Flow& flow) noexcept {
  return (flow.app_state & kAppClientIsB) != 0 ? FlowDirection::kBToA : FlowDirection::kAToB;
}

enum class WorkerCounter : uint16_t {
  kPackets,
  kBytes,
  kTcpPackets,
  kOtherIpPackets,
  kFragmentsHeld,
  kDecodeDrops,
  kSmtpFlowsByPort,
  kSmtpFlowsDetected,
  kSmtpFlowsTunnelled,
  kImplicitTlsFlows,
  kLmtpFlowsByPort,
  kOtherFlows,
  kSmtpSessionsUnavailable,
  kSmtpStreamGaps,
  kDetectionAbandoned,
  kDnsDatagrams,
  kDnsFlows,
  kDnsSessionsUnavailable,
  kCount,
};

constexpr CounterInfo kWorkerCounterInfo[] = {
    {"packets", "frames given to the worker"},
    {"bytes", "bytes of those frames on the wire"},
    {"tcp_packets", "TCP segments decoded"},
    {"other_ip_packets", "IP packets that are not TCP (counted, not inspected)"},
    {"fragments_held", "IP fragments held for reassembly"},
    {"decode_drops", "frames the decoder dropped (decoder counters say why)"},
    {"smtp_flows_by_port", "flows on a configured SMTP port"},
    {"smtp_flows_detected", "flows found to be SMTP by behaviour (220 greeting, EHLO/HELO answer)"},
    {"smtp_flows_tunnelled", "of those, SMTP inside an HTTP CONNECT or SOCKS5 tunnel"},
    {"implicit_tls_flows", "flows on port 465 (SMTP over TLS: only the ClientHello is read)"},
    {"lmtp_flows_by_port", "flows on port 24 (LMTP presumed until the client's LHLO, EHLO or HELO says)"},
    {"other_flows", "TCP flows that are not SMTP"},
    {"smtp_sessions_unavailable", "SMTP flows not inspected because every session slot was in use"},
    {"smtp_stream_gaps", "gaps reported to SMTP sessions"},
    {"detection_abandoned", "flows whose detection met a gap before deciding"},
    {"dns_datagrams", "UDP datagrams to or from a DNS port (given to the flow table and DnsFlow)"},
    {"dns_flows", "UDP or TCP flows on a DNS port"},
    {"dns_sessions_unavailable", "DNS flows not inspected because every DNS slot (or TCP buffer) was in use"},
};
static_assert(std::size(kWorkerCounterInfo) == static_cast<std::size_t>(WorkerCounter::kCount));

// Per-flow application state beside the Flow (indexed by Flow::app_slot): taken when an inspected
// flow's first bytes (or gap) arrive, given back when inspection stops or the flow ends. Flows
// that carry no payload, or are decided by port not to be inspected, never take one.
struct FlowApp {
  AppDetection detection;
  uint32_t smtp_slot = kNoSlot;
  uint32_t dns_slot = kNoSlot;
  uint32_t dns_tcp_buffer = kNoSlot;
};

// One SMTP session's memory: the SmtpFlow, built in place when a flow becomes SMTP.
struct alignas(64) SmtpSlot {
  alignas(SmtpFlow) unsigned char storage[sizeof(SmtpFlow)];
  SmtpFlow* get() noexcept { return std::launder(reinterpret_cast<SmtpFlow*>(storage)); }
};

// One DNS flow's memory: the DnsFlow, built in place when a DNS flow's first message arrives.
struct alignas(64) DnsSlot {
  alignas(DnsFlow) unsigned char storage[sizeof(DnsFlow)];
  DnsFlow* get() noexcept { return std::launder(reinterpret_cast<DnsFlow*>(storage)); }
};

// Where the worker's counters stand in a stats tree (see docs/records.md for the full list):
// every table is gathered under `misdirect.<unit>`, and the counters whose meaning is the same as
// one of Suricata's are placed under `stats` with Suricata's name. Only those: Suricata's stats
// schema allows no other name there, so a counter added to a table later lands under
// `misdirect` until someone decides it means what a Suricata counter means.
constexpr StatsPlacement kWorkerPlacements[] = {
    {"bytes", "stats.decoder.bytes"},
    {"decode_drops", "stats.decoder.invalid"},
};
constexpr StatsPlacement kDecoderPlacements[] = {
    {"packets", "stats.decoder.pkts"},
    {"ipv4", "stats.decoder.ipv4"},
    {"ipv6", "stats.decoder.ipv6"},
    {"tcp", "stats.decoder.tcp"},
    {"udp", "stats.decoder.udp"},
    {"vlan_tagged", "stats.decoder.vlan"},
};
// Every encapsulation counter stays in misdirect.encapsulation; those Suricata's decoder also
// counts are shown again under its names (its erspan is all three types, summed).
constexpr StatsPlacement kEncapsulationPlacements[] = {
    {"vxlan", "stats.decoder.vxlan"},
    {"vxlan", "misdirect.encapsulation.vxlan"},
    {"geneve", "stats.decoder.geneve"},
    {"geneve", "misdirect.encapsulation.geneve"},
    {"gre", "stats.decoder.gre"},
    {"gre", "misdirect.encapsulation.gre"},
    {"erspan_type_i", "stats.decoder.erspan"},
    {"erspan_type_i", "misdirect.encapsulation.erspan_type_i"},
    {"erspan_type_ii", "stats.decoder.erspan"},
    {"erspan_type_ii", "misdirect.encapsulation.erspan_type_ii"},
    {"erspan_type_iii", "stats.decoder.erspan"},
    {"erspan_type_iii", "misdirect.encapsulation.erspan_type_iii"},
    {"ipv4_in_ipv4", "stats.decoder.ipv4_in_ipv4"},
    {"ipv4_in_ipv4", "misdirect.encapsulation.ipv4_in_ipv4"},
    {"ipv6_in_ipv4", "stats.decoder.ipv6_in_ipv4"},
    {"ipv6_in_ipv4", "misdirect.encapsulation.ipv6_in_ipv4"},
    {"ipv4_in_ipv6", "stats.decoder.ipv4_in_ipv6"},
    {"ipv4_in_ipv6", "misdirect.encapsulation.ipv4_in_ipv6"},
    {"ipv6_in_ipv6", "stats.decoder.ipv6_in_ipv6"},
    {"ipv6_in_ipv6", "misdirect.encapsulation.ipv6_in_ipv6"},
    {"mpls", "stats.decoder.mpls"},
    {"mpls", "misdirect.encapsulation.mpls"},
    {"depth_exceeded", "stats.decoder.too_many_layers"},
    {"depth_exceeded", "misdirect.encapsulation.depth_exceeded"},
};
constexpr StatsPlacement kFlowPlacements[] = {
    {"flows_created", "stats.flow.tcp"},
    {"flows_created", "stats.tcp.sessions"},
};
constexpr StatsPlacement kReassemblyPlacements[] = {
    {"tcp_gaps", "stats.tcp.reassembly_gap"},
    {"tcp_memcap_drops", "stats.tcp.segment_memcap_drop"},
    {"tcp_overlaps", "stats.tcp.overlap"},
    {"tcp_overlaps_differ", "stats.tcp.overlap_diff_data"},
    {"tcp_resets", "stats.tcp.rst"},
};
constexpr StatsPlacement kSmtpPlacements[] = {
    {"sessions", "stats.app_layer.flow.smtp"},
    {"transactions", "stats.app_layer.tx.smtp"},
};

}  // namespace

struct Worker::Impl final : StreamSink, FlowEvictionSink {
  Impl(const WorkerConfig& worker_config, RecordSink& record_sink);
  ~Impl();

  // One stage-sized run of packets; see kStageBurst.
  void process_stage(std::span<const PacketView> packets) noexcept;
  void process_tcp(std::size_t staged) noexcept;
  void process_udp(std::size_t staged) noexcept;
  DnsFlow* dns_for(Flow& flow) noexcept;
  void advance_clock(uint64_t timestamp_ns) noexcept;
  void housekeeping(uint64_t now) noexcept;
  void start_flow(Flow& flow, const DecodedPacket& packet, FlowDirection direction) noexcept;
  FlowApp* app_for(Flow& flow) noexcept;
  void release_app(Flow& flow) noexcept;
  // Finishes the flow's SMTP session (its records are written) and frees its slots.
  void end_session(Flow& flow) noexcept;
  void become_smtp(Flow& flow, FlowApp& app, std::optional<FlowDirection> client_to_server) noexcept;
  // Client and server of `flow` (an unknown client: B).
  FlowIdentity identity_of(const Flow& flow, std::optional<FlowDirection> client_to_server) const noexcept;
  void stop_inspecting(Flow& flow) noexcept;
  void feed_smtp(Flow& flow, FlowApp& app, FlowDirection direction,
                 std::span<const uint8_t> bytes) noexcept;

  void stream_data(Flow& flow, FlowDirection direction, std::span<const uint8_t> bytes) noexcept;
  void stream_gap(Flow& flow, FlowDirection direction, uint64_t missing_bytes) noexcept;
  // Evidence: every frame of a flow is offered (before inspection decides anything); an SMTP
  // flow that wrote an alert keeps its frames from then on.
  struct Staged;
  void record_evidence(Flow& flow, bool created, const Staged& entry) noexcept;
  void note_alerts(const Flow& flow, uint64_t alerts_before) noexcept {
    if (evidence != nullptr && smtp_counters.get(SmtpCounter::kAlerts) != alerts_before) [[unlikely]] {
      evidence->on_alert(flows.slot_of(flow), flow.flow_id);
    }
  }

  void on_stream_data(Flow& flow, FlowDirection direction, std::span<const uint8_t> bytes) noexcept override {
    const uint64_t alerts_before = smtp_counters.get(SmtpCounter::kAlerts);
    stream_data(flow, direction, bytes);
    note_alerts(flow, alerts_before);
  }
  void on_stream_gap(Flow& flow, FlowDirection direction, uint64_t missing_bytes) noexcept override {
    const uint64_t alerts_before = smtp_counters.get(SmtpCounter::kAlerts);
    stream_gap(flow, direction, missing_bytes);
    note_alerts(flow, alerts_before);
  }
  void on_stream_end(Flow& flow, FlowDirection direction) noexcept override;
  void on_flow_end(Flow& flow, FlowEndReason reason) noexcept override;

  WorkerConfig config;
  RecordSink& sink;
  uint64_t hash_seed;  // flow table and fragment buckets (before both: members start in order)
  PacketDecoder decoder;
  FlowTable flows;
  TcpReassembler reassembler;
  std::bitset<65536> smtp_ports;
  std::bitset<65536> learned_smtp_ports;
  MatcherBinding binding;
  std::string pcap_filename;

  std::unique_ptr<char[]> record_buffer;
  EveWriter eve;
  CounterArray<WorkerCounter> counters;
  CounterArray<SmtpCounter> smtp_counters;
  AlertKindCounts alert_kinds{};  // SMTP and DNS alerts written, by look-alike kind
  std::array<uint64_t, kSmtpAnomalyKindCount> smtp_anomalies{};
  SmtpRecordWriter smtp_records;
  SmtpFlowEnvironment environment;


  // FlowApp records, constructed when first used: pages for flows never inspected stay untouched.
  std::unique_ptr<std::byte[]> flow_app_storage;
  uint32_t flow_apps_fresh = 0;  // records never used: [flow_apps_fresh, max_flows)
  std::vector<uint32_t> free_flow_apps;
  // The encapsulations around each tunnelled flow's first packet, by the flow's pool index;
  // written and read only for flows with kAppTunnelled, so untunnelled traffic never touches it.
  std::unique_ptr<std::byte[]> flow_tunnel_storage;
  TunnelInfo& flow_tunnel(const Flow& flow) noexcept {
    return *std::launder(reinterpret_cast<TunnelInfo*>(
        flow_tunnel_storage.get() + std::size_t{flows.pool_index(flow)} * sizeof(TunnelInfo)));
  }
  const TunnelInfo& flow_tunnel(const Flow& flow) const noexcept {
    return const_cast<Impl*>(this)->flow_tunnel(flow);
  }
  void remember_tunnel(Flow& flow, const DecodedPacket& packet) noexcept {
    if (packet.tunnel.layer_count != 0) {
      flow.app_state |= kAppTunnelled;
      new (&flow_tunnel(flow)) TunnelInfo(packet.tunnel);
    }
  }
  FlowApp& flow_app(uint32_t slot) noexcept {
    return *std::launder(reinterpret_cast<FlowApp*>(flow_app_storage.get() + std::size_t{slot} * sizeof(FlowApp)));
  }
  std::unique_ptr<SmtpSlot[]> smtp_slots;
  std::unique_ptr<char[]> line_buffers;
  std::vector<uint32_t> free_smtp_slots;
  // DNS: ports, slots, the dns record writer, counters, and what answers taught.
  std::bitset<65536> dns_ports;
  std::unique_ptr<char[]> dns_record_buffer;
  EveWriter dns_eve;
  CounterArray<DnsCounter> dns_counters;
  std::array<uint64_t, inspect::kDnsAnomalyKindCount> dns_anomalies{};
  CounterArray<LearnedCounter> learned_counters;
  std::unique_ptr<LearnedAddressBook> own_learned_book;  // when the config gave none
  DnsFlowEnvironment dns_environment;
  std::unique_ptr<DnsSlot[]> dns_slots;
  std::vector<uint32_t> free_dns_slots;
  std::unique_ptr<uint8_t[]> dns_tcp_buffers;
  std::vector<uint32_t> free_dns_tcp_buffers;
  // Evidence pcaps (null: --evidence-dir not given).
  std::unique_ptr<EvidenceRing> evidence_ring;
  std::unique_ptr<EvidenceRecorder> evidence;

  // Two clocks: `now_ns` is the time records carry (packet time); `clock_ns` drives the flow table,
  // reassembly and fragment timers and never goes backwards. They differ by `clock_offset_ns` when
  // a replay reads a capture that starts earlier than the one before it.
  uint64_t now_ns = 0;
  uint64_t clock_ns = 0;
  uint64_t clock_offset_ns = 0;
  bool new_source = false;
  uint64_t last_housekeeping_ns = 0;
  // Flows whose inspection stopped inside a reassembler callback; released after it returns.
  Flow* release_after_segment = nullptr;

  // The stage in flight: TCP packets decoded, their keys and hashes, and the clock each saw.
  struct Staged {
    const PacketView* frame = nullptr;
    DecodedPacket decoded;
    FlowKey key;
    uint64_t hash = 0;
    uint64_t clock_ns = 0;
    uint64_t now_ns = 0;
    uint32_t order = 0;
    uint8_t input = kNoInput;
    uint16_t quiet_before = 0;
  };
  std::array<Staged, kStageBurst> staged;
  uint32_t packet_order = 0;  // PacketView::order of the staged packet being processed
  uint16_t packet_quiet_before = 0;  // and its PacketView::quiet_before
  // replay --workers: before the shared learned-address book is read, the other workers catch up
  // with this packet (LearnedBookGate). A no-op elsewhere.
  void order_learned_read() noexcept {
    if (config.learned_gate != nullptr) [[unlikely]] {
      config.learned_gate->wait_for_earlier(config.worker_id, packet_order, packet_quiet_before);
    }
  }
  // DNS-over-TCP flows held: a timer or a flow's end may deliver their held bytes, and so teach
  // the book, at any packet (LearnedBookGate::dns_streams_held). `change`: +1 or -1.
  uint32_t dns_streams = 0;
  void count_dns_stream(const Flow& flow, int change) noexcept {
    if (flow.key.protocol == kProtoUdp) {
      return;  // a datagram teaches only as it arrives
    }
    dns_streams = static_cast<uint32_t>(static_cast<int64_t>(dns_streams) + change);
    if (config.learned_gate != nullptr) [[unlikely]] {
      config.learned_gate->dns_streams_held(config.worker_id, dns_streams);
    }
  }
};

DecoderConfig decoder_config(const WorkerConfig& config, uint64_t hash_seed) {
  DecoderConfig decoder;
  decoder.vxlan_ports = config.vxlan_ports;
  decoder.geneve_ports = config.geneve_ports;
  decoder.max_encapsulation_depth = config.max_encapsulation_depth;
  decoder.reassembly.hash_seed = hash_seed;
  return decoder;
}

namespace {

// The configured seed, or a random non-zero one (cold: once per worker).
uint64_t chosen_hash_seed(uint64_t configured) {
  if (configured != 0) {
    return configured;
  }
  std::random_device device;
  return (uint64_t{device()} << 32 | device()) | 1;
}

FlowTableConfig flow_table_config(const WorkerConfig& config, uint64_t hash_seed) {
  FlowTableConfig table;
  table.hash_seed = hash_seed;
  table.max_flows = config.max_flows;
  table.idle_timeout_ns = config.idle_timeout_ns;
  table.closed_timeout_ns = config.closed_timeout_ns;
  table.worker_id = config.worker_id;
  table.flow_id_salt = config.flow_id_salt;
  return table;
}

TcpReassemblerConfig reassembler_config(const WorkerConfig& config) {
  TcpReassemblerConfig reassembly;
  reassembly.stream_memcap_bytes = config.stream_memcap_bytes;
  reassembly.stream_max_pieces = config.stream_max_pieces;
  reassembly.memcap_bytes = config.reassembly_memcap_bytes;
  reassembly.gap_wait_ns = config.gap_wait_ns;
  return reassembly;
}

}  // namespace

Worker::Impl::Impl(const WorkerConfig& worker_config, RecordSink& record_sink)
    : config(worker_config),
      sink(record_sink),
      hash_seed(chosen_hash_seed(worker_config.hash_seed)),
      decoder(decoder_config(worker_config, hash_seed)),
      flows(flow_table_config(worker_config, hash_seed)),
      reassembler(reassembler_config(worker_config)),
      pcap_filename(worker_config.pcap_filename),
      record_buffer(new char[kRecordBufferBytes]),
      eve(std::span<char>(record_buffer.get(), kRecordBufferBytes)),
      smtp_records(eve, record_sink, smtp_counters, worker_config.smtp_log),
      flow_app_storage(new std::byte[std::size_t{worker_config.max_flows} * sizeof(FlowApp)]),
      flow_tunnel_storage(new std::byte[std::size_t{worker_config.max_flows} * sizeof(TunnelInfo)]),
      smtp_slots(new SmtpSlot[worker_config.max_smtp_sessions]),
      line_buffers(new char[std::size_t{worker_config.max_smtp_sessions} * worker_config.max_line_bytes]),
      dns_record_buffer(new char[kDnsRecordBufferBytes]),
      dns_eve(std::span<char>(dns_record_buffer.get(), kDnsRecordBufferBytes)),
      dns_slots(new DnsSlot[worker_config.max_dns_sessions]),
      dns_tcp_buffers(new uint8_t[std::size_t{worker_config.max_dns_tcp_sessions} * kDnsTcpBufferBytes]) {
  for (const uint16_t port : config.smtp_ports) {
    smtp_ports.set(port);
  }
  free_flow_apps.reserve(config.max_flows);
  free_smtp_slots.reserve(config.max_smtp_sessions);
  for (uint32_t i = config.max_smtp_sessions; i-- > 0;) {
    free_smtp_slots.push_back(i);
  }
  environment.matcher = &binding;
  environment.output = &smtp_records;
  environment.counters = &smtp_counters;
  environment.anomalies = &smtp_anomalies;
  smtp_records.set_pcap_filename(pcap_filename);
  smtp_records.set_alert_kind_counts(&alert_kinds);
  environment.smtp_config.max_line_bytes = config.max_line_bytes;
  environment.roles = config.roles;
  for (const uint16_t port : config.learned_smtp_ports) {
    learned_smtp_ports.set(port);
  }

  for (const uint16_t port : config.dns_ports) {
    dns_ports.set(port);
  }
  free_dns_slots.reserve(config.max_dns_sessions);
  for (uint32_t i = config.max_dns_sessions; i-- > 0;) {
    free_dns_slots.push_back(i);
  }
  free_dns_tcp_buffers.reserve(config.max_dns_tcp_sessions);
  for (uint32_t i = config.max_dns_tcp_sessions; i-- > 0;) {
    free_dns_tcp_buffers.push_back(i);
  }
  LearnedAddressBook* book = config.learned_book;
  uint32_t book_worker = config.worker_id;
  if (book == nullptr) {
    LearnedBookConfig book_config;
    book_config.workers = 1;
    book_config.facts_per_worker = config.learned_facts;
    book_config.max_age_ns = config.learned_max_age_ns;
    own_learned_book = std::make_unique<LearnedAddressBook>(book_config);
    book = own_learned_book.get();
    book_worker = 0;
  }
  dns_environment.matcher = &binding;
  dns_environment.eve = &eve;
  dns_environment.dns_eve = &dns_eve;
  dns_environment.sink = &sink;
  dns_environment.counters = &dns_counters;
  dns_environment.anomalies = &dns_anomalies;
  dns_environment.alert_kinds = &alert_kinds;
  dns_environment.learned = book;
  dns_environment.learned_counters = &learned_counters;
  dns_environment.worker_id = book_worker;
  dns_environment.roles = config.roles;
  dns_environment.dns_log = config.dns_log;
  dns_environment.pcap_filename = pcap_filename;
  eve.set_host(config.sensor_name);
  dns_eve.set_host(config.sensor_name);
  if (!config.evidence_dir.empty()) {
    evidence_ring = std::make_unique<EvidenceRing>(config.evidence_ring_bytes);
    EvidenceRecorderConfig evidence_config;
    evidence_config.max_flows = config.max_flows;
    evidence_config.buffers = config.evidence_buffers;
    evidence_config.buffer_bytes = config.evidence_buffer_bytes;
    evidence = std::make_unique<EvidenceRecorder>(evidence_config, *evidence_ring);
    smtp_records.set_evidence_dir(config.evidence_dir);
  }
  eve.set_input_names(config.input_names);
  dns_eve.set_input_names(config.input_names);
}

// Sessions still open when a worker is destroyed without finish() own nothing outside their
// slot, so the slots are simply released with the pool.
Worker::Impl::~Impl() = default;

inline void Worker::Impl::advance_clock(uint64_t timestamp_ns) noexcept {
  if (new_source) {
    new_source = false;
    clock_offset_ns = clock_ns >= timestamp_ns ? clock_ns - timestamp_ns + 1'000'000'000 : 0;
  }
  if (timestamp_ns + clock_offset_ns > clock_ns) {
    clock_ns = timestamp_ns + clock_offset_ns;
  }
  now_ns = clock_ns - clock_offset_ns;
}

void Worker::Impl::process_stage(std::span<const PacketView> packets) noexcept {
  std::size_t next = 0;
  while (next < packets.size()) {
    // Decode, key, hash and prefetch the home bucket of each TCP packet. The clock each packet
    // would have seen is kept with it, so that processing later sees the same times. A datagram
    // reassembled from fragments lives in the decoder's buffer only until the next decode: the
    // stage ends with it.
    std::size_t tcp = 0;
    while (next < packets.size()) {
      const PacketView& packet = packets[next];
      advance_clock(packet.timestamp_ns);
      if (clock_ns - last_housekeeping_ns >= kHousekeepingIntervalNs) [[unlikely]] {
        // Timers run by packet time before the packet is looked at, so that a flow whose time
        // is up ends before a packet that comes after it (a SYN reusing its ports, say), however
        // long the quiet before it. Staged packets go first, at the times they saw; this packet
        // is looked at again after (advance_clock gives the same clock a second time).
        if (tcp > 0) {
          break;
        }
        housekeeping(now_ns);
      }
      ++next;
      counters.add(WorkerCounter::kPackets);
      counters.add(WorkerCounter::kBytes, packet.wire_length);
      Staged& entry = staged[tcp];
      entry.frame = &packet;
      const DecodeResult result = decoder.decode(packet, entry.decoded);
      if (result == DecodeResult::kTcp) [[likely]] {
        entry.key = FlowKey::from_packet(entry.decoded);
        entry.hash = entry.key.hash();
        entry.clock_ns = clock_ns;
        entry.now_ns = now_ns;
        entry.order = packet.order;
        entry.input = packet.input;
        entry.quiet_before = packet.quiet_before;
        flows.prefetch_bucket(entry.hash);
        ++tcp;
        if (entry.decoded.reassembled) {
          break;
        }
        continue;
      }
      if (result == DecodeResult::kOtherIp && entry.decoded.ip_protocol == kProtoUdp &&
          (dns_ports.test(entry.decoded.src_port) || dns_ports.test(entry.decoded.dst_port))) {
        // DNS over UDP takes the TCP packets' way through the flow table (its datagrams are
        // read in place, so they too must be processed before the burst's frames are released).
        counters.add(WorkerCounter::kDnsDatagrams);
        entry.key = FlowKey::from_packet(entry.decoded);
        entry.hash = entry.key.hash();
        entry.clock_ns = clock_ns;
        entry.now_ns = now_ns;
        entry.order = packet.order;
        entry.input = packet.input;
        entry.quiet_before = packet.quiet_before;
        flows.prefetch_bucket(entry.hash);
        ++tcp;
        if (entry.decoded.reassembled) {
          break;
        }
        continue;
      }
      switch (result) {
        case DecodeResult::kOtherIp:
          counters.add(WorkerCounter::kOtherIpPackets);
          break;
        case DecodeResult::kFragmentHeld:
          counters.add(WorkerCounter::kFragmentsHeld);
          break;
        case DecodeResult::kDropped:
          counters.add(WorkerCounter::kDecodeDrops);
          break;
        case DecodeResult::kTcp:
          break;
      }
    }
    const uint64_t stage_clock_ns = clock_ns;
    const uint64_t stage_now_ns = now_ns;
    for (std::size_t i = 0; i < tcp; ++i) {
      flows.prefetch_flow(staged[i].hash);
    }
    for (std::size_t i = 0; i < tcp; ++i) {
      clock_ns = staged[i].clock_ns;
      now_ns = staged[i].now_ns;
      packet_order = staged[i].order;
      packet_quiet_before = staged[i].quiet_before;
      if (staged[i].decoded.ip_protocol == kProtoUdp) [[unlikely]] {
        process_udp(i);
      } else {
        process_tcp(i);
      }
    }
    clock_ns = stage_clock_ns;
    now_ns = stage_now_ns;
  }
}

void Worker::Impl::process_tcp(std::size_t index) noexcept {
  const Staged& entry = staged[index];
  counters.add(WorkerCounter::kTcpPackets);
  FlowLookup lookup = flows.find_or_create(entry.key, entry.hash, clock_ns, *this);
  if (!lookup.created && FlowTable::opens_new_connection(*lookup.flow, entry.decoded)) [[unlikely]] {
    // Port reuse: the old connection's records are written as it ends, the SYN starts a new one.
    lookup = flows.restart(*lookup.flow, entry.key, entry.hash, clock_ns, *this);
  }
  Flow& flow = *lookup.flow;
  flows.account(flow, lookup.direction, entry.decoded);
  if (lookup.created) {
    start_flow(flow, entry.decoded, lookup.direction);
    remember_tunnel(flow, entry.decoded);
    flow.input = entry.input;
  }
  if (evidence != nullptr) [[unlikely]] {
    record_evidence(flow, lookup.created, entry);
  }
  if ((flow.app_state & kAppInspect) == 0) {
    return;
  }
  reassembler.on_segment(flow, lookup.direction, entry.decoded, clock_ns, *this);
  if (release_after_segment != nullptr) {
    reassembler.release(*release_after_segment);
    release_app(*release_after_segment);
    release_after_segment = nullptr;
  }
}

void Worker::Impl::record_evidence(Flow& flow, bool created, const Staged& entry) noexcept {
  const uint32_t slot = flows.slot_of(flow);
  if (created && (flow.app_state & kAppInspect) != 0 && (flow.app_state & kAppDns) == 0) {
    // Any TCP flow still inspected may turn out to be SMTP (by port, or by behaviour).
    evidence->on_flow_start(slot);
  }
  evidence->on_frame(slot, flow.flow_id, *entry.frame, entry.decoded.reassembled);
}

void Worker::Impl::process_udp(std::size_t index) noexcept {
  const Staged& entry = staged[index];
  const FlowLookup lookup = flows.find_or_create(entry.key, entry.hash, clock_ns, *this);
  Flow& flow = *lookup.flow;
  flows.account(flow, lookup.direction, entry.decoded);
  if (lookup.created) {
    start_flow(flow, entry.decoded, lookup.direction);
    remember_tunnel(flow, entry.decoded);
    flow.input = entry.input;
  }
  if ((flow.app_state & (kAppInspect | kAppDns)) != (kAppInspect | kAppDns)) {
    return;
  }
  DnsFlow* dns = dns_for(flow);
  if (dns == nullptr) {
    return;
  }
  const inspect::Direction direction = direction_of(lookup.direction, client_to_server_of(flow));
  if (direction == inspect::Direction::kServerToClient) {
    order_learned_read();  // an answer may name an exchanger another worker learned
  }
  // A datagram cut short by the capture is given as captured: the parser counts it malformed.
  dns->feed(direction,
            std::span<const uint8_t>(entry.decoded.payload, entry.decoded.captured_payload_length), now_ns);
}

FlowIdentity Worker::Impl::identity_of(const Flow& flow,
                                       std::optional<FlowDirection> client_to_server) const noexcept {
  FlowIdentity identity;
  identity.flow_id = flow.flow_id;
  const bool client_is_a = client_to_server == FlowDirection::kAToB;
  identity.client.bytes = client_is_a ? flow.key.address_a : flow.key.address_b;
  identity.server.bytes = client_is_a ? flow.key.address_b : flow.key.address_a;
  identity.client.version = flow.key.ip_version;
  identity.server.version = flow.key.ip_version;
  identity.client_port = client_is_a ? flow.key.port_a : flow.key.port_b;
  identity.server_port = client_is_a ? flow.key.port_b : flow.key.port_a;
  identity.vlan_ids[0] = flow.key.vlan_ids[0];
  identity.vlan_ids[1] = flow.key.vlan_ids[1];
  identity.vlan_count = flow.key.vlan_ids[1] != 0 ? 2 : (flow.key.vlan_ids[0] != 0 ? 1 : 0);
  identity.protocol = flow.key.protocol;
  identity.input = flow.input;
  identity.community_id =
      community_id_v1({identity.client, identity.client_port}, {identity.server, identity.server_port},
                      flow.key.protocol, config.community_id_seed);
  if ((flow.app_state & kAppTunnelled) != 0) {
    identity.tunnel = flow_tunnel(flow);
  }
  return identity;
}

DnsFlow* Worker::Impl::dns_for(Flow& flow) noexcept {
  FlowApp* app = app_for(flow);
  if (app == nullptr) {
    stop_inspecting(flow);
    return nullptr;
  }
  if (app->dns_slot != kNoSlot) {
    return dns_slots[app->dns_slot].get();
  }
  const bool tcp = flow.key.protocol != kProtoUdp;
  if (free_dns_slots.empty() || (tcp && free_dns_tcp_buffers.empty())) {
    counters.add(WorkerCounter::kDnsSessionsUnavailable);
    if (tcp) {
      stop_inspecting(flow);
    } else {
      flow.app_state &= static_cast<uint8_t>(~kAppInspect);
      release_app(flow);
    }
    return nullptr;
  }
  app->dns_slot = free_dns_slots.back();
  free_dns_slots.pop_back();
  std::span<uint8_t> buffer;
  if (tcp) {
    app->dns_tcp_buffer = free_dns_tcp_buffers.back();
    free_dns_tcp_buffers.pop_back();
    buffer = std::span<uint8_t>(dns_tcp_buffers.get() + std::size_t{app->dns_tcp_buffer} * kDnsTcpBufferBytes,
                                kDnsTcpBufferBytes);
  }
  return new (dns_slots[app->dns_slot].storage)
      DnsFlow(dns_environment, identity_of(flow, client_to_server_of(flow)),
              tcp ? inspect::DnsTransport::kTcp : inspect::DnsTransport::kUdp, buffer);
}

FlowApp* Worker::Impl::app_for(Flow& flow) noexcept {
  if (flow.app_slot != Flow::kNoApp) {
    return &flow_app(flow.app_slot);
  }
  uint32_t slot;
  if (!free_flow_apps.empty()) {
    slot = free_flow_apps.back();
    free_flow_apps.pop_back();
  } else if (flow_apps_fresh < config.max_flows) {
    slot = flow_apps_fresh++;
  } else {
    return nullptr;  // cannot happen: at most one FlowApp per flow record
  }
  flow.app_slot = slot;
  FlowApp* app = new (&flow_app(slot)) FlowApp{};
  if ((flow.app_state & kAppSmtpByPort) != 0) {
    app->detection.protocol = AppProtocol::kSmtp;
    app->detection.stage = AppDetection::Stage::kDecided;
    app->detection.client_to_server = client_to_server_of(flow);
  }
  return app;
}

void Worker::Impl::release_app(Flow& flow) noexcept {
  if (flow.app_slot == Flow::kNoApp || flow_app(flow.app_slot).smtp_slot != kNoSlot ||
      flow_app(flow.app_slot).dns_slot != kNoSlot) {
    return;  // an SMTP or DNS session keeps its FlowApp until the flow ends
  }
  free_flow_apps.push_back(flow.app_slot);
  flow.app_slot = Flow::kNoApp;
}

void Worker::Impl::start_flow(Flow& flow, const DecodedPacket& packet, FlowDirection direction) noexcept {
  flow.app_slot = Flow::kNoApp;
  flow.app_state = kAppInspect;
  const uint16_t port_a = flow.key.port_a;
  const uint16_t port_b = flow.key.port_b;
  const bool dns_a = dns_ports.test(port_a);
  const bool dns_b = dns_ports.test(port_b);
  if (dns_a || dns_b) {
    // The querier is the side off the DNS port; with both on it, the sender of the first packet.
    const FlowDirection client_to_server =
        dns_a != dns_b ? (dns_a ? FlowDirection::kBToA : FlowDirection::kAToB) : direction;
    counters.add(WorkerCounter::kDnsFlows);
    flow.app_state = kAppInspect | kAppDns | client_bit(client_to_server);
    count_dns_stream(flow, +1);
    return;
  }
  if (port_a == kImplicitTlsPort || port_b == kImplicitTlsPort) {
    // SMTP over TLS: nothing of the session is readable but the ClientHello (its server name)
    // and the server's address (a look-alike's DNS answer may have given it).
    counters.add(WorkerCounter::kImplicitTlsFlows);
    const FlowDirection client_to_server = port_a == kImplicitTlsPort && port_b != kImplicitTlsPort
                                               ? FlowDirection::kBToA
                                               : FlowDirection::kAToB;
    flow.app_state |= kAppSmtpByPort | kAppImplicitTls | client_bit(client_to_server);
    return;
  }
  const bool smtp_a = smtp_ports.test(port_a) || port_a == kLmtpPort;
  const bool smtp_b = smtp_ports.test(port_b) || port_b == kLmtpPort;
  if (smtp_a || smtp_b) {
    // The server listens on the SMTP port. Both ends on SMTP ports (relay to relay): the SYN
    // decides, else the sender of this first packet is taken as the client.
    FlowDirection client_to_server;
    if (smtp_a != smtp_b) {
      client_to_server = smtp_a ? FlowDirection::kBToA : FlowDirection::kAToB;
    } else {
      const bool syn_ack = (packet.tcp_flags & (kTcpSyn | kTcpAck)) == (kTcpSyn | kTcpAck);
      client_to_server = syn_ack ? opposite(direction) : direction;
    }
    const bool lmtp = (client_to_server == FlowDirection::kBToA ? port_a : port_b) == kLmtpPort;  // the server's port
    counters.add(lmtp ? WorkerCounter::kLmtpFlowsByPort : WorkerCounter::kSmtpFlowsByPort);
    flow.app_state |= kAppSmtpByPort | (lmtp ? kAppLmtp : 0) | client_bit(client_to_server);
    return;
  }
  if (!config.port_agnostic_detection) {
    counters.add(WorkerCounter::kOtherFlows);
    flow.app_state = 0;
  }
}

void Worker::Impl::become_smtp(Flow& flow, FlowApp& app,
                               std::optional<FlowDirection> client_to_server) noexcept {
  if (free_smtp_slots.empty()) {
    counters.add(WorkerCounter::kSmtpSessionsUnavailable);
    stop_inspecting(flow);
    return;
  }
  app.smtp_slot = free_smtp_slots.back();
  free_smtp_slots.pop_back();

  const FlowIdentity identity = identity_of(flow, client_to_server);
  SmtpFlowStart start;
  start.implicit_tls = (flow.app_state & kAppImplicitTls) != 0;
  start.lmtp = (flow.app_state & kAppLmtp) != 0;
  // An SMTP connection to an address a look-alike's DNS answer gave (any worker may have seen
  // the answer: the book is shared, read without locks).
  LearnedFact evidence;
  if (learned_smtp_ports.test(identity.server_port) && dns_environment.learned != nullptr) {
    order_learned_read();
    if (dns_environment.learned->find_address(identity.server, now_ns, evidence, learned_counters)) {
      start.evidence = &evidence;
    }
  }
  char* line_buffer = line_buffers.get() + std::size_t{app.smtp_slot} * config.max_line_bytes;
  new (smtp_slots[app.smtp_slot].storage)
      SmtpFlow(environment, identity, std::span<char>(line_buffer, config.max_line_bytes), start);
}

void Worker::Impl::stop_inspecting(Flow& flow) noexcept {
  flow.app_state &= static_cast<uint8_t>(~kAppInspect);
  release_after_segment = &flow;
  if (evidence != nullptr) {
    evidence->on_inspection_end(flows.slot_of(flow));
  }
}

void Worker::Impl::feed_smtp(Flow& flow, FlowApp& app, FlowDirection direction,
                             std::span<const uint8_t> bytes) noexcept {
  if (app.smtp_slot == kNoSlot || bytes.empty()) {
    return;
  }
  const inspect::Direction smtp_direction = direction_of(direction, app.detection.client_to_server);
  const bool from_client = smtp_direction == inspect::Direction::kClientToServer;
  // Replies can overtake the commands they answer when the client's stream waits on a hole.
  const bool client_lagging =
      !from_client && flow.stream(opposite(direction)).holds_data();
  smtp_slots[app.smtp_slot].get()->feed(
      smtp_direction, bytes, now_ns, client_lagging);
}

void Worker::Impl::stream_data(Flow& flow, FlowDirection direction,
                               std::span<const uint8_t> bytes) noexcept {
  if ((flow.app_state & kAppInspect) == 0) {
    return;
  }
  FlowApp* app_record = app_for(flow);
  if (app_record == nullptr) {
    stop_inspecting(flow);
    return;
  }
  FlowApp& app = *app_record;
  if ((flow.app_state & kAppDns) != 0) {
    DnsFlow* dns = dns_for(flow);
    if (dns != nullptr && !bytes.empty()) {
      const inspect::Direction dns_direction = direction_of(direction, client_to_server_of(flow));
      if (dns_direction == inspect::Direction::kServerToClient) {
        order_learned_read();  // an answer may name an exchanger another worker learned
      }
      dns->feed(dns_direction, bytes, now_ns);
    }
    return;
  }
  if (app.detection.protocol == AppProtocol::kSmtp) {
    if (app.smtp_slot == kNoSlot) {
      become_smtp(flow, app, app.detection.client_to_server);
    }
    feed_smtp(flow, app, direction, bytes);
    return;
  }
  const DetectStep step = AppDetector::on_data(app.detection, direction, bytes);
  switch (step.protocol) {
    case AppProtocol::kUndecided:
      return;
    case AppProtocol::kSmtp: {
      counters.add(WorkerCounter::kSmtpFlowsDetected);
      if (app.detection.tunnelled) {
        counters.add(WorkerCounter::kSmtpFlowsTunnelled);
      }
      become_smtp(flow, app, app.detection.client_to_server);
      feed_smtp(flow, app, direction,
                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(step.replay.data()),
                                         step.replay.size()));
      feed_smtp(flow, app, direction, bytes.subspan(step.consumed));
      return;
    }
    case AppProtocol::kImplicitTls:
    case AppProtocol::kOther:
      counters.add(WorkerCounter::kOtherFlows);
      stop_inspecting(flow);
      return;
  }
}

void Worker::Impl::stream_gap(Flow& flow, FlowDirection direction, uint64_t missing_bytes) noexcept {
  if ((flow.app_state & kAppInspect) == 0) {
    return;
  }
  // No FlowApp yet: no bytes arrived, so no session started and detection saw nothing.
  const FlowApp empty;
  const FlowApp& app = flow.app_slot != Flow::kNoApp ? flow_app(flow.app_slot) : empty;
  if ((flow.app_state & kAppDns) != 0) {
    if (app.dns_slot != kNoSlot) {
      dns_slots[app.dns_slot].get()->gap(direction_of(direction, client_to_server_of(flow)),
                                         missing_bytes, now_ns);
    }
    return;
  }
  if (app.smtp_slot != kNoSlot) {
    counters.add(WorkerCounter::kSmtpStreamGaps);
    const inspect::Direction smtp_direction = direction_of(direction, app.detection.client_to_server);
    smtp_slots[app.smtp_slot].get()->gap(smtp_direction, missing_bytes, now_ns);
    return;
  }
  if (app.detection.protocol != AppProtocol::kSmtp && (flow.app_state & kAppSmtpByPort) == 0) {
    // Detection reads the first bytes of each direction; with some of them lost it cannot decide.
    counters.add(WorkerCounter::kDetectionAbandoned);
    stop_inspecting(flow);
  }
  // A port-based SMTP flow whose session has not started yet: the session starts at the next byte.
}

void Worker::Impl::on_stream_end(Flow& flow, FlowDirection) noexcept {
  // While one direction is still open the session waits, so that replies that trail the client's
  // FIN are still matched. Once both have ended nothing more can reach it: it ends now rather
  // than with the flow record (closed_timeout_ns later), so that its slot serves the next session
  // (a busy relay ends more sessions within one closed timeout than there are slots).
  if (!flow.streams[0].ended() || !flow.streams[1].ended()) {
    return;
  }
  end_session(flow);
  flow.app_state &= static_cast<uint8_t>(~kAppInspect);  // the last ACKs skip the reassembler
}

void Worker::Impl::end_session(Flow& flow) noexcept {
  if (flow.app_slot == Flow::kNoApp) {
    return;
  }
  FlowApp& app = flow_app(flow.app_slot);
  if (app.smtp_slot != kNoSlot) {
    SmtpFlow* session = smtp_slots[app.smtp_slot].get();
    const uint64_t alerts_before = smtp_counters.get(SmtpCounter::kAlerts);
    session->finish(now_ns);
    note_alerts(flow, alerts_before);
    session->~SmtpFlow();
    free_smtp_slots.push_back(app.smtp_slot);
    app.smtp_slot = kNoSlot;
    if (evidence != nullptr) {
      // The session is over: a flow that did not alert gives its buffer back.
      evidence->on_inspection_end(flows.slot_of(flow));
    }
  }
  if (app.dns_slot != kNoSlot) {
    DnsFlow* dns = dns_slots[app.dns_slot].get();
    dns->finish(now_ns);
    dns->~DnsFlow();
    free_dns_slots.push_back(app.dns_slot);
    app.dns_slot = kNoSlot;
    if (app.dns_tcp_buffer != kNoSlot) {
      free_dns_tcp_buffers.push_back(app.dns_tcp_buffer);
      app.dns_tcp_buffer = kNoSlot;
    }
  }
  free_flow_apps.push_back(flow.app_slot);
  flow.app_slot = Flow::kNoApp;
}

void Worker::Impl::on_flow_end(Flow& flow, FlowEndReason) noexcept {
  if (flow.key.protocol == kProtoUdp) {
    // No reassembly for datagrams.
  } else if ((flow.app_state & kAppInspect) != 0) {
    // Holes still open become gaps and held bytes after them are delivered before the end.
    reassembler.finish(flow, *this);
  } else {
    reassembler.release(flow);
  }
  if (release_after_segment == &flow) {
    release_after_segment = nullptr;
  }
  const bool dns = (flow.app_state & kAppDns) != 0;
  flow.app_state = 0;
  end_session(flow);
  if (evidence != nullptr) {
    evidence->on_flow_end(flows.slot_of(flow), flow.flow_id);
  }
  if (dns) {
    count_dns_stream(flow, -1);  // after the last bytes it held were delivered
  }
}

void Worker::Impl::housekeeping(uint64_t now) noexcept {
  if (now + clock_offset_ns > clock_ns) {
    clock_ns = now + clock_offset_ns;
  }
  now_ns = clock_ns - clock_offset_ns;
  last_housekeeping_ns = clock_ns;
  flows.advance(clock_ns, *this);
  reassembler.advance(clock_ns, *this);
  decoder.expire(clock_ns);
}

Worker::Worker(const WorkerConfig& config, RecordSink& sink) : impl_(std::make_unique<Impl>(config, sink)) {}

Worker::~Worker() = default;

void Worker::bind_matcher(const MatcherBinding& binding) noexcept { impl_->binding = binding; }

void Worker::set_source_name(const std::string& name) {
  impl_->pcap_filename = name;
  impl_->smtp_records.set_pcap_filename(impl_->pcap_filename);
  impl_->dns_environment.pcap_filename = impl_->pcap_filename;
  impl_->new_source = true;
}

void Worker::process_burst(std::span<const PacketView> packets) noexcept {
  Impl& impl = *impl_;
  for (std::size_t i = 0; i < packets.size(); i += kStageBurst) {
    impl.process_stage(packets.subspan(i, std::min(kStageBurst, packets.size() - i)));
  }
  if (impl.clock_ns - impl.last_housekeeping_ns >= kHousekeepingIntervalNs) {
    impl.housekeeping(impl.now_ns);
  }
}

void Worker::process_share(std::span<const PacketView> share, uint64_t burst_first_ns,
                           uint64_t burst_max_ns, bool burst_end) noexcept {
  Impl& impl = *impl_;
  // The burst's first packet moves the clock first (and starts a new capture's offset) even when
  // it went to another worker.
  impl.advance_clock(burst_first_ns);
  for (std::size_t i = 0; i < share.size(); i += kStageBurst) {
    impl.process_stage(share.subspan(i, std::min(kStageBurst, share.size() - i)));
  }
  if (!burst_end) {
    return;
  }
  impl.advance_clock(burst_max_ns);
  if (impl.clock_ns - impl.last_housekeeping_ns >= kHousekeepingIntervalNs) {
    impl.housekeeping(impl.now_ns);
  }
}

void Worker::advance_time(uint64_t now_ns) noexcept { impl_->housekeeping(now_ns); }

uint64_t Worker::hash_seed() const noexcept { return impl_->hash_seed; }

void Worker::finish(uint64_t now_ns) noexcept {
  Impl& impl = *impl_;
  impl.housekeeping(now_ns);
  impl.flows.drain(impl);
}

void Worker::collect_stats(StatsNode& record) const {
  const Impl& impl = *impl_;
  add_counter_table(record, "misdirect.decoder", impl.decoder.counters(), kDecodeCounterInfo, kDecoderPlacements);
  add_counter_table(record, "misdirect.worker", impl.counters, kWorkerCounterInfo, kWorkerPlacements);
  add_counter_table(record, "misdirect.encapsulation", impl.decoder.encapsulation_counters(),
                    kEncapsulationCounterInfo, kEncapsulationPlacements);
  // Suricata counts fragments per IP version (defrag.ipv4.*, defrag.ipv6.*); the reassembler
  // counts both together, so its figures are misdirect's own.
  add_counter_table(record, "misdirect.defrag", impl.decoder.reassembler_counters(), kIpReassemblerCounterInfo);
  add_counter_table(record, "misdirect.flow", impl.flows.counters(), kFlowCounterInfo, kFlowPlacements);
  StatsNode& flow = record.at_path("stats.flow");
  flow.add("active", impl.flows.active());
  flow.add("memuse", impl.flows.memory_bytes());
  add_counter_table(record, "misdirect.tcp", impl.reassembler.counters(), kReassemblyCounterInfo,
                    kReassemblyPlacements);
  add_counter_table(record, "misdirect.smtp", impl.smtp_counters, kSmtpCounterInfo, kSmtpPlacements);
  StatsNode& anomalies = record.at_path("misdirect.smtp_anomalies");
  for (int i = 0; i < kSmtpAnomalyKindCount; ++i) {
    anomalies.add(inspect::anomaly_name(static_cast<inspect::SmtpAnomalyKind>(i)),
                  impl.smtp_anomalies[static_cast<std::size_t>(i)]);
  }
  StatsNode& own = record.child("misdirect");
  // Every alert record of every role (smtp.alerts + dns.alerts).
  own.add("alerts", totals().alerts);
  StatsNode& by_kind = own.child("alerts_by_kind");
  for (int kind = 0; kind < inspect::kLookalikeKindCount; ++kind) {
    const std::string_view name = inspect::kind_name(static_cast<inspect::LookalikeKind>(kind));
    by_kind.add(name, impl.alert_kinds[static_cast<std::size_t>(kind)]);
    by_kind.child(name).set_help(kAlertKindHelp);
  }
  add_counter_table(record, "misdirect.dns", impl.dns_counters, kDnsCounterInfo);
  StatsNode& dns_anomalies = record.at_path("misdirect.dns_anomalies");
  for (int i = 0; i < inspect::kDnsAnomalyKindCount; ++i) {
    dns_anomalies.add(inspect::dns_anomaly_name(static_cast<inspect::DnsAnomalyKind>(i)),
                      impl.dns_anomalies[static_cast<std::size_t>(i)]);
  }
  add_counter_table(record, "misdirect.learned", impl.learned_counters, kLearnedCounterInfo);
  if (impl.evidence != nullptr) {
    add_counter_table(record, "misdirect.evidence", impl.evidence->counters(), kEvidenceCounterInfo);
  }
  // The current matcher's verdict cache (a list push starts a new one, so these restart too).
  const inspect::VerdictCacheStats* cache =
      impl.binding.scratch != nullptr ? impl.binding.scratch->cache_stats() : nullptr;
  if (cache != nullptr) {
    StatsNode& node = record.at_path("misdirect.verdict_cache");
    node.add("hits", cache->hits);
    node.add("misses", cache->misses);
    node.add("bypassed", cache->bypassed);
  }
}

uint64_t Worker::matcher_generation() const noexcept { return impl_->binding.generation; }

EvidenceRing* Worker::evidence_ring() noexcept { return impl_->evidence_ring.get(); }

Worker::Totals Worker::totals() const noexcept {
  const Impl& impl = *impl_;
  Totals totals;
  totals.packets = impl.counters.get(WorkerCounter::kPackets);
  totals.bytes = impl.counters.get(WorkerCounter::kBytes);
  totals.alerts = impl.smtp_counters.get(SmtpCounter::kAlerts) + impl.dns_counters.get(DnsCounter::kAlerts);
  totals.records_dropped = impl.smtp_counters.get(SmtpCounter::kRecordsDropped) +
                           impl.dns_counters.get(DnsCounter::kRecordsDropped);
  totals.smtp_sessions = impl.smtp_counters.get(SmtpCounter::kSessions);
  totals.recipients = impl.smtp_counters.get(SmtpCounter::kRecipients);
  return totals;
}

}  // namespace misdirect::dataplane
