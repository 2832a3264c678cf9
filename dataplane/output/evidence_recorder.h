// EvidenceRecorder: the worker's half of evidence pcaps (--evidence-dir). Each SMTP flow keeps
// its first frames in a bounded per-flow buffer until it alerts — then the buffer and every later
// frame of the flow go to the EvidenceRing, for the output thread to write — or until its
// session ends without an alert, when the buffer is given back.
//
// Hot path: no allocation (the buffers, the per-flow state and the ring are made at start-up), no
// lock, no file. Every bound has a counter: flows that found every buffer taken, frames that did
// not fit their flow's buffer, frames the ring had no room for.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "dataplane/counter_table.h"
#include "dataplane/decode/packet_view.h"
#include "dataplane/output/evidence_ring.h"

namespace misdirect::dataplane {

enum class EvidenceCounter : uint16_t {
  kFlowsBuffered,
  kFlowsUnbuffered,
  kFlowsAlerted,
  kFramesBuffered,
  kFramesNotBuffered,
  kFramesQueued,
  kFramesRingFull,
  kFragmentsNotKept,
  kCount,
};

inline constexpr CounterInfo kEvidenceCounterInfo[] = {
    {"flows_buffered", "SMTP flows whose first frames were kept in a per-flow buffer"},
    {"flows_unbuffered", "SMTP flows that found every per-flow buffer taken (evidence starts at the alert)"},
    {"flows_alerted", "flows whose frames went to evidence because they alerted"},
    {"frames_buffered", "frames kept in per-flow buffers"},
    {"frames_not_buffered", "frames that did not fit their flow's buffer (missing from the evidence)"},
    {"frames_queued", "frames handed to the evidence writer"},
    {"frames_ring_full", "frames of alerting flows dropped: the ring to the evidence writer was full"},
    {"fragments_not_kept", "IP datagrams reassembled from fragments (their frames are not kept)"},
};
static_assert(std::size(kEvidenceCounterInfo) == static_cast<std::size_t>(EvidenceCounter::kCount));

struct EvidenceRecorderConfig {
  uint32_t max_flows = 0;           // the flow table's size: per-flow state is indexed by flow slot
  uint32_t buffers = 1024;          // flows buffered at once
  uint32_t buffer_bytes = 32 << 10; // each flow's buffer (frames + 32-byte headers)
};

class EvidenceRecorder {
 public:
  EvidenceRecorder(const EvidenceRecorderConfig& config, EvidenceRing& ring);
  EvidenceRecorder(const EvidenceRecorder&) = delete;
  EvidenceRecorder& operator=(const EvidenceRecorder&) = delete;

  // A flow that may turn out to be SMTP began (its first frame follows).
  void on_flow_start(uint32_t flow_slot) noexcept;
  // A frame of the flow (every one, before any inspection decides anything). `reassembled`: the
  // frame is the last fragment of a datagram (the datagram's other frames are gone): not kept.
  void on_frame(uint32_t flow_slot, uint64_t flow_id, const PacketView& frame, bool reassembled) noexcept;
  // The flow alerted: its buffer is queued, and every later frame of it too.
  void on_alert(uint32_t flow_slot, uint64_t flow_id) noexcept;
  // Inspection of the flow ended without an alert (not SMTP, or its session ended): the buffer is
  // given back. A flow that alerted keeps streaming.
  void on_inspection_end(uint32_t flow_slot) noexcept;
  // The flow record ended: the writer is told (its file is closed), its state is cleared.
  void on_flow_end(uint32_t flow_slot, uint64_t flow_id) noexcept;

  bool streaming(uint32_t flow_slot) const noexcept { return state_[flow_slot] == kStreaming; }
  const CounterArray<EvidenceCounter>& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kIdle = UINT32_MAX;         // nothing kept
  static constexpr uint32_t kStreaming = UINT32_MAX - 1; // alerted: frames go to the ring
  static constexpr uint32_t kWaiting = UINT32_MAX - 2;   // no buffer was free: waits for an alert

  struct Buffer {
    uint32_t used = 0;
  };
  uint8_t* buffer_bytes(uint32_t buffer) noexcept {
    return storage_.get() + std::size_t{buffer} * config_.buffer_bytes;
  }
  void queue(const EvidenceEntry& entry, std::span<const uint8_t> bytes) noexcept;
  void release(uint32_t flow_slot) noexcept;

  EvidenceRecorderConfig config_;
  EvidenceRing& ring_;
  std::unique_ptr<uint32_t[]> state_;  // per flow slot: kIdle, kStreaming, kWaiting or a buffer
  std::unique_ptr<uint8_t[]> storage_;
  std::unique_ptr<Buffer[]> buffers_;
  std::vector<uint32_t> free_buffers_;
  CounterArray<EvidenceCounter> counters_;
};

}  // namespace misdirect::dataplane
