// TcpStream: one direction of a TCP connection turned back into a byte stream — the small
// per-direction state kept inside each Flow, and the worker's TcpReassembler that drives it.
//
// What a StreamSink sees for one direction: data and gaps in sequence order, each byte once, then
// at most one end. Rules, in the order on_segment applies them:
//   - RST ends both directions at once (also after this direction's FIN): held data is delivered
//     behind a gap for each hole first.
//   - Ended stream (FIN consumed, RST, flow end): later segments are counted and ignored.
//   - SYN sets the next expected byte to ISN + 1 (SYN/ACK likewise for the other direction); a SYN
//     carrying data (TCP Fast Open) delivers it from ISN + 1. A later SYN with another ISN is an
//     anomaly and ignored (port reuse is not split into a new flow).
//   - Midstream pickup (no SYN seen; on by default): the first segment with data, or a FIN,
//     synchronises the stream at its sequence number. Off: such streams deliver nothing.
//   - In order: delivered straight from the packet, no copy. Held bytes that cover part of it
//     arrived first and win (see overlaps); bytes past a truncated capture are a gap at once.
//   - Wholly before the next expected byte: a retransmission, counted, not delivered again. Bytes
//     already delivered are not kept, so a retransmission that differs from them goes unnoticed.
//   - Partly before: the old part is trimmed, the rest handled as in order.
//   - After the next expected byte (out of order): the captured bytes are copied into the
//     reassembler's pool of 1 KiB pieces, kept sorted by sequence number. More than
//     max_forward_bytes ahead: counted and ignored (a stray sequence number, not a hole).
//   - Overlaps with held bytes: first data wins — the held bytes are kept, the new segment only
//     fills what is not held. When the overlapping bytes differ the segment counts as an anomaly
//     (overlaps_differ), once per segment.
//   - Memory: a direction may hold stream_memcap_bytes; the worker holds at most memcap_bytes (the
//     pool). When a new segment does not fit, the direction gives up on its first hole at once: a
//     gap is reported, held bytes up to the next hole delivered (freeing them), and the segment
//     retried. When it still does not fit (the direction holds nothing, the pool is used by
//     others) the bytes that do not fit are dropped and counted; they are a hole like any other.
//   - Holes: a hole not filled gap_wait_ns (packet time) after it opened — the wait restarts
//     whenever the stream moves forward — is given up: on_stream_gap(exact missing bytes), then
//     held data after it. At flow end every hole is given up the same way before the end.
//   - FIN consumes one sequence number; the stream ends when every byte before it was delivered or
//     given up. Data past a FIN is counted and dropped.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <span>

#include "dataplane/counter_table.h"
#include "dataplane/decode/decoded_packet.h"
#include "dataplane/flow/flow_key.h"
#include "dataplane/flow/tcp_seq.h"

namespace misdirect::dataplane {

struct Flow;

// Per-direction state, inside Flow (24 bytes). Held segments live in the TcpReassembler's pool.
struct TcpStream {
  static constexpr uint32_t kNone = UINT32_MAX;

  static constexpr uint8_t kSynchronised = 0x01;  // next_seq is valid
  static constexpr uint8_t kSynSeen = 0x02;
  static constexpr uint8_t kFinSeen = 0x04;       // fin_seq is valid
  static constexpr uint8_t kRstSeen = 0x08;       // this direction sent a RST
  static constexpr uint8_t kEnded = 0x10;         // on_stream_end was delivered
  static constexpr uint8_t kMidstream = 0x20;     // synchronised without a SYN

  TcpSeq next_seq;                // next byte to deliver
  TcpSeq fin_seq;                 // sequence number of the FIN
  uint32_t held_head = kNone;     // first held piece (lowest sequence number)
  uint32_t held_bytes = 0;        // out-of-order bytes held for this direction
  uint32_t hole_timer = kNone;    // running gap wait, if a hole is open
  uint8_t flags = 0;

