// TcpStream: one direction of a TCP connection turned back into a byte stream — the small
// per-direction state kept inside each Flow, and the worker's TcpReassembler that drives it.
//
// What a StreamSink sees for one direction: data and gaps in sequence order, each byte once, then
// at most one end. Rules, in the order on_segment applies them:
//   - RST ends both directions at once (also after this direction's FIN): held data is delivered
//     behind a gap for each hole first.
//   - Ended stream (FIN consumed, RST, flow end): later segments are counted and ignored.
//   - SYN sets the next expected byte to ISN + 1 (SYN/ACK likewise for the other direction); a SYN
//     carrying data (TCP Fast Open) delivers it from ISN + 1. A later SYN with another ISN on an
//     open connection is an anomaly and ignored (a SYN on a closed or closing 5-tuple starts a new
//     flow before it gets here: see Worker and FlowTable::restart).
//   - Midstream pickup (no SYN seen; on by default): the first segment with data, or a FIN,
//     synchronises the stream at its sequence number. Off: such streams deliver nothing.
//   - In order: delivered straight from the packet, no copy. Held bytes that cover part of it
//     arrived first and win (see overlaps); bytes past a truncated capture are a gap at once.
//   - Wholly before the next expected byte: a retransmission, counted, not delivered again. Bytes
//     already delivered are not kept, so a retransmission that differs from them goes unnoticed.
//   - Partly before: the old part is trimmed, the rest handled as in order.
//   - After the next expected byte (out of order): the captured bytes are copied into the
//     reassembler's pool of 1 KiB pieces. A direction's pieces are a list in sequence order (for
//     delivery from the head) and a treap over the same pieces (to find where a segment goes in
//     O(log n)); a segment after the last piece — the common case — is found in O(1) at the tail.
//     New bytes adjacent to the piece before them extend it, and a piece the new bytes reach is
//     merged into the one before when both fit in one piece, so tiny adjacent segments coalesce.
//     More than max_forward_bytes ahead: counted and ignored (a stray sequence number, not a hole).
//   - Overlaps with held bytes: first data wins — the held bytes are kept, the new segment only
//     fills what is not held. When the overlapping bytes differ the segment counts as an anomaly
//     (overlaps_differ), once per segment.
//   - Memory: a direction may hold stream_memcap_bytes in at most stream_max_pieces pieces; the
//     worker holds at most memcap_bytes (the pool). When a new segment does not fit the direction's
//     bounds, the direction gives up on its first hole at once: a gap is reported, held bytes up to
//     the next hole delivered (freeing them), and the segment retried. When the pool is short, the
//     direction holding the most pieces pays (fair share): if that is this direction (or one in
//     the same power-of-two class), it gives up its first hole as above; otherwise the other
//     direction's last pieces (farthest ahead, least likely to be needed soon) are cut, counted
//     as pool evictions, and become part of its hole. So no number of abusive flows can keep a
//     well-behaved flow from holding the few pieces it needs. When a segment still does not fit
//     (the pool is empty and nobody else holds anything) the bytes that do not fit are dropped
//     and counted; they are a hole like any other.
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
#include "inspect/direction.h"

namespace misdirect::dataplane {

struct Flow;

// Per-direction state, inside Flow (20 bytes). Held segments and the hole's timer live in the
// TcpReassembler's pools, reached through `backlog`.
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
  uint32_t backlog = kNone;       // the reassembler's record of an open hole (held pieces, gap wait)
  uint32_t held_bytes = 0;        // out-of-order bytes held for this direction
  uint8_t flags = 0;

  bool holds_data() const noexcept { return held_bytes != 0; }

  bool synchronised() const noexcept { return (flags & kSynchronised) != 0; }
  bool syn_seen() const noexcept { return (flags & kSynSeen) != 0; }
  bool fin_seen() const noexcept { return (flags & kFinSeen) != 0; }
  bool rst_seen() const noexcept { return (flags & kRstSeen) != 0; }
  bool ended() const noexcept { return (flags & kEnded) != 0; }
  bool midstream() const noexcept { return (flags & kMidstream) != 0; }
};
static_assert(sizeof(TcpStream) <= 24, "two streams and the wheel links share Flow's third cache line");

