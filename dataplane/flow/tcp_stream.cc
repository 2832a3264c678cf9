// TcpStream: per-direction TCP reassembly — ordering, holes, overlaps and memory bounds.
#include "dataplane/flow/tcp_stream.h"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <new>
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
  piece_count_ = static_cast<uint32_t>(config.memcap_bytes / kPieceBytes);
  // The data is not initialised: pages of pieces never used are never touched.
  piece_storage_.reset(new std::byte[sizeof(Piece) * std::size_t{piece_count_}]);
  pieces_ = reinterpret_cast<Piece*>(piece_storage_.get());
  data_.reset(new uint8_t[std::size_t{piece_count_} * kPieceBytes]);
  // A direction with a hole holds a piece or has seen its FIN; one timer a piece covers the first.
  timer_count_ = piece_count_;
  timer_storage_.reset(new std::byte[sizeof(HoleTimer) * std::size_t{timer_count_}]);
  timers_ = reinterpret_cast<HoleTimer*>(timer_storage_.get());
}

TcpReassembler::~TcpReassembler() = default;

// --- pools -------------------------------------------------------------------------------------

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

void TcpReassembler::pop_head(TcpStream& stream) noexcept {
  const uint32_t head = stream.held_head;
  stream.held_head = pieces_[head].next;
  stream.held_bytes -= pieces_[head].length;
  free_piece(head);
}

void TcpReassembler::free_pieces(TcpStream& stream) noexcept {
  while (stream.held_head != kNone) {
    pop_head(stream);
  }
}

uint32_t TcpReassembler::allocate_timer() noexcept {
  if (timer_free_ != kNone) {
    const uint32_t index = timer_free_;
    timer_free_ = timers_[index].next;
    return index;
  }
  if (timer_fresh_ < timer_count_) {
    return timer_fresh_++;
  }
  return kNone;
}

void TcpReassembler::append_timer(Flow& flow, FlowDirection direction, TcpStream& stream) noexcept {
  const uint32_t index = allocate_timer();
  if (index == kNone) {
    counters_.add(ReassemblyCounter::kHoleTimersExhausted);
    return;
  }
  new (&timers_[index]) HoleTimer{&flow, now_ns_, timer_tail_, kNone, direction};
  if (timer_tail_ != kNone) {
    timers_[timer_tail_].next = index;
  } else {
    timer_head_ = index;
  }
  timer_tail_ = index;
  stream.hole_timer = index;
}

void TcpReassembler::unlink_timer(TcpStream& stream) noexcept {
  const uint32_t index = stream.hole_timer;
  if (index == kNone) {
    return;
  }
  HoleTimer& timer = timers_[index];
  if (timer.prev != kNone) {
    timers_[timer.prev].next = timer.next;
  } else {
    timer_head_ = timer.next;
  }
  if (timer.next != kNone) {
    timers_[timer.next].prev = timer.prev;
  } else {
    timer_tail_ = timer.prev;
  }
  timer.flow = nullptr;
  timer.next = timer_free_;
  timer_free_ = index;
  stream.hole_timer = kNone;
}

void TcpReassembler::update_hole_timer(Flow& flow, FlowDirection direction, TcpStream& stream,
                                       bool moved) noexcept {
  const bool hole = !stream.ended() &&
                    (stream.held_head != kNone || (stream.fin_seen() && stream.fin_seq > stream.next_seq));
  if (!hole) {
    unlink_timer(stream);
    return;
  }
  if (stream.hole_timer != kNone && !moved) {
    return;
  }
  // New hole, or the stream moved forward and the wait starts again for the hole now first.
  unlink_timer(stream);
  append_timer(flow, direction, stream);
}

void TcpReassembler::check_hole_timer(Flow& flow, FlowDirection direction, TcpStream& stream,
                                      StreamSink& sink) noexcept {
  if (stream.hole_timer == kNone || timers_[stream.hole_timer].since_ns + config_.gap_wait_ns > now_ns_) {
    return;
  }
  give_up_first_hole(flow, direction, stream, GapCause::kTimeout, sink);
  update_hole_timer(flow, direction, stream, true);
}

