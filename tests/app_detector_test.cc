// Tests for AppDetector: SMTP by behaviour on any port, and through CONNECT / SOCKS5 tunnels.
#include <boost/test/unit_test.hpp>

#include <ostream>
#include <string>
#include <string_view>

#include "dataplane/flow/app_detector.h"

using misdirect::dataplane::AppDetection;
using misdirect::dataplane::AppDetector;
using misdirect::dataplane::AppProtocol;
using misdirect::dataplane::DetectStep;
using misdirect::dataplane::FlowEnd;

namespace misdirect::dataplane {
std::ostream& operator<<(std::ostream& out, AppProtocol protocol) {
  return out << static_cast<int>(protocol);
}
}  // namespace misdirect::dataplane

namespace {

constexpr FlowEnd kFromA = FlowEnd::kA;
constexpr FlowEnd kFromB = FlowEnd::kB;

std::span<const uint8_t> bytes_of(std::string_view text) {
  return {reinterpret_cast<const uint8_t*>(text.data()), text.size()};
}

// Feeds `text` travelling in `direction` in chunks of `chunk` bytes; returns the SMTP stream handed over (replay
// plus the rest of the chunk that decided), or "" when the flow never became SMTP.
struct Fed {
  AppProtocol protocol = AppProtocol::kUndecided;
  std::string smtp_stream;
};

Fed feed(AppDetection& detection, FlowEnd direction, std::string_view text, std::size_t chunk) {
  Fed fed;
  for (std::size_t offset = 0; offset < text.size(); offset += chunk) {
    const std::string_view piece = text.substr(offset, chunk);
    if (detection.protocol == AppProtocol::kSmtp) {
      fed.smtp_stream += piece;
      continue;
    }
    const DetectStep step = AppDetector::on_data(detection, direction, bytes_of(piece));
    fed.protocol = step.protocol;
    if (step.protocol == AppProtocol::kSmtp) {
      fed.smtp_stream += step.replay;
      fed.smtp_stream += piece.substr(step.consumed);
    }
  }
  fed.protocol = detection.protocol;
  return fed;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(app_detector)

BOOST_AUTO_TEST_CASE(greeting_then_ehlo_is_smtp_whatever_the_chunking) {
  for (const std::size_t chunk : {1u, 2u, 3u, 7u, 100u}) {
    AppDetection detection;
    BOOST_TEST(feed(detection, kFromB, "220 mx.example ESMTP\r\n", chunk).protocol == AppProtocol::kUndecided);
    const Fed client = feed(detection, kFromA, "EHLO client.example\r\nMAIL FROM:<a@b>\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "EHLO client.example\r\nMAIL FROM:<a@b>\r\n");
    BOOST_TEST((detection.client_to_server == kFromA));
  }
}

BOOST_AUTO_TEST_CASE(multiline_greeting_and_helo) {
  AppDetection detection;
  feed(detection, kFromA, "220-mx.example\r\n220 ready\r\n", 100);
  const Fed client = feed(detection, kFromB, "helo x\r\n", 100);
  BOOST_TEST(client.protocol == AppProtocol::kSmtp);
  BOOST_TEST((detection.client_to_server == kFromB));
}

BOOST_AUTO_TEST_CASE(greeting_then_lhlo_is_lmtp_read_as_smtp_whatever_the_chunking) {
  // LMTP (RFC 2033) on any port: the same envelope, handed to the SMTP machine from the LHLO on.
  for (const std::size_t chunk : {1u, 2u, 3u, 7u, 100u}) {
    AppDetection detection;
    BOOST_TEST(feed(detection, kFromB, "220 store.example LMTP\r\n", chunk).protocol == AppProtocol::kUndecided);
    const Fed client = feed(detection, kFromA, "LHLO hub.example\r\nMAIL FROM:<a@b>\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "LHLO hub.example\r\nMAIL FROM:<a@b>\r\n");
    BOOST_TEST((detection.client_to_server == kFromA));
  }
  AppDetection not_a_verb;
  feed(not_a_verb, kFromB, "220 x\r\n", 100);
  BOOST_TEST(feed(not_a_verb, kFromA, "LHLOX y\r\n", 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_CASE(ehlo_without_greeting_is_not_smtp) {
  AppDetection detection;
  BOOST_TEST(feed(detection, kFromA, "EHLO x\r\n", 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_CASE(other_protocols_are_decided_quickly) {
  AppDetection http;
  BOOST_TEST(feed(http, kFromA, "GET / HTTP/1.1\r\n", 100).protocol == AppProtocol::kOther);
  AppDetection ftp_like;
  feed(ftp_like, kFromB, "220 ftp ready\r\n", 100);
  BOOST_TEST(feed(ftp_like, kFromA, "USER anonymous\r\n", 100).protocol == AppProtocol::kOther);
  AppDetection binary;
  BOOST_TEST(feed(binary, kFromA, std::string_view("\x16\x03\x01\x02\x00", 5), 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_CASE(smtp_inside_http_connect) {
  for (const std::size_t chunk : {1u, 5u, 1000u}) {
    AppDetection detection;
    feed(detection, kFromA, "CONNECT mx.example:25 HTTP/1.1\r\nHost: mx.example:25\r\n\r\n", chunk);
    BOOST_TEST(detection.protocol == AppProtocol::kUndecided);
    feed(detection, kFromB, "HTTP/1.1 200 Connection established\r\n\r\n220 mx ESMTP\r\n", chunk);
    const Fed client = feed(detection, kFromA, "EHLO spammer\r\nRCPT TO:<x@army.ml>\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "EHLO spammer\r\nRCPT TO:<x@army.ml>\r\n");
    BOOST_TEST(detection.tunnelled);
  }
}

BOOST_AUTO_TEST_CASE(smtp_inside_socks5_with_domain_address) {
  for (const std::size_t chunk : {1u, 3u, 1000u}) {
    AppDetection detection;
    feed(detection, kFromA, std::string_view("\x05\x01\x00", 3), chunk);
    feed(detection, kFromB, std::string_view("\x05\x00", 2), chunk);
    // CONNECT to domain "mx.ex" port 25.
    feed(detection, kFromA, std::string_view("\x05\x01\x00\x03\x05mx.ex\x00\x19", 12), chunk);
    feed(detection, kFromB, std::string_view("\x05\x00\x00\x01\x7f\x00\x00\x01\x00\x19" "220 hi\r\n", 18), chunk);
    const Fed client = feed(detection, kFromA, "EHLO s\r\n", chunk);
    BOOST_TEST(client.protocol == AppProtocol::kSmtp);
    BOOST_TEST(client.smtp_stream == "EHLO s\r\n");
  }
}

BOOST_AUTO_TEST_CASE(socks5_refused_is_not_a_tunnel) {
  AppDetection detection;
  feed(detection, kFromA, std::string_view("\x05\x01\x00", 3), 100);
  BOOST_TEST(feed(detection, kFromB, std::string_view("\x05\xff", 2), 100).protocol == AppProtocol::kOther);
}

BOOST_AUTO_TEST_SUITE_END()
