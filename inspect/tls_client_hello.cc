// TlsHelloParser: TLS record unwrapping and the ClientHello's fields, every length checked.
#include "inspect/tls_client_hello.h"

#include <algorithm>
#include <cstring>

namespace misdirect::inspect {
namespace {

constexpr uint8_t kContentHandshake = 22;
constexpr uint8_t kHandshakeClientHello = 1;
constexpr uint16_t kExtensionServerName = 0;
constexpr uint16_t kExtensionSupportedVersions = 43;
constexpr std::size_t kHandshakeHeaderBytes = 4;

// A cursor over [begin, end) of the buffer that refuses to move past the end.
struct Cursor {
  const uint8_t* at;
  const uint8_t* end;
  bool ok = true;

  std::size_t left() const noexcept { return static_cast<std::size_t>(end - at); }
  uint32_t take(std::size_t octets) noexcept {
    if (!ok || left() < octets) {
      ok = false;
      return 0;
    }
    uint32_t value = 0;
    for (std::size_t i = 0; i < octets; ++i) {
      value = (value << 8) | *at++;
    }
    return value;
  }
  Cursor sub(std::size_t octets) noexcept {
    if (!ok || left() < octets) {
      ok = false;
      return Cursor{at, at, false};
    }
    Cursor inner{at, at + octets};
    at += octets;
    return inner;
  }
};

}  // namespace

std::string_view tls_anomaly_name(TlsAnomalyKind kind) noexcept {
  switch (kind) {
    case TlsAnomalyKind::kNotHandshake: return "not_handshake";
    case TlsAnomalyKind::kNotClientHello: return "not_client_hello";
    case TlsAnomalyKind::kHelloTooLong: return "hello_too_long";
    case TlsAnomalyKind::kMalformedHello: return "malformed_hello";
    case TlsAnomalyKind::kTruncated: return "truncated";
    case TlsAnomalyKind::kGap: return "gap";
  }
  return "unknown";
}

std::string_view tls_version_name(uint16_t version) noexcept {
  switch (version) {
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLS 1.0";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    default: return "UNDETERMINED";
  }
}

void TlsHelloParser::stop(TlsAnomalyKind kind) noexcept {
  state_ = State::kDone;
  sink_.on_event(TlsAnomaly{kind});
}

void TlsHelloParser::feed(Direction direction, std::span<const uint8_t> bytes) noexcept {
  if (direction != Direction::kClientToServer) {
    return;
  }
  std::size_t position = 0;
  while (position < bytes.size() && state_ != State::kDone) {
    started_ = true;
    if (state_ == State::kRecordHeader) {
      header_[header_length_++] = bytes[position++];
      if (header_length_ < header_.size()) {
        continue;
      }
      header_length_ = 0;
      if (header_[0] != kContentHandshake) {
        stop(TlsAnomalyKind::kNotHandshake);
        return;
      }
      payload_left_ = static_cast<uint16_t>((header_[3] << 8) | header_[4]);
      state_ = payload_left_ > 0 ? State::kPayload : State::kRecordHeader;
      continue;
    }
    // kPayload: gather handshake octets until the first message is whole.
    const std::size_t take = std::min<std::size_t>(payload_left_, bytes.size() - position);
    const std::size_t room = buffer_.size() - gathered_;
    if (take > room) {
      stop(TlsAnomalyKind::kHelloTooLong);
      return;
    }
    std::memcpy(buffer_.data() + gathered_, bytes.data() + position, take);
    gathered_ += static_cast<uint32_t>(take);
    position += take;
    payload_left_ = static_cast<uint16_t>(payload_left_ - take);
    if (payload_left_ == 0) {
      state_ = State::kRecordHeader;
    }
    if (gathered_ >= kHandshakeHeaderBytes) {
      if (buffer_[0] != kHandshakeClientHello) {
        stop(TlsAnomalyKind::kNotClientHello);
        return;
      }
      const uint32_t length = (uint32_t{buffer_[1]} << 16) | (uint32_t{buffer_[2]} << 8) | buffer_[3];
      if (length + kHandshakeHeaderBytes > buffer_.size()) {
        stop(TlsAnomalyKind::kHelloTooLong);
        return;
      }
      if (gathered_ >= length + kHandshakeHeaderBytes) {
        read_hello();
        return;
      }
    }
  }
}

void TlsHelloParser::read_hello() noexcept {
  state_ = State::kDone;
  const uint32_t length = (uint32_t{buffer_[1]} << 16) | (uint32_t{buffer_[2]} << 8) | buffer_[3];
  Cursor hello{buffer_.data() + kHandshakeHeaderBytes, buffer_.data() + kHandshakeHeaderBytes + length};
  TlsClientHello result{{}, 0, 0};
  result.legacy_version = static_cast<uint16_t>(hello.take(2));
  result.highest_version = result.legacy_version;
  hello.sub(32);                  // random
  hello.sub(hello.take(1));       // session id
  hello.sub(hello.take(2));       // cipher suites
  hello.sub(hello.take(1));       // compression methods
  if (hello.ok && hello.left() > 0) {
    Cursor extensions = hello.sub(hello.take(2));
    while (extensions.ok && extensions.left() > 0) {
      const auto type = static_cast<uint16_t>(extensions.take(2));
      Cursor data = extensions.sub(extensions.take(2));
      if (!extensions.ok) {
        break;
      }
      if (type == kExtensionServerName) {
        Cursor names = data.sub(data.take(2));
        while (names.ok && names.left() > 0) {
          const uint32_t name_type = names.take(1);
          Cursor name = names.sub(names.take(2));
          if (names.ok && name_type == 0 && result.server_name.empty()) {
            const std::size_t size = std::min(name.left(), kMaxServerNameBytes);
            result.server_name = {reinterpret_cast<const char*>(name.at), size};
          }
        }
        if (!names.ok || !data.ok) {
          hello.ok = false;
        }
      } else if (type == kExtensionSupportedVersions) {
        Cursor versions = data.sub(data.take(1));
        while (versions.ok && versions.left() >= 2) {
          const auto version = static_cast<uint16_t>(versions.take(2));
          // GREASE values (0x?a?a) are not versions.
          if ((version & 0x0f0f) != 0x0a0a && version > result.highest_version && version <= 0x0304) {
            result.highest_version = version;
          }
        }
      }
    }
    if (!extensions.ok) {
      hello.ok = false;
    }
  }
  if (!hello.ok) {
    sink_.on_event(TlsAnomaly{TlsAnomalyKind::kMalformedHello});
    return;
  }
  sink_.on_event(result);
}

void TlsHelloParser::on_gap(Direction direction, uint64_t) noexcept {
  if (direction == Direction::kClientToServer && state_ != State::kDone) {
    stop(TlsAnomalyKind::kGap);
  }
}

void TlsHelloParser::finish() noexcept {
  if (started_ && state_ != State::kDone) {
    stop(TlsAnomalyKind::kTruncated);
  }
}

}  // namespace misdirect::inspect
