// AppDetector: SMTP by behaviour, and the CONNECT / SOCKS5 tunnels that may carry it.
#include "dataplane/flow/app_detector.h"

#include <algorithm>
#include <utility>

namespace misdirect::dataplane {
namespace {

using Stage = AppDetection::Stage;
using inspect::Direction;

char lower(char c) noexcept { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

bool starts_with_caseless(std::string_view text, std::string_view prefix) noexcept {
  if (text.size() < prefix.size()) {
    return false;
  }
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(text[i]) != prefix[i]) {
      return false;
    }
  }
  return true;
}

// What the first bytes of a direction say, or kUnknownYet while too few have arrived.
enum class Opening : uint8_t { kUnknownYet, kGreeting, kHelo, kConnect, kSocks5, kOther };

Opening classify(std::string_view prefix) noexcept {
  if (prefix.empty()) {
    return Opening::kUnknownYet;
  }
  if (static_cast<uint8_t>(prefix[0]) == 0x05) {
    return prefix.size() < 2 ? Opening::kUnknownYet
                             : (prefix[1] != 0 ? Opening::kSocks5 : Opening::kOther);
  }
  // "220 " / "220-" greeting; "ehlo " / "helo " / LMTP's "lhlo " (or the verb alone on its line);
  // "connect ".
  const bool could_be_greeting = std::string_view("220 ").starts_with(prefix.substr(0, std::min<std::size_t>(prefix.size(), 3)));
  if (could_be_greeting && prefix.size() < 4) {
    return Opening::kUnknownYet;
  }
  if (prefix.size() >= 4 && prefix.substr(0, 3) == "220" && (prefix[3] == ' ' || prefix[3] == '-')) {
    return Opening::kGreeting;
  }
  for (const std::string_view verb : {std::string_view("ehlo"), std::string_view("helo"), std::string_view("lhlo")}) {
    const std::size_t known = std::min(prefix.size(), verb.size());
    if (starts_with_caseless(prefix.substr(0, known), verb.substr(0, known))) {
      if (prefix.size() < 5) {
        return Opening::kUnknownYet;
      }
      return (prefix[4] == ' ' || prefix[4] == '\r' || prefix[4] == '\n') ? Opening::kHelo
                                                                           : Opening::kOther;
    }
  }
  constexpr std::string_view kConnect = "connect ";
  const std::size_t known = std::min(prefix.size(), kConnect.size());
  if (starts_with_caseless(prefix.substr(0, known), kConnect.substr(0, known))) {
    return prefix.size() < kConnect.size() ? Opening::kUnknownYet : Opening::kConnect;
  }
  return Opening::kOther;
}

// Skips to the end of an HTTP header block ("\r\n\r\n", or "\n\n"); returns bytes consumed and
// whether the block ended.
std::size_t skip_header_block(uint8_t& progress, std::span<const uint8_t> bytes, bool& done) noexcept {
  done = false;
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    const uint8_t c = bytes[i];
    if (c == '\n') {
      // progress counts line ends seen back to back (a '\r' before '\n' is transparent).
      progress = static_cast<uint8_t>(progress + 1);
      if (progress >= 2) {
        done = true;
        progress = 0;
        return i + 1;
      }
    } else if (c != '\r') {
      progress = 0;
    }
  }
  return bytes.size();
}

// SOCKS5 messages whose length is known from their first bytes. Returns the full length, or 0
// when more header bytes are needed; sets `bad` when the bytes are not SOCKS5.
std::size_t socks_message_length(Stage stage, std::string_view header, bool& bad) noexcept {
  bad = false;
  const auto byte = [&](std::size_t i) { return static_cast<uint8_t>(header[i]); };
  switch (stage) {
    case Stage::kSocksGreeting:  // VER NMETHODS METHODS...
      if (header.size() < 2) {
        return 0;
      }
      bad = byte(0) != 5 || byte(1) == 0;
      return 2u + byte(1);
    case Stage::kSocksMethod:  // VER METHOD
      if (header.size() < 2) {
        return 0;
      }
      bad = byte(0) != 5 || byte(1) == 0xff;
      return 2;
    case Stage::kSocksRequest:  // VER CMD RSV ATYP ADDR PORT
    case Stage::kSocksReply: {  // VER REP RSV ATYP ADDR PORT
      if (header.size() < 5) {
        return 0;
      }
      bad = byte(0) != 5 || (stage == Stage::kSocksReply && byte(1) != 0);
      switch (byte(3)) {
        case 1: return 4 + 4 + 2;
        case 4: return 4 + 16 + 2;
        case 3: return 4 + 1 + byte(4) + 2;
        default: bad = true; return 0;
      }
    }
    default:
      bad = true;
      return 0;
  }
}

