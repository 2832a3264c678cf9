// Worker::Impl: the state one worker owns, shared by the three files that make up Worker and
// included by nothing else. worker.cc builds it and runs the packet path (the two clocks, the
// staged burst, TCP segments and DNS datagrams through the flow table and reassembly, evidence
// frames); worker_dispatch.cc decides what each flow is and hands its bytes to SmtpFlow, DnsFlow
// or app detection; worker_stats.cc gathers the counters into the stats tree.
#pragma once

#include <array>
#include <bitset>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "dataplane/app/dns_flow.h"
#include "dataplane/app/learned_address_book.h"
#include "dataplane/app/smtp_flow.h"
#include "dataplane/counter_table.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/flow/app_detector.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/flow/tcp_stream.h"
#include "dataplane/output/eve_writer.h"
#include "dataplane/output/evidence_recorder.h"
#include "dataplane/output/evidence_ring.h"
#include "dataplane/output/lookalike_alert.h"
#include "dataplane/output/dns_record_writer.h"
#include "dataplane/output/smtp_record_writer.h"
#include "dataplane/worker.h"
#include "dataplane/worker_counters.h"

namespace misdirect::dataplane {

inline constexpr uint16_t kImplicitTlsPort = 465;
inline constexpr uint16_t kLmtpPort = 24;  // LMTP (RFC 2033) between mail hubs and mailbox stores
inline constexpr std::size_t kRecordBufferBytes = 512 * 1024;  // one smtp record with ~1000 recipients
// One dns record: at most DnsMessageParser::kMaxRecords records of a 64 KiB message, escaped.
inline constexpr std::size_t kDnsRecordBufferBytes = 256 * 1024;
inline constexpr std::size_t kDnsTcpBufferBytes = 2 * inspect::DnsSession::kDefaultTcpMessageBytes;
inline constexpr uint64_t kHousekeepingIntervalNs = 100'000'000;
inline constexpr uint32_t kNoSlot = UINT32_MAX;
// process_burst works through its packets in stages over this many at a time (decode all, then
// prefetch every bucket, then every flow record, then process), so each stage's cache misses
// overlap instead of being paid one packet after another.
inline constexpr std::size_t kStageBurst = 32;

// Flow::app_state, set when the flow starts. Kept in the flow record (whose first line the lookup
// has just read) so that flows no longer inspected never touch the FlowApp side table.
inline constexpr uint8_t kAppInspect = 0x01;     // reassembly runs: detection or SMTP parsing wants bytes
inline constexpr uint8_t kAppSmtpByPort = 0x02;  // on a configured SMTP port: SMTP without detection
inline constexpr uint8_t kAppDns = 0x08;         // on a DNS port (UDP datagrams or a TCP stream): DnsFlow
inline constexpr uint8_t kAppImplicitTls = 0x10; // with kAppSmtpByPort: port 465, TLS from the first byte
inline constexpr uint8_t kAppLmtp = 0x20;        // with kAppSmtpByPort: port 24, LMTP until the client greets
inline constexpr uint8_t kAppTunnelled = 0x80;   // the first packet was encapsulated: see flow_tunnel()
inline constexpr uint8_t kProtoUdp = 17;

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
  // What a new flow is, by its ports; corrects the flow table's client when a port says which
  // end listens.
  void start_flow(Flow& flow) noexcept;
  FlowApp* app_for(Flow& flow) noexcept;
  void release_app(Flow& flow) noexcept;
  // Finishes the flow's SMTP session (its records are written) and frees its slots.
  void end_session(Flow& flow) noexcept;
  void become_smtp(Flow& flow, FlowApp& app) noexcept;
  // Client and server of `flow` (as Flow::client says).
  FlowIdentity identity_of(const Flow& flow) const noexcept;
  void stop_inspecting(Flow& flow) noexcept;
  void feed_smtp(Flow& flow, FlowApp& app, inspect::Direction direction,
                 std::span<const uint8_t> bytes) noexcept;

  void stream_data(Flow& flow, inspect::Direction direction, std::span<const uint8_t> bytes) noexcept;
  void stream_gap(Flow& flow, inspect::Direction direction, uint64_t missing_bytes) noexcept;
  // Evidence: every frame of a flow is offered (before inspection decides anything); an SMTP
  // flow that wrote an alert keeps its frames from then on.
  struct Staged;
  void record_evidence(Flow& flow, bool created, const Staged& entry) noexcept;
  void note_alerts(const Flow& flow, uint64_t alerts_before) noexcept {
    if (evidence != nullptr && smtp_counters.get(SmtpCounter::kAlerts) != alerts_before) [[unlikely]] {
      evidence->on_alert(flows.slot_of(flow), flow.flow_id);
    }
  }

  void on_stream_data(Flow& flow, inspect::Direction direction, std::span<const uint8_t> bytes) noexcept override {
    const uint64_t alerts_before = smtp_counters.get(SmtpCounter::kAlerts);
    stream_data(flow, direction, bytes);
    note_alerts(flow, alerts_before);
  }
  void on_stream_gap(Flow& flow, inspect::Direction direction, uint64_t missing_bytes) noexcept override {
    const uint64_t alerts_before = smtp_counters.get(SmtpCounter::kAlerts);
    stream_gap(flow, direction, missing_bytes);
    note_alerts(flow, alerts_before);
  }
  void on_stream_end(Flow& flow, inspect::Direction direction) noexcept override;
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
  // DNS: ports, slots, the dns record buffer and the writer of its records, counters, and what
  // answers taught.
  std::bitset<65536> dns_ports;
  std::unique_ptr<char[]> dns_record_buffer;
  EveWriter dns_eve;
  CounterArray<DnsCounter> dns_counters;
  std::array<uint64_t, inspect::kDnsAnomalyKindCount> dns_anomalies{};
  DnsRecordWriter dns_records;
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

}  // namespace misdirect::dataplane
