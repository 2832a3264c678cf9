// TlsHelloParser: a current TLS 1.3 ClientHello made by the capture generator
// (tests/pcapgen/capture.py tls_client_hello_13(b"mx1.army.ml"), read back by tshark to the same
// server name and versions), split across segments and records, and every bound.
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "inspect/tls_client_hello.h"
#include "support/feed_both_ways.h"

namespace misdirect::inspect {
namespace {

using test_support::feed_tls_both_ways;
using test_support::from_hex;

const std::vector<uint8_t> kHello = from_hex(
    "1603010108010001040303808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f20a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf00183a3a130113021303c02bc02fc02cc030cca9cca8009c009d010000a30a0a000000170000ff01000100000a000a00082a2a001d00170018000b000201000023000000000010000e00000b6d78312e61726d792e6d6c000500050100000000000d001200100403080404010503080505010806060100120000003300260024001d0020404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f002d00020101002b0007065a5a03040303001b00030200021a1a000100");

// The same handshake message in two TLS records (cut after the first `first` octets of the message).
std::vector<uint8_t> in_two_records(const std::vector<uint8_t>& record, std::size_t first) {
  const std::vector<uint8_t> message(record.begin() + 5, record.end());
  std::vector<uint8_t> out = {0x16, 0x03, 0x01, static_cast<uint8_t>(first >> 8), static_cast<uint8_t>(first)};
  out.insert(out.end(), message.begin(), message.begin() + static_cast<std::ptrdiff_t>(first));
  const std::size_t rest = message.size() - first;
  out.insert(out.end(), {0x16, 0x03, 0x01, static_cast<uint8_t>(rest >> 8), static_cast<uint8_t>(rest)});
  out.insert(out.end(), message.begin() + static_cast<std::ptrdiff_t>(first), message.end());
  return out;
}

BOOST_AUTO_TEST_SUITE(tls_client_hello)

BOOST_AUTO_TEST_CASE(server_name_and_version_of_a_tls13_hello) {
  BOOST_TEST(feed_tls_both_ways(kHello) == std::vector<std::string>{"hello sni=mx1.army.ml version=TLS 1.3"},
             boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_hello_across_records) {
  for (const std::size_t first : {std::size_t{1}, std::size_t{3}, std::size_t{4}, std::size_t{100}, kHello.size() - 6}) {
    BOOST_TEST_CONTEXT("first record holds " << first) {
      BOOST_TEST(feed_tls_both_ways(in_two_records(kHello, first)) ==
                     std::vector<std::string>{"hello sni=mx1.army.ml version=TLS 1.3"},
                 boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(bytes_after_the_hello_are_not_read) {
  std::vector<uint8_t> stream = kHello;
  stream.insert(stream.end(), {0x17, 0x03, 0x03, 0x00, 0x02, 0xde, 0xad});
  BOOST_TEST(feed_tls_both_ways(stream).size() == 1u);
}

BOOST_AUTO_TEST_CASE(what_is_not_a_hello) {
  std::vector<uint8_t> application_data = kHello;
  application_data[0] = 0x17;
  BOOST_TEST(feed_tls_both_ways(application_data) == std::vector<std::string>{"anomaly not_handshake"});
  std::vector<uint8_t> server_hello = kHello;
  server_hello[5] = 2;
  BOOST_TEST(feed_tls_both_ways(server_hello) == std::vector<std::string>{"anomaly not_client_hello"});
  std::vector<uint8_t> too_long = kHello;
  too_long[6] = 0x01;  // a 65 KiB handshake message
  BOOST_TEST(feed_tls_both_ways(too_long) == std::vector<std::string>{"anomaly hello_too_long"});
  const std::vector<uint8_t> cut(kHello.begin(), kHello.end() - 10);
  BOOST_TEST(feed_tls_both_ways(cut) == std::vector<std::string>{"anomaly truncated"});
}

BOOST_AUTO_TEST_CASE(lengths_inside_the_hello_are_checked) {
  // The extensions' total length one more than the message holds.
  std::vector<uint8_t> bad = kHello;
  const std::size_t extensions_length_at = 5 + 4 + 2 + 32 + 1 + 32 + 2 + 24 + 2;
  bad[extensions_length_at + 1] = static_cast<uint8_t>(bad[extensions_length_at + 1] + 1);
  BOOST_TEST(feed_tls_both_ways(bad) == std::vector<std::string>{"anomaly malformed_hello"});
  // The server name's length past its extension.
  std::vector<uint8_t> bad_name = kHello;
  const std::string needle = "mx1.army.ml";
  const auto where = std::search(bad_name.begin(), bad_name.end(), needle.begin(), needle.end());
  BOOST_TEST_REQUIRE((where != bad_name.end()));
  *(where - 1) = 60;
  BOOST_TEST(feed_tls_both_ways(bad_name) == std::vector<std::string>{"anomaly malformed_hello"});
}

BOOST_AUTO_TEST_CASE(a_gap_before_the_hello_is_whole_ends_it) {
  test_support::RecordingTlsSink sink;
  TlsHelloParser parser(sink);
  parser.feed(Direction::kClientToServer, std::span<const uint8_t>(kHello.data(), 50));
  parser.on_gap(Direction::kClientToServer, 10);
  parser.feed(Direction::kClientToServer, std::span<const uint8_t>(kHello.data() + 60, kHello.size() - 60));
  parser.finish();
  BOOST_TEST(sink.events == std::vector<std::string>{"anomaly gap"});
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::inspect