Stage socks_next(Stage stage) noexcept {
  switch (stage) {
    case Stage::kSocksGreeting: return Stage::kSocksMethod;
    case Stage::kSocksMethod: return Stage::kSocksRequest;
    case Stage::kSocksRequest: return Stage::kSocksReply;
    default: return Stage::kTunnelled;
  }
}

bool socks_stage_is_client(Stage stage) noexcept {
  return stage == Stage::kSocksGreeting || stage == Stage::kSocksRequest;
}

DetectStep decide(AppDetection& detection, AppProtocol protocol) noexcept {
  detection.protocol = protocol;
  detection.stage = Stage::kDecided;
  DetectStep step;
  step.protocol = protocol;
  return step;
}

// The bytes' sender is the client. When the caller took it for the server, every per-direction
// fact is turned round so that it stays with its end, `direction` (and its index `dir`) become
// the sender's new direction, and the swap is reported.
void sender_is_client(AppDetection& detection, Direction& direction, std::size_t& dir,
                      bool& swapped) noexcept {
  detection.client_known = true;
  if (direction == Direction::kClientToServer) {
    return;
  }
  std::swap(detection.prefix_length[0], detection.prefix_length[1]);
  std::swap(detection.blank_line_progress[0], detection.blank_line_progress[1]);
  std::swap(detection.skip_remaining[0], detection.skip_remaining[1]);
  std::swap(detection.prefix[0], detection.prefix[1]);
  if (detection.greeting) {
    detection.greeting = opposite(*detection.greeting);
  }
  direction = Direction::kClientToServer;
  dir = index_of(direction);
  swapped = true;
}

void enter_tunnel(AppDetection& detection) noexcept {
  detection.stage = Stage::kTunnelled;
  detection.tunnelled = true;
  detection.greeting.reset();
  detection.prefix_length[0] = 0;
  detection.prefix_length[1] = 0;
}

