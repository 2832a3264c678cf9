// DnsSession: message framing over UDP and TCP, and query/response matching by id.
#include "inspect/dns_session.h"

#include <algorithm>
#include <cstring>

namespace misdirect::inspect {

DnsSession::DnsSession(DnsTransport transport, DnsEventSink& sink, std::span<uint8_t> tcp_buffer) noexcept
    : transport_(transport), sink_(sink), tcp_buffer_(tcp_buffer) {}

void DnsSession::anomaly(DnsAnomalyKind kind, Direction direction, bool malformed) noexcept {
  sink_.on_event(DnsAnomaly{kind, direction, malformed});
}

std::span<uint8_t> DnsSession::half(Direction direction) noexcept {
  const std::size_t size = tcp_buffer_.size() / 2;
  return tcp_buffer_.subspan(direction == Direction::kClientToServer ? 0 : size, size);
}

void DnsSession::feed(Direction direction, std::span<const uint8_t> bytes) noexcept {
  if (finished_) {
    return;
  }
  if (transport_ == DnsTransport::kUdp) {
    on_message(direction, bytes);
    return;
  }
  feed_stream(direction, bytes);
}

void DnsSession::feed_stream(Direction direction, std::span<const uint8_t> bytes) noexcept {
  Stream& stream = streams_[static_cast<std::size_t>(direction)];
  const std::span<uint8_t> buffer = half(direction);
  std::size_t position = 0;
  while (position < bytes.size()) {
    switch (stream.framing) {
      case Framing::kLost:
        return;
      case Framing::kLength:
        stream.message_length = static_cast<uint16_t>((stream.message_length << 8) | bytes[position++]);
        if (++stream.length_octets == 2) {
          stream.framing = Framing::kBody;
          stream.received = 0;
          if (stream.message_length == 0) {
            anomaly(DnsAnomalyKind::kShortMessage, direction, true);
            stream = Stream{};
          }
        }
        break;
      case Framing::kBody: {
        const std::size_t wanted = stream.message_length - stream.received;
        const std::size_t take = std::min(wanted, bytes.size() - position);
        if (stream.received < buffer.size()) {
          const std::size_t keep = std::min(take, buffer.size() - stream.received);
          std::memcpy(buffer.data() + stream.received, bytes.data() + position, keep);
        }
        stream.received = static_cast<uint16_t>(stream.received + take);
        position += take;
        if (stream.received == stream.message_length) {
          if (stream.message_length > buffer.size()) {
            anomaly(DnsAnomalyKind::kMessageTooLong, direction, true);
          } else {
            on_message(direction, buffer.first(stream.message_length));
          }
          stream = Stream{};
        }
        break;
      }
    }
  }
}

void DnsSession::on_gap(Direction direction, uint64_t) noexcept {
  if (finished_ || transport_ == DnsTransport::kUdp) {
    return;
  }
  Stream& stream = streams_[static_cast<std::size_t>(direction)];
  if (stream.framing != Framing::kLost) {
    stream.framing = Framing::kLost;
    anomaly(DnsAnomalyKind::kStreamGap, direction, stream.length_octets > 0);
  }
}

void DnsSession::finish() noexcept {
  if (finished_) {
    return;
  }
  finished_ = true;
  for (const Direction direction : {Direction::kClientToServer, Direction::kServerToClient}) {
    const Stream& stream = streams_[static_cast<std::size_t>(direction)];
    if (transport_ == DnsTransport::kTcp && stream.framing != Framing::kLost &&
        stream.length_octets > 0) {
      anomaly(DnsAnomalyKind::kTruncated, direction, true);
    }
  }
}

void DnsSession::on_message(Direction direction, std::span<const uint8_t> message) noexcept {
  const DnsCheck checked = parser_.check(message);
  if (!checked.well_formed) {
    anomaly(checked.anomaly, direction, true);
    return;
  }
  const uint16_t id = checked.header.id;
  bool matched = false;
  uint16_t query_type = 0;
  if (checked.header.response()) {
    for (Pending& pending : pending_) {
      if (pending.used && pending.id == id && pending.direction != direction) {
        matched = true;
        query_type = pending.type;
        pending.used = false;
        break;
      }
    }
  } else {
    Pending* slot = nullptr;
    for (Pending& pending : pending_) {
      if (!pending.used) {
        slot = &pending;
        break;
      }
    }
    if (slot == nullptr) {
      anomaly(DnsAnomalyKind::kPendingOverflow, direction, false);
      slot = &*std::min_element(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
        return a.sequence < b.sequence;
      });
    }
    *slot = Pending{id, checked.first_question_type, direction, true, next_sequence_++};
    query_type = checked.first_question_type;
  }
  parser_.emit(message, checked, direction, matched, query_type, sink_);
}

}  // namespace misdirect::inspect