  bool synchronised() const noexcept { return (flags & kSynchronised) != 0; }
  bool syn_seen() const noexcept { return (flags & kSynSeen) != 0; }
  bool fin_seen() const noexcept { return (flags & kFinSeen) != 0; }
  bool rst_seen() const noexcept { return (flags & kRstSeen) != 0; }
  bool ended() const noexcept { return (flags & kEnded) != 0; }
  bool midstream() const noexcept { return (flags & kMidstream) != 0; }
};
static_assert(sizeof(TcpStream) == 24);

// The consumer of reassembled bytes (the worker: SMTP detection and parsing). Called from
// on_segment, advance and finish; it must not call back into the reassembler for the same flow.
class StreamSink {
 public:
  // Bytes in sequence order; the span is valid only during the call (it points into the packet
  // or the reassembler's pool). During the call flow.stream(direction).next_seq is the sequence
  // number just past these bytes.
  virtual void on_stream_data(Flow& flow, FlowDirection direction,
                              std::span<const uint8_t> bytes) noexcept = 0;
  // `missing_bytes` bytes of the stream will never be delivered; data resumes after them.
  virtual void on_stream_gap(Flow& flow, FlowDirection direction, uint64_t missing_bytes) noexcept = 0;
  // No more bytes in this direction: FIN (fin_seen()), RST (rst_seen() on either stream), or flow
  // end. Delivered at most once per direction.
  virtual void on_stream_end(Flow& flow, FlowDirection direction) noexcept = 0;

 protected:
  ~StreamSink() = default;
};

enum class ReassemblyCounter : uint16_t {
  kSegments,
  kSegmentsWithData,
  kBytesInOrder,
  kBytesFromHeld,
  kSegmentsHeld,
  kBytesHeld,
  kRetransmissions,
  kRetransmittedBytes,
  kPartialRetransmissions,
  kOverlaps,
  kOverlapsDiffer,
  kGaps,
  kGapBytes,
  kGapsTimeout,
  kGapsMemcap,
  kGapsAtEnd,
  kGapsTruncated,
  kTruncatedSegments,
  kStreamMemcapDrops,
  kStreamMemcapBytesDropped,
  kMemcapDrops,
  kMemcapBytesDropped,
  kMidstreamPickups,
  kNotSynchronised,
  kSynSeqMismatch,
  kOutOfWindow,
  kFins,
  kResets,
  kDataAfterFin,
  kSegmentsAfterEnd,
  kHoleTimersExhausted,
  kStreamsEnded,
  kCount,
};

inline constexpr CounterInfo kReassemblyCounterInfo[] = {
    {"tcp_segments", "TCP segments given to reassembly"},
    {"tcp_segments_with_data", "TCP segments carrying payload"},
    {"tcp_bytes_in_order", "bytes delivered straight from packets"},
    {"tcp_bytes_from_held", "bytes delivered from held out-of-order segments"},
    {"tcp_segments_held", "out-of-order segments copied into the reassembly pool"},
    {"tcp_bytes_held", "out-of-order bytes copied into the reassembly pool"},
    {"tcp_retransmissions", "segments wholly before the next expected byte (not delivered again)"},
    {"tcp_retransmitted_bytes", "bytes of those segments"},
    {"tcp_partial_retransmissions", "segments starting before the next expected byte (old part trimmed)"},
    {"tcp_overlaps", "segments overlapping held bytes (first data wins)"},
    {"tcp_overlaps_differ", "anomaly: segments whose bytes differ from the held bytes they overlap"},
    {"tcp_gaps", "gaps reported to the stream consumer"},
    {"tcp_gap_bytes", "bytes reported missing in gaps"},
    {"tcp_gaps_timeout", "holes given up after gap_wait_ns"},
    {"tcp_gaps_memcap", "holes given up because held bytes reached a memcap"},
    {"tcp_gaps_at_end", "holes given up at flow end or RST"},
    {"tcp_gaps_truncated", "gaps for payload the capture cut short"},
    {"tcp_truncated_segments", "segments with fewer captured payload bytes than the IP length says"},
    {"tcp_stream_memcap_drops", "segments (partly) dropped: the direction's stream_memcap_bytes was reached"},
    {"tcp_stream_memcap_bytes_dropped", "bytes dropped for the per-direction memcap"},
    {"tcp_memcap_drops", "segments (partly) dropped: the worker's reassembly memcap was reached"},
    {"tcp_memcap_bytes_dropped", "bytes dropped for the worker's reassembly memcap"},
    {"tcp_midstream_pickups", "directions synchronised without a SYN"},
    {"tcp_not_synchronised", "segments ignored: no SYN seen and midstream pickup off"},
    {"tcp_syn_seq_mismatch", "anomaly: SYNs with another ISN on a synchronised direction (ignored)"},
    {"tcp_out_of_window", "segments more than max_forward_bytes ahead (ignored)"},
    {"tcp_fins", "directions whose FIN was seen"},
    {"tcp_resets", "RST segments (end both directions)"},
    {"tcp_data_after_fin", "anomaly: segments with payload past the direction's FIN (dropped)"},
    {"tcp_segments_after_end", "segments with payload, SYN or FIN on an ended direction (ignored)"},
    {"tcp_hole_timers_exhausted", "holes left without a gap timer (given up at flow end instead)"},
    {"tcp_streams_ended", "directions ended (FIN, RST or flow end)"},
};
static_assert(std::size(kReassemblyCounterInfo) == static_cast<std::size_t>(ReassemblyCounter::kCount));

struct TcpReassemblerConfig {
  uint32_t stream_memcap_bytes = 1u << 20;   // out-of-order bytes held per direction
  uint64_t memcap_bytes = 256ull << 20;      // the pool: out-of-order bytes held by this worker
  uint64_t gap_wait_ns = 5'000'000'000;      // how long a hole may stay open (packet time), > 0
  bool midstream_pickup = true;              // synchronise directions whose SYN was not seen
  uint32_t max_forward_bytes = 1u << 30;     // farther ahead than this is not a hole but noise
};

class TcpReassembler {
 public:
  static constexpr uint32_t kPieceBytes = 1024;

