// Worker: construction and the packet path of one thread — the two clocks, the staged burst
// (decode, key, hash and prefetch; then each packet through the flow table, evidence and
// reassembly) and the housekeeping timers. What a flow is and where its bytes go:
// worker_dispatch.cc; its counters in the stats tree: worker_stats.cc; the state the three share:
// worker_impl.h.
#include "dataplane/worker.h"

#include <algorithm>
#include <memory>
#include <random>
#include <span>
#include <string>

#include "dataplane/worker_impl.h"

namespace misdirect::dataplane {

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
      dns_records(eve, dns_eve, record_sink, dns_counters),
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
  dns_environment.output = &dns_records;
  dns_environment.counters = &dns_counters;
  dns_environment.anomalies = &dns_anomalies;
  dns_records.set_pcap_filename(pcap_filename);
  dns_records.set_alert_kind_counts(&alert_kinds);
  dns_environment.learned = book;
  dns_environment.learned_counters = &learned_counters;
  dns_environment.worker_id = book_worker;
  dns_environment.roles = config.roles;
  dns_environment.dns_log = config.dns_log;
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
  flows.account(flow, lookup.sender, entry.decoded);
  if (lookup.created) {
    start_flow(flow);
    remember_tunnel(flow, entry.decoded);
    flow.input = entry.input;
  }
  if (evidence != nullptr) [[unlikely]] {
    record_evidence(flow, lookup.created, entry);
  }
  if ((flow.app_state & kAppInspect) == 0) {
    return;
  }
  reassembler.on_segment(flow, lookup.sender, entry.decoded, clock_ns, *this);
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
  flows.account(flow, lookup.sender, entry.decoded);
  if (lookup.created) {
    start_flow(flow);
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
  const inspect::Direction direction = lookup.direction();
  if (direction == inspect::Direction::kServerToClient) {
    order_learned_read();  // an answer may name an exchanger another worker learned
  }
  // A datagram cut short by the capture is given as captured: the parser counts it malformed.
  dns->feed(direction,
            std::span<const uint8_t>(entry.decoded.payload, entry.decoded.captured_payload_length), now_ns);
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
  impl_->dns_records.set_pcap_filename(impl_->pcap_filename);
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

uint64_t Worker::matcher_generation() const noexcept { return impl_->binding.generation; }

EvidenceRing* Worker::evidence_ring() noexcept { return impl_->evidence_ring.get(); }

}  // namespace misdirect::dataplane