// --- segments ----------------------------------------------------------------------------------

void TcpReassembler::on_segment(Flow& flow, FlowDirection direction, const DecodedPacket& packet,
                                uint64_t now_ns, StreamSink& sink) noexcept {
  now_ns_ = std::max(now_ns_, now_ns);
  counters_.add(ReassemblyCounter::kSegments);
  TcpStream& stream = flow.stream(direction);
  const uint8_t flags = packet.tcp_flags;
  const uint32_t length = packet.payload_length;
  // Fast path, the common case: no SYN, FIN or RST on a synchronised direction that holds nothing,
  // has no hole and saw no FIN; a bare ACK, or data starting exactly at the next expected byte and
  // wholly captured. The general rules below give the same result for it: a bare ACK changes
  // nothing, the data is delivered straight from the packet, no timer starts.
  if ((flags & (kTcpSyn | kTcpFin | kTcpRst)) == 0 &&
      (stream.flags & (TcpStream::kSynchronised | TcpStream::kEnded | TcpStream::kFinSeen)) ==
          TcpStream::kSynchronised &&
      stream.held_head == kNone && stream.hole_timer == kNone) [[likely]] {
    if (length == 0) {
      return;
    }
    if (TcpSeq(packet.seq) == stream.next_seq && packet.payload != nullptr &&
        packet.captured_payload_length >= length) {
      counters_.add(ReassemblyCounter::kSegmentsWithData);
      counters_.add(ReassemblyCounter::kBytesInOrder, length);
      stream.next_seq += length;
      sink.on_stream_data(flow, direction, std::span<const uint8_t>(packet.payload, length));
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
    finish_stream(flow, direction, sink);
    finish_stream(flow, opposite(direction), sink);
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
    handle_payload(flow, direction, stream, seq, seq + length, seq + captured, packet.payload, sink);
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
    // Held pieces past the FIN are data after it.
    uint32_t* link = &stream.held_head;
    while (*link != kNone && piece_end(*link) <= stream.fin_seq) {
      link = &pieces_[*link].next;
    }
    if (*link != kNone) {
      counters_.add(ReassemblyCounter::kDataAfterFin);
      // Trim the piece that straddles the FIN, free those wholly after it.
      uint32_t index = *link;
      if (pieces_[index].seq < stream.fin_seq) {
        const uint32_t keep = seq_distance(pieces_[index].seq, stream.fin_seq);
        stream.held_bytes -= pieces_[index].length - keep;
        bytes_held_ -= pieces_[index].length - keep;
        pieces_[index].length = keep;
        link = &pieces_[index].next;
        index = *link;
      }
      *link = kNone;
      while (index != kNone) {
        const uint32_t next = pieces_[index].next;
        stream.held_bytes -= pieces_[index].length;
        free_piece(index);
        index = next;
      }
    }
    deliver_ready(flow, direction, stream, sink);
  }
  update_hole_timer(flow, direction, stream, stream.next_seq != before);
  // A hole whose wait ran out is given up here too, so that the wait holds however seldom the
  // worker calls advance() — but only after this segment had its chance to fill it.
  check_hole_timer(flow, direction, stream, sink);
}

void TcpReassembler::handle_payload(Flow& flow, FlowDirection direction, TcpStream& stream, TcpSeq start,
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
      deliver_in_order(flow, direction, stream, start, end, captured_end, data, sink);
      deliver_ready(flow, direction, stream, sink);
      return;
    }
    if (seq_distance(stream.next_seq, start) > config_.max_forward_bytes) {
      counters_.add(ReassemblyCounter::kOutOfWindow);
      return;
    }
    if (captured_end <= start) {
      return;  // nothing captured: the whole segment stays part of the hole
    }
    if (hold(flow, direction, stream, start, captured_end, data, sink) == HoldResult::kDone) {
      return;
    }
    if (stream.ended()) {
      return;
    }
  }
}

