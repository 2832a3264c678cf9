// TcpStream: per-direction TCP reassembly — ordering, holes, overlaps and memory bounds.
//
// Kept in one file (about 900 lines) on purpose: it is one class, TcpReassembler, and one
// algorithm. The piece pool, the treap that indexes a direction's held pieces, the hole timers
// and the fair-share eviction are its private data structures, and every path of segment
// handling (in order, held, overlapping, past a FIN, trimmed to make room) keeps their invariants
// together: a piece is free, or in exactly one direction's backlog — in both its list and its
// treap — and a direction's held bytes are the sum of its pieces. Split across files, each half
// would have to trust invariants it cannot see.
#include "dataplane/flow/tcp_stream.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cstring>
#include <new>
#include <random>
#include <stdexcept>
#include <string>

#include "dataplane/flow/flow.h"

namespace misdirect::dataplane {

TcpReassembler::TcpReassembler(const TcpReassemblerConfig& config) : config_(config) {
  if (config.memcap_bytes < kPieceBytes) {
    throw std::invalid_argument("tcp reassembly: memcap_bytes must be at least " +
                                std::to_string(kPieceBytes) + ", got " + std::to_string(config.memcap_bytes));
  }
  if (config.memcap_bytes / kPieceBytes >= kNone) {
    throw std::invalid_argument("tcp reassembly: memcap_bytes too large: " + std::to_string(config.memcap_bytes));
  }
  if (config.gap_wait_ns == 0) {
    throw std::invalid_argument("tcp reassembly: gap_wait_ns must be > 0");
  }
  if (config.max_forward_bytes == 0 || config.max_forward_bytes > (1u << 31) - 1) {
    throw std::invalid_argument("tcp reassembly: max_forward_bytes must be between 1 and 2^31 - 1, got " +
                                std::to_string(config.max_forward_bytes));
  }
  if (config.stream_max_pieces == 0 || config.stream_max_pieces > 65535) {
    throw std::invalid_argument("tcp reassembly: stream_max_pieces must be between 1 and 65535, got " +
                                std::to_string(config.stream_max_pieces));
  }
  piece_count_ = static_cast<uint32_t>(config.memcap_bytes / kPieceBytes);
  // The data is not initialised: pages of pieces never used are never touched.
  piece_storage_.reset(new std::byte[sizeof(Piece) * std::size_t{piece_count_}]);
  pieces_ = reinterpret_cast<Piece*>(piece_storage_.get());
  data_.reset(new uint8_t[std::size_t{piece_count_} * kPieceBytes]);
  // A direction holding pieces needs a backlog, so there are as many as pieces (FIN-only holes
  // can use the rest; when they run out the hole waits for flow end, counted).
  backlog_count_ = piece_count_;
  backlog_storage_.reset(new std::byte[sizeof(Backlog) * std::size_t{backlog_count_}]);
  backlogs_ = reinterpret_cast<Backlog*>(backlog_storage_.get());
  for (uint32_t& head : heavy_heads_) {
    head = kNone;
  }
  // The treap's balance rests on priorities a sender cannot predict.
  priority_seed_ = std::random_device{}();
}

TcpReassembler::~TcpReassembler() = default;

// --- pieces ------------------------------------------------------------------------------------

uint32_t TcpReassembler::allocate_piece() noexcept {
  uint32_t index = kNone;
  if (piece_free_ != kNone) {
    index = piece_free_;
    piece_free_ = pieces_[index].next;
  } else if (piece_fresh_ < piece_count_) {
    index = piece_fresh_++;
  } else {
    return kNone;
  }
  ++pieces_in_use_;
  new (&pieces_[index]) Piece{};
  return index;
}

void TcpReassembler::free_piece(uint32_t index) noexcept {
  bytes_held_ -= pieces_[index].length;
  pieces_[index].length = 0;
  pieces_[index].next = piece_free_;
  piece_free_ = index;
  --pieces_in_use_;
}

uint32_t TcpReassembler::priority(uint32_t index) const noexcept {
  uint32_t x = (index + priority_seed_) * 0x9e3779b1u;
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  return x;
}

uint32_t TcpReassembler::treap_merge(uint32_t left, uint32_t right) noexcept {
  // Every sequence number in `left` is below every one in `right`. Depth is the treap's height.
  if (left == kNone) {
    return right;
  }
  if (right == kNone) {
    return left;
  }
  if (priority(left) > priority(right)) {
    pieces_[left].right = treap_merge(pieces_[left].right, right);
    return left;
  }
  pieces_[right].left = treap_merge(left, pieces_[right].left);
  return right;
}

void TcpReassembler::treap_split(uint32_t node, TcpSeq seq, uint32_t& less, uint32_t& rest) noexcept {
  if (node == kNone) {
    less = kNone;
    rest = kNone;
    return;
  }
  if (pieces_[node].seq < seq) {
    uint32_t right_less = kNone;
    treap_split(pieces_[node].right, seq, right_less, rest);
    pieces_[node].right = right_less;
    less = node;
  } else {
    uint32_t left_rest = kNone;
    treap_split(pieces_[node].left, seq, less, left_rest);
    pieces_[node].left = left_rest;
    rest = node;
  }
}

void TcpReassembler::treap_erase(Backlog& backlog, uint32_t index) noexcept {
  const TcpSeq seq = pieces_[index].seq;
  uint32_t* link = &backlog.root;
  while (*link != index) {
    assert(*link != kNone);
    link = seq < pieces_[*link].seq ? &pieces_[*link].left : &pieces_[*link].right;
  }
  *link = treap_merge(pieces_[index].left, pieces_[index].right);
}

uint32_t TcpReassembler::floor_piece(const Backlog& backlog, TcpSeq seq) const noexcept {
  uint32_t best = kNone;
  uint32_t node = backlog.root;
  while (node != kNone) {
    if (pieces_[node].seq <= seq) {
      best = node;
      node = pieces_[node].right;
    } else {
      node = pieces_[node].left;
    }
  }
  return best;
}

void TcpReassembler::link_piece(TcpStream& stream, uint32_t index, uint32_t previous) noexcept {
  Backlog& backlog = backlogs_[stream.backlog];
  Piece& piece = pieces_[index];
  piece.prev = previous;
  piece.next = previous == kNone ? backlog.head : pieces_[previous].next;
  if (piece.next != kNone) {
    pieces_[piece.next].prev = index;
  } else {
    backlog.tail = index;
  }
  if (previous != kNone) {
    pieces_[previous].next = index;
  } else {
    backlog.head = index;
  }
  // Past the tail, the common case, the split is one walk down the right spine.
  uint32_t less = kNone;
  uint32_t rest = kNone;
  treap_split(backlog.root, piece.seq, less, rest);
  backlog.root = treap_merge(treap_merge(less, index), rest);
  stream.held_bytes += piece.length;
  bytes_held_ += piece.length;
  ++backlog.pieces;
  set_heavy_class(stream.backlog);
}

void TcpReassembler::remove_piece(TcpStream& stream, uint32_t index) noexcept {
  Backlog& backlog = backlogs_[stream.backlog];
  Piece& piece = pieces_[index];
  treap_erase(backlog, index);
  if (piece.prev != kNone) {
    pieces_[piece.prev].next = piece.next;
  } else {
    backlog.head = piece.next;
  }
  if (piece.next != kNone) {
    pieces_[piece.next].prev = piece.prev;
  } else {
    backlog.tail = piece.prev;
  }
  stream.held_bytes -= piece.length;
  --backlog.pieces;
  set_heavy_class(stream.backlog);
  free_piece(index);
}

void TcpReassembler::free_pieces(TcpStream& stream) noexcept {
  if (stream.backlog == kNone) {
    return;
  }
  Backlog& backlog = backlogs_[stream.backlog];
  // All at once: no treap work piece by piece.
  for (uint32_t index = backlog.head; index != kNone;) {
    const uint32_t next = pieces_[index].next;
    stream.held_bytes -= pieces_[index].length;
    free_piece(index);
    index = next;
  }
  backlog.head = backlog.tail = backlog.root = kNone;
  backlog.pieces = 0;
  set_heavy_class(stream.backlog);
}

// --- backlogs: holes, their timers, and who holds the most ---------------------------------------

uint32_t TcpReassembler::open_backlog(Flow& flow, FlowEnd sender, TcpStream& stream) noexcept {
  if (stream.backlog != kNone) {
    return stream.backlog;
  }
  uint32_t index = kNone;
  if (backlog_free_ != kNone) {
    index = backlog_free_;
    backlog_free_ = backlogs_[index].timer_next;
  } else if (backlog_fresh_ < backlog_count_) {
    index = backlog_fresh_++;
  } else {
    counters_.add(ReassemblyCounter::kHoleTimersExhausted);
    return kNone;
  }
  new (&backlogs_[index]) Backlog{};
  backlogs_[index].flow = &flow;
  backlogs_[index].sender = sender;
  timer_append(backlogs_[index], index);
  stream.backlog = index;
  return index;
}

void TcpReassembler::close_backlog(TcpStream& stream) noexcept {
  const uint32_t index = stream.backlog;
  if (index == kNone) {
    return;
  }
  free_pieces(stream);
  Backlog& backlog = backlogs_[index];
  timer_unlink(backlog);
  backlog.flow = nullptr;
  backlog.timer_next = backlog_free_;
  backlog_free_ = index;
  stream.backlog = kNone;
}

void TcpReassembler::timer_append(Backlog& backlog, uint32_t index) noexcept {
  backlog.since_ns = now_ns_;
  backlog.timer_prev = timer_tail_;
  backlog.timer_next = kNone;
  if (timer_tail_ != kNone) {
    backlogs_[timer_tail_].timer_next = index;
  } else {
    timer_head_ = index;
  }
  timer_tail_ = index;
}

void TcpReassembler::timer_unlink(Backlog& backlog) noexcept {
  if (backlog.timer_prev != kNone) {
    backlogs_[backlog.timer_prev].timer_next = backlog.timer_next;
  } else {
    timer_head_ = backlog.timer_next;
  }
  if (backlog.timer_next != kNone) {
    backlogs_[backlog.timer_next].timer_prev = backlog.timer_prev;
  } else {
    timer_tail_ = backlog.timer_prev;
  }
}

void TcpReassembler::restart_timer(Backlog& backlog, uint32_t index) noexcept {
  timer_unlink(backlog);
  timer_append(backlog, index);
}

void TcpReassembler::set_heavy_class(uint32_t index) noexcept {
  Backlog& backlog = backlogs_[index];
  const uint8_t wanted =
      backlog.pieces == 0 ? kNoClass : static_cast<uint8_t>(std::bit_width(backlog.pieces) - 1);
  if (wanted == backlog.heavy_class) {
    return;
  }
  if (backlog.heavy_class != kNoClass) {
    if (backlog.heavy_prev != kNone) {
      backlogs_[backlog.heavy_prev].heavy_next = backlog.heavy_next;
    } else {
      heavy_heads_[backlog.heavy_class] = backlog.heavy_next;
      if (backlog.heavy_next == kNone) {
        heavy_mask_ &= ~(1u << backlog.heavy_class);
      }
    }
    if (backlog.heavy_next != kNone) {
      backlogs_[backlog.heavy_next].heavy_prev = backlog.heavy_prev;
    }
  }
  backlog.heavy_class = wanted;
  backlog.heavy_prev = kNone;
  backlog.heavy_next = kNone;
  if (wanted != kNoClass) {
    backlog.heavy_next = heavy_heads_[wanted];
    if (backlog.heavy_next != kNone) {
      backlogs_[backlog.heavy_next].heavy_prev = index;
    }
    heavy_heads_[wanted] = index;
    heavy_mask_ |= 1u << wanted;
  }
}

void TcpReassembler::evict_tail(uint32_t victim) noexcept {
  Backlog& backlog = backlogs_[victim];
  TcpStream& stream = backlog.flow->stream(backlog.sender);
  const uint32_t tail = backlog.tail;
  counters_.add(ReassemblyCounter::kPoolEvictions);
  counters_.add(ReassemblyCounter::kPoolEvictedBytes, pieces_[tail].length);
  remove_piece(stream, tail);
  // Holding nothing and no FIN ahead, the direction has no hole left: its data will come again
  // or be given up when later data is held and waits too long.
  if (backlog.pieces == 0 && !(stream.fin_seen() && stream.fin_seq > stream.next_seq)) {
    close_backlog(stream);
  }
}

void TcpReassembler::update_hole_timer(Flow& flow, FlowEnd sender, TcpStream& stream,
                                       bool moved) noexcept {
  const bool hole = !stream.ended() &&
                    (stream.holds_data() || (stream.fin_seen() && stream.fin_seq > stream.next_seq));
  if (!hole) {
    close_backlog(stream);
    return;
  }
  if (stream.backlog == kNone) {
    open_backlog(flow, sender, stream);
    return;
  }
  if (moved) {
    // The stream moved forward: the wait starts again for the hole now first.
    restart_timer(backlogs_[stream.backlog], stream.backlog);
  }
}

void TcpReassembler::check_hole_timer(Flow& flow, FlowEnd sender, TcpStream& stream,
                                      StreamSink& sink) noexcept {
  if (stream.backlog == kNone || backlogs_[stream.backlog].since_ns + config_.gap_wait_ns > now_ns_) {
    return;
  }
  give_up_first_hole(flow, sender, stream, GapCause::kTimeout, sink);
  update_hole_timer(flow, sender, stream, true);
}

// --- segments ----------------------------------------------------------------------------------

void TcpReassembler::on_segment(Flow& flow, FlowEnd sender, const DecodedPacket& packet,
                                uint64_t now_ns, StreamSink& sink) noexcept {
  now_ns_ = std::max(now_ns_, now_ns);
  counters_.add(ReassemblyCounter::kSegments);
  TcpStream& stream = flow.stream(sender);
  const uint8_t flags = packet.tcp_flags;
  const uint32_t length = packet.payload_length;
  // Fast path, the common case: no SYN, FIN or RST on a synchronised direction that holds nothing,
  // has no hole and saw no FIN; a bare ACK, or data starting exactly at the next expected byte and
  // wholly captured. The general rules below give the same result for it: a bare ACK changes
  // nothing, the data is delivered straight from the packet, no timer starts.
  if ((flags & (kTcpSyn | kTcpFin | kTcpRst)) == 0 &&
      (stream.flags & (TcpStream::kSynchronised | TcpStream::kEnded | TcpStream::kFinSeen)) ==
          TcpStream::kSynchronised &&
      stream.backlog == kNone) [[likely]] {
    if (length == 0) {
      return;
    }
    if (TcpSeq(packet.seq) == stream.next_seq && packet.payload != nullptr &&
        packet.captured_payload_length >= length) {
      counters_.add(ReassemblyCounter::kSegmentsWithData);
      counters_.add(ReassemblyCounter::kBytesInOrder, length);
      stream.next_seq += length;
      sink.on_stream_data(flow, flow.direction_from(sender), std::span<const uint8_t>(packet.payload, length));
      return;
    }
  }
  if (length > 0) {
    counters_.add(ReassemblyCounter::kSegmentsWithData);
  }
  if ((flags & kTcpRst) != 0) {
    // The connection is aborted: both directions end, after what they hold — also when this
    // direction already ended with its FIN (a client closing with FIN, then RST).
    counters_.add(ReassemblyCounter::kResets);
    stream.flags |= TcpStream::kRstSeen;
    finish_stream(flow, sender, sink);
    finish_stream(flow, opposite(sender), sink);
    return;
  }
  if (stream.ended()) {
    if (length > 0 || (flags & (kTcpSyn | kTcpFin)) != 0) {
      counters_.add(ReassemblyCounter::kSegmentsAfterEnd);
    }
    return;
  }

  TcpSeq seq(packet.seq);
  if ((flags & kTcpSyn) != 0) {
    if (!stream.synchronised()) {
      stream.next_seq = seq + 1;
      stream.flags |= TcpStream::kSynchronised;
    } else if (seq + 1 > stream.next_seq) {
      // A SYN for bytes after those still expected: a new connection on the same ports, or
      // noise. Either way it does not belong to this byte stream.
      counters_.add(ReassemblyCounter::kSynSeqMismatch);
      return;
    }
    stream.flags |= TcpStream::kSynSeen;
    seq += 1;  // data in a SYN (TCP Fast Open) starts after the SYN's own sequence number
  }
  if (!stream.synchronised()) {
    if (length == 0 && (flags & kTcpFin) == 0) {
      return;  // a bare ACK says little; wait for data
    }
    if (!config_.midstream_pickup) {
      counters_.add(ReassemblyCounter::kNotSynchronised);
      return;
    }
    stream.next_seq = seq;
    stream.flags |= TcpStream::kSynchronised | TcpStream::kMidstream;
    counters_.add(ReassemblyCounter::kMidstreamPickups);
  }

  const TcpSeq before = stream.next_seq;
  if (length > 0) {
    uint32_t captured = packet.payload == nullptr ? 0 : std::min(packet.captured_payload_length, length);
    if (captured < length) {
      counters_.add(ReassemblyCounter::kTruncatedSegments);
    }
    handle_payload(flow, sender, stream, seq, seq + length, seq + captured, packet.payload, sink);
  }
  if ((flags & kTcpFin) != 0 && !stream.ended()) {
    const TcpSeq fin = seq + length;
    if (!stream.fin_seen()) {
      stream.fin_seq = fin;
      stream.flags |= TcpStream::kFinSeen;
      counters_.add(ReassemblyCounter::kFins);
    } else if (fin != stream.fin_seq) {
      counters_.add(ReassemblyCounter::kDataAfterFin);
    }
    trim_after_fin(stream);
    deliver_ready(flow, sender, stream, sink);
  }
  update_hole_timer(flow, sender, stream, stream.next_seq != before);
  // A hole whose wait ran out is given up here too, so that the wait holds however seldom the
  // worker calls advance() — but only after this segment had its chance to fill it.
  check_hole_timer(flow, sender, stream, sink);
}

void TcpReassembler::handle_payload(Flow& flow, FlowEnd sender, TcpStream& stream, TcpSeq start,
                                    TcpSeq end, TcpSeq captured_end, const uint8_t* data,
                                    StreamSink& sink) noexcept {
  if (stream.fin_seen() && end > stream.fin_seq) {
    counters_.add(ReassemblyCounter::kDataAfterFin);
    if (start >= stream.fin_seq) {
      return;
    }
    end = stream.fin_seq;
    captured_end = seq_min(captured_end, end);
  }
  // A memcap may give up a hole and move the stream on; the segment is then looked at again
  // (counted once).
  for (bool first = true;; first = false) {
    if (end <= stream.next_seq) {
      if (!first) {
        return;
      }
      counters_.add(ReassemblyCounter::kRetransmissions);
      counters_.add(ReassemblyCounter::kRetransmittedBytes, seq_distance(start, end));
      return;
    }
    if (start < stream.next_seq) {
      const uint32_t old_bytes = seq_distance(start, stream.next_seq);
      if (first) {
        counters_.add(ReassemblyCounter::kPartialRetransmissions);
        counters_.add(ReassemblyCounter::kRetransmittedBytes, old_bytes);
      }
      const uint32_t captured = captured_end > start ? seq_distance(start, captured_end) : 0;
      data += std::min(old_bytes, captured);
      start = stream.next_seq;
      captured_end = seq_max(captured_end, start);
    }
    if (start == stream.next_seq) {
      deliver_in_order(flow, sender, stream, start, end, captured_end, data, sink);
      deliver_ready(flow, sender, stream, sink);
      return;
    }
    if (seq_distance(stream.next_seq, start) > config_.max_forward_bytes) {
      counters_.add(ReassemblyCounter::kOutOfWindow);
      return;
    }
    if (captured_end <= start) {
      return;  // nothing captured: the whole segment stays part of the hole
    }
    if (hold(flow, sender, stream, start, captured_end, data, sink) == HoldResult::kDone) {
      return;
    }
    if (stream.ended()) {
      return;
    }
  }
}

void TcpReassembler::trim_after_fin(TcpStream& stream) noexcept {
  // Held pieces past the FIN are data after it: cut from the tail (O(1) when there are none).
  if (!stream.holds_data()) {
    return;
  }
  const Backlog& backlog = backlogs_[stream.backlog];
  if (piece_end(backlog.tail) <= stream.fin_seq) {
    return;
  }
  counters_.add(ReassemblyCounter::kDataAfterFin);
  while (backlog.pieces > 0 && pieces_[backlog.tail].seq >= stream.fin_seq) {
    remove_piece(stream, backlog.tail);
  }
  if (backlog.pieces > 0 && piece_end(backlog.tail) > stream.fin_seq) {
    // The piece that straddles the FIN keeps its bytes before it.
    Piece& piece = pieces_[backlog.tail];
    const uint32_t cut = seq_distance(stream.fin_seq, piece_end(backlog.tail));
    piece.length -= cut;
    stream.held_bytes -= cut;
    bytes_held_ -= cut;
  }
}

void TcpReassembler::deliver_in_order(Flow& flow, FlowEnd sender, TcpStream& stream, TcpSeq start,
                                      TcpSeq end, TcpSeq captured_end, const uint8_t* data,
                                      StreamSink& sink) noexcept {
  TcpSeq cursor = start;
  while (cursor < end) {
    const uint32_t head = head_of(stream);
    if (head != kNone && pieces_[head].seq <= cursor) {
      // Held bytes arrived first and win over this packet's bytes for the same range.
      const Piece& piece = pieces_[head];
      const TcpSeq held_end = piece_end(head);
      const uint32_t skip = seq_distance(piece.seq, cursor);
      const TcpSeq compare_end = seq_min(held_end, captured_end);
      counters_.add(ReassemblyCounter::kOverlaps);
      if (cursor < compare_end &&
          std::memcmp(data + seq_distance(start, cursor), piece_data(head) + skip,
                      seq_distance(cursor, compare_end)) != 0) {
        counters_.add(ReassemblyCounter::kOverlapsDiffer);
      }
      const uint32_t deliver = piece.length - skip;
      stream.next_seq = held_end;
      counters_.add(ReassemblyCounter::kBytesFromHeld, deliver);
      sink.on_stream_data(flow, flow.direction_from(sender), std::span<const uint8_t>(piece_data(head) + skip, deliver));
      pop_head(stream);
      cursor = held_end;
      continue;
    }
    const TcpSeq limit = head != kNone ? seq_min(end, pieces_[head].seq) : end;
    if (cursor < captured_end) {
      const TcpSeq to = seq_min(limit, captured_end);
      const uint32_t bytes = seq_distance(cursor, to);
      stream.next_seq = to;
      counters_.add(ReassemblyCounter::kBytesInOrder, bytes);
      sink.on_stream_data(flow, flow.direction_from(sender), std::span<const uint8_t>(data + seq_distance(start, cursor), bytes));
      cursor = to;
    } else {
      // The capture cut this segment short: these bytes are known lost.
      stream.next_seq = limit;
      report_gap(flow, sender, seq_distance(cursor, limit), GapCause::kTruncated, sink);
      cursor = limit;
    }
  }
}

TcpReassembler::HoldResult TcpReassembler::hold(Flow& flow, FlowEnd sender, TcpStream& stream,
                                                TcpSeq start, TcpSeq captured_end, const uint8_t* data,
                                                StreamSink& sink) noexcept {
  // Where the segment goes: `previous` is the last piece ending at or before `start`, `current`
  // the first one ending after it. After the tail, the common case, needs no search.
  uint32_t first_previous = kNone;
  uint32_t first_current = kNone;
  if (stream.holds_data()) {
    const Backlog& backlog = backlogs_[stream.backlog];
    if (piece_end(backlog.tail) <= start) {
      first_previous = backlog.tail;
    } else {
      const uint32_t floor = floor_piece(backlog, start);
      if (floor == kNone) {
        first_current = backlog.head;
      } else if (piece_end(floor) <= start) {
        first_previous = floor;
        first_current = pieces_[floor].next;
      } else {
        first_previous = pieces_[floor].prev;
        first_current = floor;
      }
    }
  }

  // First pass: how many bytes are new (not held yet), and how many pieces they need. The walk
  // visits only the pieces the segment overlaps.
  uint64_t new_bytes = 0;
  uint32_t pieces_needed = 0;
  {
    TcpSeq pos = start;
    uint32_t previous = first_previous;
    uint32_t current = first_current;
    while (pos < captured_end) {
      while (current != kNone && piece_end(current) <= pos) {
        previous = current;
        current = pieces_[current].next;
      }
      if (current != kNone && pieces_[current].seq <= pos) {
        pos = seq_min(captured_end, piece_end(current));
        continue;
      }
      const TcpSeq limit = current != kNone ? seq_min(captured_end, pieces_[current].seq) : captured_end;
      const uint32_t bytes = seq_distance(pos, limit);
      const uint32_t room = previous != kNone && piece_end(previous) == pos ? kPieceBytes - pieces_[previous].length : 0;
      new_bytes += bytes;
      pieces_needed += (bytes - std::min(bytes, room) + kPieceBytes - 1) / kPieceBytes;
      pos = limit;
    }
  }
  if (new_bytes > 0 && make_room(flow, sender, stream, new_bytes, pieces_needed, sink) == HoldResult::kRetry) {
    return HoldResult::kRetry;
  }
  if (new_bytes > 0 && open_backlog(flow, sender, stream) == kNone) {
    counters_.add(ReassemblyCounter::kMemcapDrops);
    counters_.add(ReassemblyCounter::kMemcapBytesDropped, new_bytes);
    return HoldResult::kDone;
  }

  // Second pass: compare overlaps, copy new bytes (extending the piece before when it has room),
  // and merge the piece the new bytes reach into the one before when both fit in one.
  bool overlapped = false;
  bool differ = false;
  uint64_t stored = 0;
  uint64_t dropped_stream = 0;
  uint64_t dropped_pieces = 0;
  uint64_t dropped_pool = 0;
  TcpSeq pos = start;
  uint32_t previous = first_previous;
  uint32_t current = first_current;
  while (pos < captured_end) {
    while (current != kNone && piece_end(current) <= pos) {
      previous = current;
      current = pieces_[current].next;
    }
    if (current != kNone && pieces_[current].seq <= pos) {
      const TcpSeq overlap_end = seq_min(captured_end, piece_end(current));
      overlapped = true;
      if (std::memcmp(data + seq_distance(start, pos),
                      piece_data(current) + seq_distance(pieces_[current].seq, pos),
                      seq_distance(pos, overlap_end)) != 0) {
        differ = true;
      }
      pos = overlap_end;
      continue;
    }
    const TcpSeq limit = current != kNone ? seq_min(captured_end, pieces_[current].seq) : captured_end;
    while (pos < limit) {
      const uint32_t want = seq_distance(pos, limit);
      const uint32_t room = stream.held_bytes < config_.stream_memcap_bytes
                                ? config_.stream_memcap_bytes - stream.held_bytes
                                : 0;
      if (room == 0) {
        dropped_stream += want;
        pos = limit;
        break;
      }
      uint32_t bytes = 0;
      if (previous != kNone && piece_end(previous) == pos && pieces_[previous].length < kPieceBytes) {
        bytes = std::min({want, room, kPieceBytes - pieces_[previous].length});
        std::memcpy(piece_data(previous) + pieces_[previous].length, data + seq_distance(start, pos), bytes);
        pieces_[previous].length += bytes;
        stream.held_bytes += bytes;
        bytes_held_ += bytes;
      } else {
        if (backlogs_[stream.backlog].pieces >= config_.stream_max_pieces) {
          dropped_pieces += want;
          pos = limit;
          break;
        }
        const uint32_t index = allocate_piece();
        if (index == kNone) {
          dropped_pool += want;
          pos = limit;
          break;
        }
        bytes = std::min({want, room, kPieceBytes});
        pieces_[index].seq = pos;
        pieces_[index].length = bytes;
        std::memcpy(piece_data(index), data + seq_distance(start, pos), bytes);
        link_piece(stream, index, previous);
        previous = index;
      }
      stored += bytes;
      pos += bytes;
    }
    if (previous != kNone && current != kNone && piece_end(previous) == pieces_[current].seq &&
        pieces_[previous].length + pieces_[current].length <= kPieceBytes) {
      // Coalesce: the bytes move, the stream's and the pool's byte counts stay.
      const uint32_t moved = pieces_[current].length;
      std::memcpy(piece_data(previous) + pieces_[previous].length, piece_data(current), moved);
      pieces_[previous].length += moved;
      pieces_[current].length = 0;
      remove_piece(stream, current);
      counters_.add(ReassemblyCounter::kPiecesCoalesced);
      // The merged piece now holds the bytes from `pos` on: it is the one the rest of the
      // segment overlaps.
      current = previous;
      previous = pieces_[current].prev;
    }
  }
  if (stored > 0) {
    counters_.add(ReassemblyCounter::kSegmentsHeld);
    counters_.add(ReassemblyCounter::kBytesHeld, stored);
  }
  if (overlapped) {
    counters_.add(ReassemblyCounter::kOverlaps);
  }
  if (differ) {
    counters_.add(ReassemblyCounter::kOverlapsDiffer);
  }
  if (dropped_stream > 0) {
    counters_.add(ReassemblyCounter::kStreamMemcapDrops);
    counters_.add(ReassemblyCounter::kStreamMemcapBytesDropped, dropped_stream);
  }
  if (dropped_pieces > 0) {
    counters_.add(ReassemblyCounter::kStreamPieceCapDrops);
  }
  if (dropped_pool > 0) {
    counters_.add(ReassemblyCounter::kMemcapDrops);
    counters_.add(ReassemblyCounter::kMemcapBytesDropped, dropped_pool);
  }
  return HoldResult::kDone;
}

TcpReassembler::HoldResult TcpReassembler::make_room(Flow& flow, FlowEnd sender, TcpStream& stream,
                                                     uint64_t new_bytes, uint32_t pieces_needed,
                                                     StreamSink& sink) noexcept {
  const uint32_t own = stream.holds_data() ? backlogs_[stream.backlog].pieces : 0;
  // The direction's own bounds: give up its first hole, which delivers (and frees) at least the
  // first held piece, then try again.
  if (own > 0 && (stream.held_bytes + new_bytes > config_.stream_memcap_bytes ||
                  own + pieces_needed > config_.stream_max_pieces)) {
    give_up_first_hole(flow, sender, stream, GapCause::kMemcap, sink);
    return HoldResult::kRetry;
  }
  if (piece_count_ - pieces_in_use_ >= pieces_needed || heavy_mask_ == 0) {
    return HoldResult::kDone;
  }
  // The pool is short: the direction holding the most pieces pays.
  const uint32_t top_class = static_cast<uint32_t>(std::bit_width(heavy_mask_) - 1);
  if (own > 0 && backlogs_[stream.backlog].heavy_class >= top_class) {
    give_up_first_hole(flow, sender, stream, GapCause::kMemcap, sink);
    return HoldResult::kRetry;
  }
  uint32_t victim = heavy_heads_[top_class];
  if (victim == stream.backlog) {
    victim = backlogs_[victim].heavy_next;
  }
  if (victim == kNone) {
    return HoldResult::kDone;
  }
  while (piece_count_ - pieces_in_use_ < pieces_needed && backlogs_[victim].pieces > 0) {
    const bool last = backlogs_[victim].pieces == 1;
    evict_tail(victim);
    if (last) {
      break;  // the victim's backlog may be closed now
    }
  }
  return HoldResult::kRetry;
}

void TcpReassembler::deliver_ready(Flow& flow, FlowEnd sender, TcpStream& stream,
                                   StreamSink& sink) noexcept {
  for (uint32_t head = head_of(stream); head != kNone && pieces_[head].seq <= stream.next_seq;
       head = head_of(stream)) {
    const TcpSeq held_end = piece_end(head);
    if (held_end > stream.next_seq) {
      const uint32_t skip = seq_distance(pieces_[head].seq, stream.next_seq);
      const uint32_t bytes = pieces_[head].length - skip;
      stream.next_seq = held_end;
      counters_.add(ReassemblyCounter::kBytesFromHeld, bytes);
      sink.on_stream_data(flow, flow.direction_from(sender), std::span<const uint8_t>(piece_data(head) + skip, bytes));
    }
    pop_head(stream);
  }
  if (stream.fin_seen() && !stream.ended() && stream.fin_seq <= stream.next_seq) {
    stream.next_seq = stream.fin_seq + 1;
    end_stream(flow, sender, stream, sink);
  }
}

void TcpReassembler::give_up_first_hole(Flow& flow, FlowEnd sender, TcpStream& stream,
                                        GapCause cause, StreamSink& sink) noexcept {
  if (stream.ended()) {
    return;
  }
  TcpSeq resume;
  const uint32_t head = head_of(stream);
  if (head != kNone) {
    resume = pieces_[head].seq;
  } else if (stream.fin_seen() && stream.fin_seq > stream.next_seq) {
    resume = stream.fin_seq;
  } else {
    return;
  }
  const uint32_t missing = seq_distance(stream.next_seq, resume);
  stream.next_seq = resume;
  report_gap(flow, sender, missing, cause, sink);
  deliver_ready(flow, sender, stream, sink);
}

void TcpReassembler::report_gap(Flow& flow, FlowEnd sender, uint64_t missing_bytes, GapCause cause,
                                StreamSink& sink) noexcept {
  if (missing_bytes == 0) {
    return;
  }
  counters_.add(ReassemblyCounter::kGaps);
  counters_.add(ReassemblyCounter::kGapBytes, missing_bytes);
  switch (cause) {
    case GapCause::kTimeout:
      counters_.add(ReassemblyCounter::kGapsTimeout);
      break;
    case GapCause::kMemcap:
      counters_.add(ReassemblyCounter::kGapsMemcap);
      break;
    case GapCause::kAtEnd:
      counters_.add(ReassemblyCounter::kGapsAtEnd);
      break;
    case GapCause::kTruncated:
      counters_.add(ReassemblyCounter::kGapsTruncated);
      break;
  }
  sink.on_stream_gap(flow, flow.direction_from(sender), missing_bytes);
}

void TcpReassembler::end_stream(Flow& flow, FlowEnd sender, TcpStream& stream,
                                StreamSink& sink) noexcept {
  close_backlog(stream);
  stream.flags |= TcpStream::kEnded;
  counters_.add(ReassemblyCounter::kStreamsEnded);
  sink.on_stream_end(flow, flow.direction_from(sender));
}

void TcpReassembler::finish_stream(Flow& flow, FlowEnd sender, StreamSink& sink) noexcept {
  TcpStream& stream = flow.stream(sender);
  if (stream.ended()) {
    return;
  }
  // Each step delivers at least the first held piece, or ends the stream at its FIN.
  while (!stream.ended() &&
         (stream.holds_data() || (stream.fin_seen() && stream.fin_seq > stream.next_seq))) {
    give_up_first_hole(flow, sender, stream, GapCause::kAtEnd, sink);
  }
  if (!stream.ended()) {
    end_stream(flow, sender, stream, sink);
  }
}

void TcpReassembler::advance(uint64_t now_ns, StreamSink& sink) noexcept {
  now_ns_ = std::max(now_ns_, now_ns);
  // The FIFO is ordered by since_ns; a timer that is restarted goes to the tail with since_ns =
  // now, which gap_wait_ns > 0 keeps out of this round.
  while (timer_head_ != kNone && backlogs_[timer_head_].since_ns + config_.gap_wait_ns <= now_ns_) {
    const Backlog& backlog = backlogs_[timer_head_];
    Flow& flow = *backlog.flow;
    const FlowEnd sender = backlog.sender;
    TcpStream& stream = flow.stream(sender);
    give_up_first_hole(flow, sender, stream, GapCause::kTimeout, sink);
    update_hole_timer(flow, sender, stream, true);
  }
}

void TcpReassembler::finish(Flow& flow, StreamSink& sink) noexcept {
  for (const FlowEnd sender : {FlowEnd::kA, FlowEnd::kB}) {
    TcpStream& stream = flow.stream(sender);
    if (stream.ended()) {
      continue;
    }
    // Most flows end holding nothing, with no hole and no FIN still ahead: only the end to say.
    if (stream.backlog == kNone && !(stream.fin_seen() && stream.fin_seq > stream.next_seq)) {
      stream.flags |= TcpStream::kEnded;
      counters_.add(ReassemblyCounter::kStreamsEnded);
      sink.on_stream_end(flow, flow.direction_from(sender));
      continue;
    }
    finish_stream(flow, sender, sink);
  }
}

void TcpReassembler::release(Flow& flow) noexcept {
  for (TcpStream& stream : flow.streams) {
    close_backlog(stream);
    stream.flags |= TcpStream::kEnded;
  }
}

}  // namespace misdirect::dataplane