// on_data without the swap report: `swapped` is set when the sender turned out to be the client.
DetectStep detect(AppDetection& detection, Direction direction, std::span<const uint8_t> bytes,
                  bool& swapped) noexcept {
  std::size_t dir = index_of(direction);  // index of the per-direction arrays
  std::size_t offset = 0;
  while (detection.stage != Stage::kDecided) {
    if (offset >= bytes.size()) {
      return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
    }
    const std::span<const uint8_t> rest = bytes.subspan(offset);
    switch (detection.stage) {
      case Stage::kStart:
      case Stage::kTunnelled: {
        if (rest.empty()) {
          return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
        }
        // Collect this direction's first bytes (a tiny first segment must not decide anything).
        uint8_t& length = detection.prefix_length[dir];
        const std::size_t before = length;
        const std::size_t take = std::min<std::size_t>(AppDetection::kPrefixBytes - length, rest.size());
        std::copy_n(rest.begin(), take, detection.prefix[dir] + length);
        length = static_cast<uint8_t>(length + take);
        const std::string_view prefix(detection.prefix[dir], length);
        Opening opening = classify(prefix);
        if (opening == Opening::kUnknownYet && length == AppDetection::kPrefixBytes) {
          opening = Opening::kOther;
        }
        const bool in_tunnel = detection.stage == Stage::kTunnelled;
        switch (opening) {
          case Opening::kUnknownYet:
            return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
          case Opening::kGreeting:
            // Once the client is known (inside a tunnel) only the server greets.
            if (!detection.greeting &&
                (!detection.client_known || direction == Direction::kServerToClient)) {
              detection.greeting = direction;
            }
            // The rest of this direction waits for the client's answer; nothing more to read here.
            return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
          case Opening::kHelo:
            if (detection.greeting == opposite(direction)) {
              sender_is_client(detection, direction, dir, swapped);
              DetectStep step = decide(detection, AppProtocol::kSmtp);
              // The client's stream restarts at its first byte: what was collected is replayed.
              step.replay = std::string_view(detection.prefix[dir], before);
              step.consumed = offset;
              return step;
            }
            return decide(detection, AppProtocol::kOther);
          case Opening::kConnect:
            if (in_tunnel) {
              return decide(detection, AppProtocol::kOther);
            }
            sender_is_client(detection, direction, dir, swapped);
            detection.stage = Stage::kHttpRequest;
            detection.blank_line_progress[dir] = 0;
            // Re-read the collected bytes as part of the request.
            {
              bool done = false;
              skip_header_block(detection.blank_line_progress[dir],
                                std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(detection.prefix[dir]), before),
                                done);
            }
            continue;
          case Opening::kSocks5:
            if (in_tunnel) {
              return decide(detection, AppProtocol::kOther);
            }
            sender_is_client(detection, direction, dir, swapped);
            detection.stage = Stage::kSocksGreeting;
            // Only the bytes from earlier calls stay collected; this call's bytes are read
            // again by the SOCKS stage from `offset`.
            detection.prefix_length[dir] = static_cast<uint8_t>(before);
            detection.skip_remaining[dir] = 0;
            continue;
          case Opening::kOther:
            return decide(detection, AppProtocol::kOther);
        }
        break;
      }
      case Stage::kHttpRequest:
      case Stage::kHttpResponse: {
        const bool client_turn = detection.stage == Stage::kHttpRequest;
        // The CONNECT's sender is the client (known since these stages were entered).
        if (direction != (client_turn ? Direction::kClientToServer : Direction::kServerToClient)) {
          // Bytes of the other direction before its turn: a proxy that answers early, or a client that
          // pipelines SMTP behind CONNECT. Either way this is not a clean tunnel.
          if (!client_turn && direction == Direction::kClientToServer) {
            return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
          }
          return decide(detection, AppProtocol::kOther);
        }
        bool done = false;
        offset += skip_header_block(detection.blank_line_progress[dir], rest, done);
        if (!done) {
          return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
        }
        if (client_turn) {
          detection.stage = Stage::kHttpResponse;
          detection.blank_line_progress[index_of(opposite(direction))] = 0;
        } else {
          enter_tunnel(detection);
        }
        continue;
      }
      case Stage::kSocksGreeting:
      case Stage::kSocksMethod:
      case Stage::kSocksRequest:
      case Stage::kSocksReply: {
        const bool client_turn = socks_stage_is_client(detection.stage);
        if (direction != (client_turn ? Direction::kClientToServer : Direction::kServerToClient)) {
          return decide(detection, AppProtocol::kOther);
        }
        if (rest.empty()) {
          return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
        }
        uint16_t& skip = detection.skip_remaining[dir];
        if (skip > 0) {
          const std::size_t n = std::min<std::size_t>(skip, rest.size());
          skip = static_cast<uint16_t>(skip - n);
          offset += n;
          if (skip == 0) {
            detection.prefix_length[dir] = 0;
            detection.stage = socks_next(detection.stage);
            if (detection.stage == Stage::kTunnelled) {
              enter_tunnel(detection);
            }
          }
          continue;
        }
        // Gather the message header into the prefix until its length is known.
        uint8_t& length = detection.prefix_length[dir];
        while (length < AppDetection::kPrefixBytes && offset < bytes.size()) {
          bool bad = false;
          const std::size_t total =
              socks_message_length(detection.stage, std::string_view(detection.prefix[dir], length), bad);
          if (bad) {
            return decide(detection, AppProtocol::kOther);
          }
          if (total != 0) {
            break;
          }
          detection.prefix[dir][length++] = static_cast<char>(bytes[offset++]);
        }
        bool bad = false;
        const std::size_t total =
            socks_message_length(detection.stage, std::string_view(detection.prefix[dir], length), bad);
        if (bad) {
          return decide(detection, AppProtocol::kOther);
        }
        if (total == 0) {
          if (length == AppDetection::kPrefixBytes) {
            return decide(detection, AppProtocol::kOther);
          }
          return DetectStep{AppProtocol::kUndecided, bytes.size(), {}};
        }
        if (total <= length) {
          // The header held the whole message (and maybe more: give the excess back).
          offset -= (length - total);
          length = 0;
          detection.stage = socks_next(detection.stage);
          if (detection.stage == Stage::kTunnelled) {
            enter_tunnel(detection);
          }
        } else {
          skip = static_cast<uint16_t>(total - length);
        }
        continue;
      }
      case Stage::kDecided:
        break;
    }
  }
  DetectStep step;
  step.protocol = detection.protocol;
  step.consumed = offset;
  return step;
}

}  // namespace

DetectStep AppDetector::on_data(AppDetection& detection, Direction direction,
                                std::span<const uint8_t> bytes) noexcept {
  bool swapped = false;
  DetectStep step = detect(detection, direction, bytes, swapped);
  step.client_swapped = swapped;
  return step;
}

}  // namespace misdirect::dataplane