void TcpReassembler::deliver_in_order(Flow& flow, FlowDirection direction, TcpStream& stream, TcpSeq start,
                                      TcpSeq end, TcpSeq captured_end, const uint8_t* data,
                                      StreamSink& sink) noexcept {
  TcpSeq cursor = start;
  while (cursor < end) {
    const uint32_t head = stream.held_head;
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
      sink.on_stream_data(flow, direction, std::span<const uint8_t>(piece_data(head) + skip, deliver));
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
      sink.on_stream_data(flow, direction, std::span<const uint8_t>(data + seq_distance(start, cursor), bytes));
      cursor = to;
    } else {
      // The capture cut this segment short: these bytes are known lost.
      stream.next_seq = limit;
      report_gap(flow, direction, seq_distance(cursor, limit), GapCause::kTruncated, sink);
      cursor = limit;
    }
  }
}

TcpReassembler::HoldResult TcpReassembler::hold(Flow& flow, FlowDirection direction, TcpStream& stream,
                                                TcpSeq start, TcpSeq captured_end, const uint8_t* data,
                                                StreamSink& sink) noexcept {
  // First pass: how many bytes are new (not held yet), and how many pieces they need.
  uint64_t new_bytes = 0;
  uint64_t pieces_needed = 0;
  {
    TcpSeq pos = start;
    uint32_t previous = kNone;
    uint32_t current = stream.held_head;
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
  if (new_bytes > 0 && stream.held_head != kNone) {
    const bool over_stream = stream.held_bytes + new_bytes > config_.stream_memcap_bytes;
    const bool over_pool = piece_count_ - pieces_in_use_ < pieces_needed;
    if (over_stream || over_pool) {
      give_up_first_hole(flow, direction, stream, GapCause::kMemcap, sink);
      return HoldResult::kRetry;
    }
  }

  // Second pass: compare overlaps, copy new bytes (extending the piece before when it has room).
  bool overlapped = false;
  bool differ = false;
  uint64_t stored = 0;
  uint64_t dropped_stream = 0;
  uint64_t dropped_pool = 0;
  TcpSeq pos = start;
  uint32_t previous = kNone;
  uint32_t current = stream.held_head;
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
      } else {
        const uint32_t index = allocate_piece();
        if (index == kNone) {
          dropped_pool += want;
          pos = limit;
          break;
        }
        bytes = std::min({want, room, kPieceBytes});
        pieces_[index].seq = pos;
        pieces_[index].length = bytes;
        pieces_[index].next = current;
        std::memcpy(piece_data(index), data + seq_distance(start, pos), bytes);
        if (previous == kNone) {
          stream.held_head = index;
        } else {
          pieces_[previous].next = index;
        }
        previous = index;
      }
      stream.held_bytes += bytes;
      bytes_held_ += bytes;
      stored += bytes;
      pos += bytes;
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
  if (dropped_pool > 0) {
    counters_.add(ReassemblyCounter::kMemcapDrops);
    counters_.add(ReassemblyCounter::kMemcapBytesDropped, dropped_pool);
  }
  return HoldResult::kDone;
}

void TcpReassembler::deliver_ready(Flow& flow, FlowDirection direction, TcpStream& stream,
                                   StreamSink& sink) noexcept {
  while (stream.held_head != kNone && pieces_[stream.held_head].seq <= stream.next_seq) {
    const uint32_t head = stream.held_head;
    const TcpSeq held_end = piece_end(head);
    if (held_end > stream.next_seq) {
      const uint32_t skip = seq_distance(pieces_[head].seq, stream.next_seq);
      const uint32_t bytes = pieces_[head].length - skip;
      stream.next_seq = held_end;
      counters_.add(ReassemblyCounter::kBytesFromHeld, bytes);
      sink.on_stream_data(flow, direction, std::span<const uint8_t>(piece_data(head) + skip, bytes));
    }
    pop_head(stream);
  }
  if (stream.fin_seen() && !stream.ended() && stream.fin_seq <= stream.next_seq) {
    stream.next_seq = stream.fin_seq + 1;
    end_stream(flow, direction, stream, sink);
  }
}

