// TlsHelloParser: reads the TLS ClientHello at the start of a client's byte stream (after STARTTLS,
// or from the first byte on port 465) and reports its server name (SNI, RFC 6066) and versions.
//
// Framing is separate from meaning: TLS records (5-octet header) are unwrapped and their handshake
// payload gathered in a fixed buffer until the first handshake message is whole, whatever the
// segment and record boundaries (a ClientHello may span several records and any number of
// segments); then the message is read with a bounds check on every length. Any chunking of the
// bytes gives the same events. The parser stops after the ClientHello: the rest is encrypted.
//
// States, each entered when the previous is done:
//   record header — at the start and after each record's payload: five octets
//   payload       — a handshake record's payload, appended to the buffer
//   done          — the ClientHello was reported, or the stream is not one (anomaly), or a gap
//                   hid part of it; nothing more is read
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <variant>

#include "inspect/direction.h"

namespace misdirect::inspect {

struct TlsClientHello {
  std::string_view server_name;   // the host_name entry of server_name, as sent; empty if none
  uint16_t legacy_version;        // the ClientHello's version field (0x0303 for TLS 1.2 and 1.3)
  uint16_t highest_version;       // the highest of supported_versions, else legacy_version
};

enum class TlsAnomalyKind : uint8_t {
  kNotHandshake,     // the first record is not a handshake record
  kNotClientHello,   // the first handshake message is not a ClientHello
  kHelloTooLong,     // the ClientHello is longer than the parser's buffer
  kMalformedHello,   // a length inside the ClientHello runs past its end
  kTruncated,        // the stream ended inside the ClientHello
  kGap,              // bytes were lost before the ClientHello was whole
};
std::string_view tls_anomaly_name(TlsAnomalyKind kind) noexcept;
inline constexpr int kTlsAnomalyKindCount = static_cast<int>(TlsAnomalyKind::kGap) + 1;

struct TlsAnomaly {
  TlsAnomalyKind kind;
};

using TlsEvent = std::variant<TlsClientHello, TlsAnomaly>;

class TlsEventSink {
 public:
  virtual void on_event(const TlsEvent& event) noexcept = 0;

 protected:
  ~TlsEventSink() = default;
};

// "TLS 1.2", "TLS 1.3", ... as Suricata names versions; "UNDETERMINED" for others.
std::string_view tls_version_name(uint16_t version) noexcept;

class TlsHelloParser {
 public:
  // ClientHellos with post-quantum key shares run to about 1.8 KiB; 4 KiB leaves room.
  static constexpr std::size_t kMaxHelloBytes = 4096;
  static constexpr std::size_t kMaxServerNameBytes = 255;

  explicit TlsHelloParser(TlsEventSink& sink) noexcept : sink_(sink) {}

  // Client bytes are read; server bytes are ignored.
  void feed(Direction direction, std::span<const uint8_t> bytes) noexcept;
  void on_gap(Direction direction, uint64_t byte_count) noexcept;
  void finish() noexcept;
  bool done() const noexcept { return state_ == State::kDone; }

 private:
  enum class State : uint8_t { kRecordHeader, kPayload, kDone };

  void stop(TlsAnomalyKind kind) noexcept;
  void read_hello() noexcept;

  TlsEventSink& sink_;
  State state_ = State::kRecordHeader;
  bool started_ = false;
  uint8_t header_length_ = 0;
  std::array<uint8_t, 5> header_{};
  uint16_t payload_left_ = 0;
  uint32_t gathered_ = 0;  // handshake octets in buffer_
  std::array<uint8_t, kMaxHelloBytes> buffer_;
};

}  // namespace misdirect::inspect
