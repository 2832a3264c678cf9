// DnsSession: the DNS parser for one flow — UDP datagrams or a TCP connection's two streams —
// that frames messages, matches responses to queries by id, and reports DnsEvents.
//
// Framing is separate from meaning: over UDP each feed() is one datagram and so one message;
// over TCP each direction is a stream of messages, each after a two-octet length (RFC 1035
// §4.2.2, RFC 7766), gathered in the caller's buffer — any chunking gives the same events. The
// message itself is read by DnsMessageParser (dns_message.h), which reports nothing of a
// malformed message but its anomaly.
//
// Query/response matching: the id and first question type of every query wait in a fixed table of
// kMaxPendingQueries until a response with the same id comes the other way; when the table is full
// the oldest is forgotten (kPendingOverflow). A response says whether it was matched.
//
// TCP framing states, per direction:
//   length  — at the start and after every message: collecting the two length octets
//   body    — after a length: collecting that many octets (those beyond the buffer are skipped
//             by count and the message reported as kMessageTooLong)
//   lost    — after a gap: the next length octet cannot be found again; the direction is ignored
// finish() reports a message cut short by the end of the connection as kTruncated.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "inspect/dns_event.h"
#include "inspect/dns_message.h"

namespace misdirect::inspect {

enum class DnsTransport : uint8_t { kUdp, kTcp };

class DnsSession {
 public:
  static constexpr std::size_t kMaxPendingQueries = 16;
  // The largest TCP message kept whole for one direction: larger ones are skipped.
  static constexpr std::size_t kDefaultTcpMessageBytes = 4096;

  // `tcp_buffer`: TCP only, split in two halves, one per direction (each half bounds the message
  // size); the caller owns it so sessions can live in pools. UDP needs none: the datagram is read
  // where it lies.
  DnsSession(DnsTransport transport, DnsEventSink& sink, std::span<uint8_t> tcp_buffer = {}) noexcept;

  // UDP: one datagram's payload. TCP: the next bytes of this direction's stream.
  void feed(Direction direction, std::span<const uint8_t> bytes) noexcept;
  // TCP: `byte_count` bytes of this direction were lost. UDP: nothing to do (a lost datagram
  // takes nothing else with it).
  void on_gap(Direction direction, uint64_t byte_count) noexcept;
  // The flow ended.
  void finish() noexcept;

  DnsTransport transport() const noexcept { return transport_; }

 private:
  enum class Framing : uint8_t { kLength, kBody, kLost };
  struct Stream {
    Framing framing = Framing::kLength;
    uint8_t length_octets = 0;
    uint16_t message_length = 0;
    uint16_t received = 0;  // octets of the message seen (kept up to the buffer's half)
  };
  struct Pending {
    uint16_t id = 0;
    uint16_t type = 0;
    Direction direction = Direction::kClientToServer;
    bool used = false;
    uint32_t sequence = 0;  // order of arrival: the smallest is the oldest
  };

  void on_message(Direction direction, std::span<const uint8_t> message) noexcept;
  void feed_stream(Direction direction, std::span<const uint8_t> bytes) noexcept;
  std::span<uint8_t> half(Direction direction) noexcept;
  void anomaly(DnsAnomalyKind kind, Direction direction, bool malformed) noexcept;

  DnsTransport transport_;
  DnsEventSink& sink_;
  std::span<uint8_t> tcp_buffer_;
  std::array<Stream, 2> streams_{};
  std::array<Pending, kMaxPendingQueries> pending_{};
  uint32_t next_sequence_ = 0;
  bool finished_ = false;
  DnsMessageParser parser_;
};

}  // namespace misdirect::inspect