void TcpReassembler::give_up_first_hole(Flow& flow, FlowDirection direction, TcpStream& stream,
                                        GapCause cause, StreamSink& sink) noexcept {
  if (stream.ended()) {
    return;
  }
  TcpSeq resume;
  if (stream.held_head != kNone) {
    resume = pieces_[stream.held_head].seq;
  } else if (stream.fin_seen() && stream.fin_seq > stream.next_seq) {
    resume = stream.fin_seq;
  } else {
    return;
  }
  const uint32_t missing = seq_distance(stream.next_seq, resume);
  stream.next_seq = resume;
  report_gap(flow, direction, missing, cause, sink);
  deliver_ready(flow, direction, stream, sink);
}

void TcpReassembler::report_gap(Flow& flow, FlowDirection direction, uint64_t missing_bytes, GapCause cause,
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
  sink.on_stream_gap(flow, direction, missing_bytes);
}

void TcpReassembler::end_stream(Flow& flow, FlowDirection direction, TcpStream& stream,
                                StreamSink& sink) noexcept {
  free_pieces(stream);
  unlink_timer(stream);
  stream.flags |= TcpStream::kEnded;
  counters_.add(ReassemblyCounter::kStreamsEnded);
  sink.on_stream_end(flow, direction);
}

void TcpReassembler::finish_stream(Flow& flow, FlowDirection direction, StreamSink& sink) noexcept {
  TcpStream& stream = flow.stream(direction);
  if (stream.ended()) {
    return;
  }
  // Each step delivers at least the first held piece, or ends the stream at its FIN.
  while (!stream.ended() &&
         (stream.held_head != kNone || (stream.fin_seen() && stream.fin_seq > stream.next_seq))) {
    give_up_first_hole(flow, direction, stream, GapCause::kAtEnd, sink);
  }
  if (!stream.ended()) {
    end_stream(flow, direction, stream, sink);
  }
}

void TcpReassembler::advance(uint64_t now_ns, StreamSink& sink) noexcept {
  now_ns_ = std::max(now_ns_, now_ns);
  // The FIFO is ordered by since_ns; a timer that is restarted goes to the tail with since_ns =
  // now, which gap_wait_ns > 0 keeps out of this round.
  while (timer_head_ != kNone && timers_[timer_head_].since_ns + config_.gap_wait_ns <= now_ns_) {
    const HoleTimer& timer = timers_[timer_head_];
    Flow& flow = *timer.flow;
    const FlowDirection direction = timer.direction;
    TcpStream& stream = flow.stream(direction);
    give_up_first_hole(flow, direction, stream, GapCause::kTimeout, sink);
    update_hole_timer(flow, direction, stream, true);
  }
}

void TcpReassembler::finish(Flow& flow, StreamSink& sink) noexcept {
  for (const FlowDirection direction : {FlowDirection::kAToB, FlowDirection::kBToA}) {
    TcpStream& stream = flow.stream(direction);
    if (stream.ended()) {
      continue;
    }
    // Most flows end holding nothing, with no hole and no FIN still ahead: only the end to say.
    if (stream.held_head == kNone && stream.hole_timer == kNone &&
        !(stream.fin_seen() && stream.fin_seq > stream.next_seq)) {
      stream.flags |= TcpStream::kEnded;
      counters_.add(ReassemblyCounter::kStreamsEnded);
      sink.on_stream_end(flow, direction);
      continue;
    }
    finish_stream(flow, direction, sink);
  }
}

void TcpReassembler::release(Flow& flow) noexcept {
  for (TcpStream& stream : flow.streams) {
    free_pieces(stream);
    unlink_timer(stream);
    stream.flags |= TcpStream::kEnded;
  }
}

}  // namespace misdirect::dataplane