// The consumer of reassembled bytes (the worker: SMTP detection and parsing). Called from
// on_segment, advance and finish; it must not call back into the reassembler for the same flow.
// Each call names its direction as Flow::client says at that call: a consumer that swaps the
// client (app detection found the other end is) sees the same stream's next bytes the other way.
class StreamSink {
 public:
  // Bytes in sequence order; the span is valid only during the call (it points into the packet
  // or the reassembler's pool). During the call flow.stream(direction).next_seq is the sequence
  // number just past these bytes.
  virtual void on_stream_data(Flow& flow, inspect::Direction direction,
                              std::span<const uint8_t> bytes) noexcept = 0;
  // `missing_bytes` bytes of the stream will never be delivered; data resumes after them.
  virtual void on_stream_gap(Flow& flow, inspect::Direction direction, uint64_t missing_bytes) noexcept = 0;
  // No more bytes in this direction: FIN (fin_seen()), RST (rst_seen() on either stream), or flow
  // end. Delivered at most once per direction.
  virtual void on_stream_end(Flow& flow, inspect::Direction direction) noexcept = 0;

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
  kStreamPieceCapDrops,
  kPoolEvictions,
  kPoolEvictedBytes,
  kPiecesCoalesced,
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
    {"tcp_gaps_memcap", "holes given up because held bytes or pieces reached a bound"},
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
    {"tcp_hole_timers_exhausted", "holes left without a backlog record (no gap timer; nothing held)"},
    {"tcp_streams_ended", "directions ended (FIN, RST or flow end)"},
    {"tcp_stream_piece_cap_drops", "segments (partly) dropped: the direction held stream_max_pieces pieces"},
    {"tcp_pool_evictions", "held pieces cut from the direction holding the most when the pool ran short"},
    {"tcp_pool_evicted_bytes", "bytes of those pieces (they become part of that direction's hole)"},
    {"tcp_pieces_coalesced", "held pieces merged into the adjacent piece before them"},
};
static_assert(std::size(kReassemblyCounterInfo) == static_cast<std::size_t>(ReassemblyCounter::kCount));

struct TcpReassemblerConfig {
  uint32_t stream_memcap_bytes = 1u << 20;   // out-of-order bytes held per direction
  uint32_t stream_max_pieces = 2048;         // pieces (held segments) per direction, 1..65535
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

