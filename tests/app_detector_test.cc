// Tests for AppDetector: SMTP by behaviour on any port, and through CONNECT / SOCKS5 tunnels,
// whichever end the flow first took for the client.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <string_view>

#include "dataplane/flow/app_detector.h"
#include "dataplane/flow/flow_key.h"

using misdirect::dataplane::AppDetection;
using misdirect::dataplane::AppDetector;
using misdirect::dataplane::AppProtocol;
using misdirect::dataplane::DetectStep;
using misdirect::dataplane::FlowEnd;
using misdirect::inspect::Direction;

namespace misdirect::dataplane {
std::ostream& operator<<(std::ostream& out, AppProtocol protocol) {
  return out << static_cast<int>(protocol);
}
}  // namespace misdirect::dataplane

namespace {

constexpr FlowEnd kFromA = FlowEnd::kA;
constexpr FlowEnd kFromB = FlowEnd::kB;
constexpr FlowEnd kGuesses[] = {FlowEnd::kA, FlowEnd::kB};

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// One flow as the worker drives detection: the two ends, which one is the client (the flow
// table's guess to begin with), and the detection state. Bytes are given to detection in the
// direction the client gives them; a swap detection reports turns the client round, as the
// worker's Flow::swap_client does.
struct Conversation {
  explicit Conversation(FlowEnd guess = kFromA) : client(guess) {}
  Direction direction_from(FlowEnd sender) const {
    return sender == client ? Direction::kClientToServer : Direction::kServerToClient;
  }
  AppDetection state;
  FlowEnd client;
  int swaps = 0;
};

// Feeds `text` sent by `sender` in chunks of `chunk` bytes; returns the SMTP stream handed over (replay
// plus the rest of the chunk that decided), or "" when the flow never became SMTP, and the
// direction the handed-over bytes travelled.
struct Fed {
  AppProtocol protocol = AppProtocol::kUndecided;
  std::string smtp_stream;
  Direction smtp_direction = Direction::kServerToClient;
};

Fed feed(Conversation& conversation, FlowEnd sender, std::string_view text, std::size_t chunk) {
  Fed fed;
  for (std::size_t offset = 0; offset < text.size(); offset += chunk) {
    const std::string_view piece = text.substr(offset, chunk);
    Direction direction = conversation.direction_from(sender);
    if (conversation.state.protocol == AppProtocol::kSmtp) {
      fed.smtp_stream += piece;
      fed.smtp_direction = direction;
      continue;
    }
    const DetectStep step = AppDetector::on_data(conversation.state, direction, bytes_of(piece));
    if (step.client_swapped) {
      conversation.client = opposite(conversation.client);
      ++conversation.swaps;
      direction = opposite(direction);
    }
    fed.protocol = step.protocol;
    if (step.protocol == AppProtocol::kSmtp) {
      fed.smtp_stream += step.replay;
      fed.smtp_stream += piece.substr(step.consumed);
      fed.smtp_direction = direction;
    }
  }
  fed.protocol = conversation.state.protocol;
  return fed;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_detector)

BOOST_AUTO_TEST_CASE(greeting_then_ehlo_is_smtp_whatever_the_chunking_and_the_guess) {
  // B greets, A answers: A is the client, whichever end the flow took for it first (a midstream
  // pickup that starts with the greeting takes B). A wrong guess is turned round once, on the
  // call that decides, and the handed-over bytes (the replayed prefix too) are the client's.
  for (const FlowEnd guess : kGuesses) {
    for (const std::size_t chunk : {1u, 2u, 3u, 7u, 100u}) {
      Conversation detection(guess);
      BOOST_TEST(feed(detection, kFromB, "220 mx.example ESMTP\r\n", chunk).protocol == AppProtocol::kUndecided);
      BOOST_TEST(detection.swaps == 0);
      const Fed client = feed(detection, kFromA, "EHLO client.example\r\nMAIL FROM:<a@b>\r\n", chunk);
      BOOST_TEST(client.protocol == AppProtocol::kSmtp);
      BOOST_TEST(client.smtp_stream == "EHLO client.example\r\nMAIL FROM:<a@b>\r\n");
      BOOST_TEST((client.smtp_direction == Direction::kClientToServer));
      BOOST_TEST((detection.client == kFromA));
      BOOST_TEST(detection.swaps == (guess == kFromA ? 0 : 1));
      // The server's next bytes travel server → client.
      BOOST_TEST((detection.direction_from(kFromB) == Direction::kServerToClient));
    }
  }
}

BOOST_AUTO_TEST_CASE(multiline_greeting_and_helo) {
  for (const FlowEnd guess : kGuesses) {
    Conversation detection(guess);
    feed(detection, kFromA, "220-mx.example\r\n220 ready\r\n", 100);
    const Fed client = feed(detection, kFromB, "helo x\r\n", 100);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST((client.smtp_direction == Direction::kClientToServer));
    BOOST_TEST((detection.client == kFromB));
  }
}

BOOST_AUTO_TEST_CASE(greeting_then_lhlo_is_lmtp_read_as_smtp_whatever_the_chunking) {
  // LMTP (RFC 2033) on any port: the same envelope, handed to the SMTP machine from the LHLO on.
  for (const std::size_t chunk : {1u, 2u, 3u, 7u, 100u}) {
    Conversation detection;
    BOOST_TEST(feed(detection, kFromB, "220 store.example LMTP\r\n", chunk).protocol == AppProtocol::kUndecided);
    const Fed client = feed(detection, kFromA, "LHLO hub.example\r\nMAIL FROM:<a@b>\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "LHLO hub.example\r\nMAIL FROM:<a@b>\r\n");
    BOOST_TEST((detection.client == kFromA));
  }
  Conversation not_a_verb;
  feed(not_a_verb, kFromB, "220 x\r\n", 100);
  BOOST_TEST(feed(not_a_verb, kFromA, "LHLOX y\r\n", 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_CASE(a_greeting_from_the_client_inside_a_tunnel_is_not_a_greeting) {
  // Once a CONNECT named the client, only the server may greet: a "220" from the client and an
  // EHLO from the server inside the tunnel are not SMTP, and the client stays the CONNECT's.
  for (const FlowEnd guess : kGuesses) {
    Conversation detection(guess);
    feed(detection, kFromA, "CONNECT mx.example:25 HTTP/1.1\r\n\r\n", 100);
    feed(detection, kFromB, "HTTP/1.1 200 OK\r\n\r\n", 100);
    feed(detection, kFromA, "220 fake\r\n", 100);
    BOOST_TEST(feed(detection, kFromB, "EHLO x\r\n", 100).protocol == AppProtocol::kOther);
    BOOST_TEST((detection.client == kFromA));
  }
}

BOOST_AUTO_TEST_CASE(ehlo_without_greeting_is_not_smtp) {
  Conversation detection;
  BOOST_TEST(feed(detection, kFromA, "EHLO x\r\n", 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_CASE(other_protocols_are_decided_quickly) {
  Conversation http;
  BOOST_TEST(feed(http, kFromA, "GET / HTTP/1.1\r\n", 100).protocol == AppProtocol::kOther);
  Conversation ftp_like;
  feed(ftp_like, kFromB, "220 ftp ready\r\n", 100);
  BOOST_TEST(feed(ftp_like, kFromA, "USER anonymous\r\n", 100).protocol == AppProtocol::kOther);
  Conversation binary;
  BOOST_TEST(feed(binary, kFromA, std::string_view("\x16\x03\x01\x02\x00", 5), 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_CASE(smtp_inside_http_connect) {
  // The CONNECT names the client before the tunnel opens: a wrong guess is turned round then,
  // and the proxy's answer and the greeting inside are read as the server's.
  for (const FlowEnd guess : kGuesses) {
  for (const std::size_t chunk : {1u, 5u, 1000u}) {
    Conversation detection(guess);
    feed(detection, kFromA, "CONNECT mx.example:25 HTTP/1.1\r\nHost: mx.example:25\r\n\r\n", chunk);
    BOOST_TEST(detection.state.protocol == AppProtocol::kUndecided);
    feed(detection, kFromB, "HTTP/1.1 200 Connection established\r\n\r\n220 mx ESMTP\r\n", chunk);
    const Fed client = feed(detection, kFromA, "EHLO spammer\r\nRCPT TO:<x@army.ml>\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "EHLO spammer\r\nRCPT TO:<x@army.ml>\r\n");
    BOOST_TEST((client.smtp_direction == Direction::kClientToServer));
    BOOST_TEST(detection.state.tunnelled);
    BOOST_TEST((detection.client == kFromA));
    BOOST_TEST(detection.swaps == (guess == kFromA ? 0 : 1));
  }
  }
}

BOOST_AUTO_TEST_CASE(smtp_inside_socks5_with_domain_address) {
  for (const FlowEnd guess : kGuesses) {
  for (const std::size_t chunk : {1u, 3u, 1000u}) {
    Conversation detection(guess);
    feed(detection, kFromA, std::string_view("\x05\x01\x00", 3), chunk);
    feed(detection, kFromB, std::string_view("\x05\x00", 2), chunk);
    // CONNECT to domain "mx.ex" port 25.
    feed(detection, kFromA, std::string_view("\x05\x01\x00\x03\x05mx.ex\x00\x19", 12), chunk);
    feed(detection, kFromB, std::string_view("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x19" "220 hi\r\n", 18), chunk);
    const Fed client = feed(detection, kFromA, "EHLO s\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "EHLO s\r\n");
    BOOST_TEST((client.smtp_direction == Direction::kClientToServer));
    BOOST_TEST((detection.client == kFromA));
    BOOST_TEST(detection.swaps == (guess == kFromA ? 0 : 1));
  }
  }
}

BOOST_AUTO_TEST_CASE(socks5_refused_is_not_a_tunnel) {
  Conversation detection;
  feed(detection, kFromA, std::string_view("\x05\x01\x00", 3), 100);
  BOOST_TEST(feed(detection, kFromB, std::string_view("\x05\xff", 2), 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_SUITE_END()
