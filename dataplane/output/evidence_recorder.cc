// EvidenceRecorder: per-flow buffers of first frames, queued to the ring when the flow alerts.
#include "dataplane/output/evidence_recorder.h"

#include <cstring>

namespace misdirect::dataplane {

EvidenceRecorder::EvidenceRecorder(const EvidenceRecorderConfig& config, EvidenceRing& ring)
    : config_(config),
      ring_(ring),
      state_(new uint32_t[config.max_flows]),
      storage_(new uint8_t[std::size_t{config.buffers} * config.buffer_bytes]),
      buffers_(new Buffer[config.buffers]) {
  for (uint32_t i = 0; i < config_.max_flows; ++i) {
    state_[i] = kIdle;
  }
  free_buffers_.reserve(config_.buffers);
  for (uint32_t i = config_.buffers; i-- > 0;) {
    free_buffers_.push_back(i);
  }
}

void EvidenceRecorder::on_flow_start(uint32_t flow_slot) noexcept {
  if (state_[flow_slot] != kIdle) {
    return;
  }
  if (free_buffers_.empty()) {
    counters_.add(EvidenceCounter::kFlowsUnbuffered);
    state_[flow_slot] = kWaiting;
    return;
  }
  const uint32_t buffer = free_buffers_.back();
  free_buffers_.pop_back();
  buffers_[buffer].used = 0;
  state_[flow_slot] = buffer;
  counters_.add(EvidenceCounter::kFlowsBuffered);
}

void EvidenceRecorder::queue(const EvidenceEntry& entry, std::span<const uint8_t> bytes) noexcept {
  if (ring_.push(entry, bytes)) {
    counters_.add(EvidenceCounter::kFramesQueued);
  } else {
    counters_.add(EvidenceCounter::kFramesRingFull);
  }
}

void EvidenceRecorder::on_frame(uint32_t flow_slot, uint64_t flow_id, const PacketView& frame,
                                bool reassembled) noexcept {
  const uint32_t state = state_[flow_slot];
  if (state == kIdle || state == kWaiting) {
    return;
  }
  if (reassembled) {
    counters_.add(EvidenceCounter::kFragmentsNotKept);
    return;
  }
  EvidenceEntry entry;
  entry.flow_id = flow_id;
  entry.timestamp_ns = frame.timestamp_ns;
  entry.wire_length = frame.wire_length;
  entry.link_type = static_cast<uint8_t>(frame.link_type);
  const std::span<const uint8_t> bytes(frame.data, frame.captured_length);
  if (state == kStreaming) {
    queue(entry, bytes);
    return;
  }
  Buffer& buffer = buffers_[state];
  const std::size_t need = evidence_entry_bytes(bytes.size());
  if (buffer.used + need > config_.buffer_bytes) {
    counters_.add(EvidenceCounter::kFramesNotBuffered);
    return;
  }
  uint8_t* at = buffer_bytes(state) + buffer.used;
  entry.captured_length = frame.captured_length;
  entry.entry_bytes = static_cast<uint32_t>(need);
  std::memcpy(at, &entry, sizeof(entry));
  std::memcpy(at + sizeof(entry), bytes.data(), bytes.size());
  buffer.used += static_cast<uint32_t>(need);
  counters_.add(EvidenceCounter::kFramesBuffered);
}

void EvidenceRecorder::on_alert(uint32_t flow_slot, uint64_t flow_id) noexcept {
  const uint32_t state = state_[flow_slot];
  if (state == kStreaming) {
    return;
  }
  counters_.add(EvidenceCounter::kFlowsAlerted);
  if (state != kIdle && state != kWaiting) {
    const uint8_t* at = buffer_bytes(state);
    const uint8_t* end = at + buffers_[state].used;
    while (at < end) {
      EvidenceEntry entry;
      std::memcpy(&entry, at, sizeof(entry));
      entry.flow_id = flow_id;
      queue(entry, std::span<const uint8_t>(at + sizeof(entry), entry.captured_length));
      at += entry.entry_bytes;
    }
    free_buffers_.push_back(state);
  }
  state_[flow_slot] = kStreaming;
}

void EvidenceRecorder::release(uint32_t flow_slot) noexcept {
  const uint32_t state = state_[flow_slot];
  if (state != kIdle && state != kWaiting && state != kStreaming) {
    free_buffers_.push_back(state);
  }
  state_[flow_slot] = kIdle;
}

void EvidenceRecorder::on_inspection_end(uint32_t flow_slot) noexcept {
  if (state_[flow_slot] != kStreaming) {
    release(flow_slot);
  }
}

void EvidenceRecorder::on_flow_end(uint32_t flow_slot, uint64_t flow_id) noexcept {
  if (state_[flow_slot] == kStreaming) {
    EvidenceEntry end;
    end.flow_id = flow_id;
    end.kind = EvidenceEntryKind::kFlowEnd;
    // Not counted as a frame; a lost end only leaves the file open until the writer closes it.
    (void)ring_.push(end, {});
  }
  release(flow_slot);
}

}  // namespace misdirect::dataplane