  // Preallocates the pool (untouched pages until used). Throws std::invalid_argument naming the
  // bad field.
  explicit TcpReassembler(const TcpReassemblerConfig& config);
  ~TcpReassembler();
  TcpReassembler(const TcpReassembler&) = delete;
  TcpReassembler& operator=(const TcpReassembler&) = delete;

  // One TCP segment of `flow` travelling in `direction`. `now_ns` is packet time; earlier than a
  // time already seen counts as that time.
  void on_segment(Flow& flow, FlowDirection direction, const DecodedPacket& packet, uint64_t now_ns,
                  StreamSink& sink) noexcept;
  // Gives up every hole open for gap_wait_ns at `now_ns`. Call between bursts / on time ticks.
  void advance(uint64_t now_ns, StreamSink& sink) noexcept;
  // Flow end: gives up every hole (gap, then held data), then ends each direction not yet ended.
  // Frees everything the flow holds. Call before the flow's slot is reused.
  void finish(Flow& flow, StreamSink& sink) noexcept;
  // Frees what the flow holds without delivering anything; both directions count as ended.
  void release(Flow& flow) noexcept;

  uint64_t bytes_held() const noexcept { return bytes_held_; }
  uint32_t pieces_in_use() const noexcept { return pieces_in_use_; }
  uint32_t piece_capacity() const noexcept { return piece_count_; }
  const CounterArray<ReassemblyCounter>& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kNone = TcpStream::kNone;

  struct Piece {
    TcpSeq seq;
    uint32_t length = 0;
    uint32_t next = kNone;  // next piece of the same direction, or the free list
  };