  // One TCP segment of `flow` sent by `sender` (the flow table's FlowLookup::sender). `now_ns`
  // is packet time; earlier than a time already seen counts as that time.
  void on_segment(Flow& flow, FlowEnd sender, const DecodedPacket& packet, uint64_t now_ns,
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
  // Pieces the direction holds (0 without a backlog).
  uint32_t pieces_held(const TcpStream& stream) const noexcept {
    return stream.backlog == kNone ? 0 : backlogs_[stream.backlog].pieces;
  }
  const CounterArray<ReassemblyCounter>& counters() const noexcept { return counters_; }

 private:
  static constexpr uint32_t kNone = TcpStream::kNone;
  static constexpr uint32_t kHeavyClasses = 32;  // by bit width of the piece count
  static constexpr uint8_t kNoClass = 0xff;

  // Out-of-order bytes, in a list by sequence number (prev/next) and a treap (left/right, heap
  // ordered by a secret hash of the index, so no order of arrival can unbalance it).
  struct Piece {
    TcpSeq seq;
    uint32_t length = 0;
    uint32_t prev = kNone;
    uint32_t next = kNone;  // next piece of the same direction, or the free list
    uint32_t left = kNone;
    uint32_t right = kNone;
  };

  // One direction with an open hole: its held pieces, its gap wait and its place among the
  // directions holding pieces. Timers are a FIFO ordered by `since_ns` (a wait restarts by
  // moving to the tail with the current time, which is never less than any other). Directions
  // holding pieces are in lists by the bit width of their piece count, so the heaviest is found
  // in O(1) when the pool is short.
  struct Backlog {
    Flow* flow = nullptr;
    uint64_t since_ns = 0;
    uint32_t timer_prev = kNone;
    uint32_t timer_next = kNone;  // or the free list
    uint32_t head = kNone;        // lowest sequence number
    uint32_t tail = kNone;        // highest
    uint32_t root = kNone;        // treap
    uint32_t pieces = 0;
    uint32_t heavy_prev = kNone;
    uint32_t heavy_next = kNone;
    uint8_t heavy_class = kNoClass;
    FlowEnd sender = FlowEnd::kA;  // whose stream (the end that sends its bytes)
  };

  enum class GapCause : uint8_t { kTimeout, kMemcap, kAtEnd, kTruncated };
  enum class HoldResult : uint8_t { kDone, kRetry };

  void handle_payload(Flow& flow, FlowEnd sender, TcpStream& stream, TcpSeq start,
                      TcpSeq end, TcpSeq captured_end, const uint8_t* data, StreamSink& sink) noexcept;
  void deliver_in_order(Flow& flow, FlowEnd sender, TcpStream& stream, TcpSeq start,
                        TcpSeq end, TcpSeq captured_end, const uint8_t* data,
                        StreamSink& sink) noexcept;
  HoldResult hold(Flow& flow, FlowEnd sender, TcpStream& stream, TcpSeq start,
                  TcpSeq captured_end, const uint8_t* data, StreamSink& sink) noexcept;
  HoldResult make_room(Flow& flow, FlowEnd sender, TcpStream& stream, uint64_t new_bytes,
                       uint32_t pieces_needed, StreamSink& sink) noexcept;
  void trim_after_fin(TcpStream& stream) noexcept;
  void deliver_ready(Flow& flow, FlowEnd sender, TcpStream& stream, StreamSink& sink) noexcept;
  void give_up_first_hole(Flow& flow, FlowEnd sender, TcpStream& stream, GapCause cause,
                          StreamSink& sink) noexcept;
  void report_gap(Flow& flow, FlowEnd sender, uint64_t missing_bytes, GapCause cause,
                  StreamSink& sink) noexcept;
  void end_stream(Flow& flow, FlowEnd sender, TcpStream& stream, StreamSink& sink) noexcept;
  void finish_stream(Flow& flow, FlowEnd sender, StreamSink& sink) noexcept;
  void update_hole_timer(Flow& flow, FlowEnd sender, TcpStream& stream, bool moved) noexcept;
  void check_hole_timer(Flow& flow, FlowEnd sender, TcpStream& stream, StreamSink& sink) noexcept;
  void free_pieces(TcpStream& stream) noexcept;

  // Pieces.
  uint32_t allocate_piece() noexcept;
  void free_piece(uint32_t index) noexcept;
  uint8_t* piece_data(uint32_t index) noexcept { return data_.get() + std::size_t{index} * kPieceBytes; }
  TcpSeq piece_end(uint32_t index) const noexcept { return pieces_[index].seq + pieces_[index].length; }
  uint32_t head_of(const TcpStream& stream) const noexcept {
    return stream.backlog == kNone ? kNone : backlogs_[stream.backlog].head;
  }
  // Links a new piece (seq and length set) into the list after `previous` (kNone: first) and
  // into the treap.
  void link_piece(TcpStream& stream, uint32_t index, uint32_t previous) noexcept;
  // Unlinks a piece from the direction and frees it (its bytes leave the stream's count).
  void remove_piece(TcpStream& stream, uint32_t index) noexcept;
  void pop_head(TcpStream& stream) noexcept { remove_piece(stream, backlogs_[stream.backlog].head); }
  // The last piece starting at or before `seq`, or kNone.
  uint32_t floor_piece(const Backlog& backlog, TcpSeq seq) const noexcept;
  uint32_t priority(uint32_t index) const noexcept;
  uint32_t treap_merge(uint32_t left, uint32_t right) noexcept;
  void treap_split(uint32_t node, TcpSeq seq, uint32_t& less, uint32_t& rest) noexcept;
  void treap_erase(Backlog& backlog, uint32_t index) noexcept;

  // Backlogs.
  uint32_t open_backlog(Flow& flow, FlowEnd sender, TcpStream& stream) noexcept;
  void close_backlog(TcpStream& stream) noexcept;
  void restart_timer(Backlog& backlog, uint32_t index) noexcept;
  void timer_unlink(Backlog& backlog) noexcept;
  void timer_append(Backlog& backlog, uint32_t index) noexcept;
  void set_heavy_class(uint32_t index) noexcept;
  void evict_tail(uint32_t victim) noexcept;

  TcpReassemblerConfig config_;
  uint32_t piece_count_ = 0;
  // Pieces and backlogs are constructed when first handed out: pages never used are never touched.
  std::unique_ptr<std::byte[]> piece_storage_;
  Piece* pieces_ = nullptr;
  std::unique_ptr<uint8_t[]> data_;
  uint32_t piece_free_ = kNone;  // freed pieces
  uint32_t piece_fresh_ = 0;     // pieces never used: [piece_fresh_, piece_count_)
  uint32_t pieces_in_use_ = 0;
  uint64_t bytes_held_ = 0;
  uint32_t priority_seed_ = 0;

  uint32_t backlog_count_ = 0;
  std::unique_ptr<std::byte[]> backlog_storage_;
  Backlog* backlogs_ = nullptr;
  uint32_t backlog_free_ = kNone;
  uint32_t backlog_fresh_ = 0;
  uint32_t timer_head_ = kNone;  // oldest open hole
  uint32_t timer_tail_ = kNone;
  uint32_t heavy_heads_[kHeavyClasses];
  uint32_t heavy_mask_ = 0;      // bit c set when class c is not empty

  uint64_t now_ns_ = 0;
  CounterArray<ReassemblyCounter> counters_;
};

}  // namespace misdirect::dataplane