  // A direction with an open hole; kept in a FIFO ordered by `since_ns` (a timer restarts by
  // moving to the tail with the current time, which is never less than any other).
  struct HoleTimer {
    Flow* flow = nullptr;
    uint64_t since_ns = 0;
    uint32_t prev = kNone;
    uint32_t next = kNone;
    FlowDirection direction = FlowDirection::kAToB;
  };

  enum class GapCause : uint8_t { kTimeout, kMemcap, kAtEnd, kTruncated };
  enum class HoldResult : uint8_t { kDone, kRetry };

  void handle_payload(Flow& flow, FlowDirection direction, TcpStream& stream, TcpSeq start,
                      TcpSeq end, TcpSeq captured_end, const uint8_t* data, StreamSink& sink) noexcept;
  void deliver_in_order(Flow& flow, FlowDirection direction, TcpStream& stream, TcpSeq start,
                        TcpSeq end, TcpSeq captured_end, const uint8_t* data,
                        StreamSink& sink) noexcept;
  HoldResult hold(Flow& flow, FlowDirection direction, TcpStream& stream, TcpSeq start,
                  TcpSeq captured_end, const uint8_t* data, StreamSink& sink) noexcept;
  void deliver_ready(Flow& flow, FlowDirection direction, TcpStream& stream, StreamSink& sink) noexcept;
  void give_up_first_hole(Flow& flow, FlowDirection direction, TcpStream& stream, GapCause cause,
                          StreamSink& sink) noexcept;
  void report_gap(Flow& flow, FlowDirection direction, uint64_t missing_bytes, GapCause cause,
                  StreamSink& sink) noexcept;
  void end_stream(Flow& flow, FlowDirection direction, TcpStream& stream, StreamSink& sink) noexcept;
  void finish_stream(Flow& flow, FlowDirection direction, StreamSink& sink) noexcept;
  void update_hole_timer(Flow& flow, FlowDirection direction, TcpStream& stream, bool moved) noexcept;
  void check_hole_timer(Flow& flow, FlowDirection direction, TcpStream& stream, StreamSink& sink) noexcept;
  void free_pieces(TcpStream& stream) noexcept;

  uint32_t allocate_piece() noexcept;
  void free_piece(uint32_t index) noexcept;
  uint8_t* piece_data(uint32_t index) noexcept { return data_.get() + std::size_t{index} * kPieceBytes; }
  TcpSeq piece_end(uint32_t index) const noexcept { return pieces_[index].seq + pieces_[index].length; }
  void pop_head(TcpStream& stream) noexcept;

  uint32_t allocate_timer() noexcept;
  void unlink_timer(TcpStream& stream) noexcept;
  void append_timer(Flow& flow, FlowDirection direction, TcpStream& stream) noexcept;

  TcpReassemblerConfig config_;
  uint32_t piece_count_ = 0;
  // Pieces and timers are constructed when first handed out: pages never used are never touched.
  std::unique_ptr<std::byte[]> piece_storage_;
  Piece* pieces_ = nullptr;
  std::unique_ptr<uint8_t[]> data_;
  uint32_t piece_free_ = kNone;  // freed pieces
  uint32_t piece_fresh_ = 0;     // pieces never used: [piece_fresh_, piece_count_)
  uint32_t pieces_in_use_ = 0;
  uint64_t bytes_held_ = 0;

  uint32_t timer_count_ = 0;
  std::unique_ptr<std::byte[]> timer_storage_;
  HoleTimer* timers_ = nullptr;
  uint32_t timer_free_ = kNone;
  uint32_t timer_fresh_ = 0;
  uint32_t timer_head_ = kNone;  // oldest open hole
  uint32_t timer_tail_ = kNone;

  uint64_t now_ns_ = 0;
  CounterArray<ReassemblyCounter> counters_;
};

}  // namespace misdirect::dataplane
