// DnsSession and DnsMessageParser: real DNS messages with name compression, written by the capture
// generator's encoder (tests/pcapgen/dns.py, which compresses every name as BIND does) and read
// back by tshark to the same fields; then every malformation the parser bounds.
#include <algorithm>
#include <string>
#include <vector>

#include <boost/test/unit_test.hpp>

#include "inspect/dns_session.h"
#include "support/feed_both_ways.h"

namespace misdirect::inspect {
namespace {

using test_support::DnsStep;
using test_support::feed_dns_both_ways;
using test_support::from_hex;

constexpr Direction kQuery = Direction::kClientToServer;
constexpr Direction kAnswer = Direction::kServerToClient;

// dns.query(0x1a2b, "army.ml", MX)
const std::vector<uint8_t> kQueryMxArmyMl = from_hex("1a2b010000010000000000000461726d79026d6c00000f0001");
// dns.response(0x1a2b, "army.ml", MX,
//   answers=[rr("army.ml", MX, 300, mx(10, "mx1.army.ml")), rr("army.ml", MX, 300, mx(20, "mx2.army.ml"))],
//   authority=[rr("army.ml", NS, 3600, name_rdata("ns1.army.ml"))],
//   additional=[rr("mx1.army.ml", A, 300, a("203.0.113.53")), rr("mx1.army.ml", AAAA, 300, aaaa("2001:db8::53"))])
// Every owner name and every exchange is compressed (c00c, c027).
const std::vector<uint8_t> kResponseMxArmyMl = from_hex(
    "1a2b818000010002000100020461726d79026d6c00000f0001c00c000f00010000012c0008000a036d7831c00cc00c000f"
    "00010000012c00080014036d7832c00cc00c0002000100000e100006036e7331c00cc027000100010000012c0004cb0071"
    "35c027001c00010000012c001020010db8000000000000000000000053");
// dns.response(0x42, "mail.amry.mil", AAAA, answers=[rr("mail.amry.mil", CNAME, 60, name_rdata("relay.mail.amry.mil"))],
//   authority=[rr("amry.mil", SOA, 900, soa("ns.amry.mil", "hostmaster.amry.mil"))], rcode=NXDOMAIN)
// A pointer to a pointer: "amry.mil" inside the SOA points at the question's suffix (c011).
const std::vector<uint8_t> kResponseCnameSoa = from_hex(
    "004281830001000100010000046d61696c04616d7279036d696c00001c0001c00c000500010000003c00080572656c6179"
    "c00cc01100060001000003840026026e73c0110a686f73746d6173746572c01178a48db500001c2000000e100012750000"
    "00012c");
// dns.response(7, "army.ml", TXT, answers=[rr("army.ml", TXT, 120, txt("v=spf1 mx", "-all"))]) (no query seen)
const std::vector<uint8_t> kResponseTxt =
    from_hex("0007818000010001000000000461726d79026d6c0000100001c00c0010000100000078000f09763d73706631206d78042d616c6c");

std::vector<uint8_t> with_byte(std::vector<uint8_t> message, std::size_t at, uint8_t value) {
  message.at(at) = value;
  return message;
}

BOOST_AUTO_TEST_SUITE(dns_session)

BOOST_AUTO_TEST_CASE(query_and_compressed_response_are_matched_by_id) {
  const auto events = feed_dns_both_ways({{kQuery, kQueryMxArmyMl}, {kAnswer, kResponseMxArmyMl}});
  const std::vector<std::string> expected = {
      "query 6699",
      "question army.ml MX",
      "end 6699",
      "response 6699 NOERROR matched MX",
      "question army.ml MX",
      "answer army.ml MX ttl 300 pref 10 -> mx1.army.ml",
      "answer army.ml MX ttl 300 pref 20 -> mx2.army.ml",
      "authority army.ml NS ttl 3600 -> ns1.army.ml",
      "additional mx1.army.ml A ttl 300 addr 203.0.113.53",
      "additional mx1.army.ml AAAA ttl 300 addr 32.1.13.184.0.0.0.0.0.0.0.0.0.0.0.83",
      "end 6699",
  };
  BOOST_TEST(events == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(cname_soa_and_rcode) {
  const auto events = feed_dns_both_ways({{kAnswer, kResponseCnameSoa}});
  const std::vector<std::string> expected = {
      "response 66 NXDOMAIN unmatched",
      "question mail.amry.mil AAAA",
      "answer mail.amry.mil CNAME ttl 60 -> relay.mail.amry.mil",
      "authority amry.mil SOA ttl 900 -> ns.amry.mil mbox hostmaster.amry.mil serial 2024050101",
      "end 66",
  };
  BOOST_TEST(events == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(txt_strings_are_joined) {
  const auto events = feed_dns_both_ways({{kAnswer, kResponseTxt}});
  BOOST_TEST(events.at(2) == "answer army.ml TXT ttl 120 text \"v=spf1 mx-all\"");
}

BOOST_AUTO_TEST_CASE(a_response_the_same_way_as_its_query_is_not_matched) {
  // The id alone is not enough: the answer must come from the other side.
  const auto events = feed_dns_both_ways({{kQuery, kQueryMxArmyMl}, {kQuery, kResponseMxArmyMl}});
  BOOST_TEST(events.at(3) == "response 6699 NOERROR unmatched");
}

BOOST_AUTO_TEST_CASE(a_response_is_matched_once) {
  const auto events = feed_dns_both_ways(
      {{kQuery, kQueryMxArmyMl}, {kAnswer, kResponseMxArmyMl}, {kAnswer, kResponseMxArmyMl}});
  BOOST_TEST(events.at(3) == "response 6699 NOERROR matched MX");
  BOOST_TEST(events.at(11) == "response 6699 NOERROR unmatched");
}

BOOST_AUTO_TEST_CASE(malformed_messages_report_only_their_anomaly) {
  struct Case {
    std::string what;
    std::vector<uint8_t> message;
    std::string anomaly;
  };
  // Offsets into kResponseMxArmyMl: 12 the question name, 25 the first answer's name (c00c).
  std::vector<uint8_t> pointer_to_itself = kResponseMxArmyMl;
  pointer_to_itself[25] = 0xc0;
  pointer_to_itself[26] = 25;
  std::vector<uint8_t> pointer_forward = kQueryMxArmyMl;
  pointer_forward[12] = 0xc0;
  pointer_forward[13] = 14;  // ahead of itself (and loops through the rest)
  std::vector<uint8_t> pointer_past_end = kResponseMxArmyMl;
  pointer_past_end[26] = 0xff;
  pointer_past_end[25] = 0xc3;
  std::vector<uint8_t> pointer_into_header = kResponseMxArmyMl;
  pointer_into_header[26] = 2;
  std::vector<uint8_t> too_many_answers = kResponseMxArmyMl;
  too_many_answers[7] = 0xff;
  std::vector<uint8_t> bad_a_length = kResponseMxArmyMl;
  bad_a_length[bad_a_length.size() - 28 - 5] = 5;  // the A record's RDLENGTH low octet (before the 28-octet AAAA): 4 → 5
  const std::vector<Case> cases = {
      {"empty", {}, "anomaly short_message malformed"},
      {"header only", std::vector<uint8_t>(kQueryMxArmyMl.begin(), kQueryMxArmyMl.begin() + 11), "anomaly short_message malformed"},
      {"zero questions", with_byte(kQueryMxArmyMl, 5, 0), "anomaly no_question malformed"},
      {"many questions", with_byte(kQueryMxArmyMl, 5, 200), "anomaly too_many_questions malformed"},
      {"question cut", std::vector<uint8_t>(kQueryMxArmyMl.begin(), kQueryMxArmyMl.end() - 1), "anomaly truncated malformed"},
      {"record cut", std::vector<uint8_t>(kResponseMxArmyMl.begin(), kResponseMxArmyMl.end() - 3), "anomaly truncated malformed"},
      {"count beyond the message", too_many_answers, "anomaly truncated malformed"},
      {"label type 0x40", with_byte(kQueryMxArmyMl, 12, 0x44), "anomaly bad_label malformed"},
      {"label past the end", with_byte(kQueryMxArmyMl, 12, 60), "anomaly truncated malformed"},
      {"pointer to itself", pointer_to_itself, "anomaly pointer_loop malformed"},
      {"pointer forward", pointer_forward, "anomaly pointer_loop malformed"},
      {"pointer past the end", pointer_past_end, "anomaly pointer_past_end malformed"},
      {"pointer into the header", pointer_into_header, "anomaly pointer_past_end malformed"},
      {"A of five octets", bad_a_length, "anomaly bad_rdata malformed"},
  };
  for (const Case& c : cases) {
    BOOST_TEST_CONTEXT(c.what) {
      const auto events = feed_dns_both_ways({{kAnswer, c.message}});
      BOOST_TEST(events == std::vector<std::string>{c.anomaly}, boost::test_tools::per_element());
    }
  }
}

BOOST_AUTO_TEST_CASE(rdata_that_does_not_fit_its_type_is_malformed) {
  // An MX whose exchange runs past its RDLENGTH: RDLENGTH 8 → 4 (the name would end beyond it,
  // and the next record would start inside the name).
  std::vector<uint8_t> message = kResponseMxArmyMl;
  message[36] = 4;
  const auto events = feed_dns_both_ways({{kAnswer, message}});
  BOOST_TEST(events.size() == 1u);
  BOOST_TEST(events.at(0).rfind("anomaly ", 0) == 0);
  BOOST_TEST(events.at(0).find("malformed") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(a_name_longer_than_255_octets_is_malformed) {
  // Five 63-octet labels: 320 octets (pointers could reach the same length; the bound is the same).
  std::vector<uint8_t> message = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
  for (int label = 0; label < 5; ++label) {
    message.push_back(63);
    message.insert(message.end(), 63, 'a');
  }
  message.insert(message.end(), {0, 0, 1, 0, 1});
  const auto events = feed_dns_both_ways({{kQuery, message}});
  BOOST_TEST(events == std::vector<std::string>{"anomaly name_too_long malformed"}, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(odd_label_octets_are_escaped_so_they_never_read_as_a_domain) {
  // One label "army.ml" (with its dot inside) must not become the two labels army and ml.
  std::vector<uint8_t> message = {0, 9, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, 'a', 'r', 'm', 'y', '.', 'm', 'l', 0, 0, 1, 0, 1};
  const auto events = feed_dns_both_ways({{kQuery, message}});
  BOOST_TEST(events.at(1) == "question army\\046ml A");
}

BOOST_AUTO_TEST_CASE(records_beyond_the_bound_are_checked_but_not_reported) {
  // A response with 130 A records for one name, each compressed to the question.
  std::vector<uint8_t> message = {0, 5, 0x81, 0x80, 0, 1, 0, 130, 0, 0, 0, 0, 1, 'x', 0, 0, 1, 0, 1};
  for (int i = 0; i < 130; ++i) {
    message.insert(message.end(), {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, static_cast<uint8_t>(i)});
  }
  const auto events = feed_dns_both_ways({{kAnswer, message}});
  BOOST_TEST(events.size() == 2u + DnsMessageParser::kMaxRecords + 1u);
  BOOST_TEST(events.back() == "end 5 skipped 2");
}

BOOST_AUTO_TEST_CASE(pending_queries_are_bounded) {
  std::vector<DnsStep> script;
  for (uint16_t id = 0; id < DnsSession::kMaxPendingQueries + 1; ++id) {
    std::vector<uint8_t> query = kQueryMxArmyMl;
    query[0] = 0;
    query[1] = static_cast<uint8_t>(id);
    script.push_back({kQuery, query});
  }
  std::vector<uint8_t> answer_to_first = kResponseMxArmyMl;
  answer_to_first[0] = 0;
  answer_to_first[1] = 0;
  script.push_back({kAnswer, answer_to_first});
  const auto events = feed_dns_both_ways(script);
  // The 17th query forgot the first: its answer is unmatched.
  BOOST_TEST(std::count(events.begin(), events.end(), "anomaly pending_overflow") == 1);
  BOOST_TEST(std::count(events.begin(), events.end(), "response 0 NOERROR unmatched") == 1);
}

BOOST_AUTO_TEST_CASE(tcp_framing_bounds) {
  // A message longer than the buffer half is skipped by its length; the next one is read.
  const auto small_buffer = test_support::run_dns_tcp(
      {{kAnswer, kResponseMxArmyMl}, {kAnswer, kResponseTxt}}, [](std::size_t rest) { return rest; }, 2 * 64);
  BOOST_TEST(small_buffer.at(0) == "anomaly message_too_long malformed");
  BOOST_TEST(small_buffer.at(1) == "response 7 NOERROR unmatched");

  test_support::RecordingDnsSink sink;
  std::vector<uint8_t> buffer(2 * DnsSession::kDefaultTcpMessageBytes);
  DnsSession session(DnsTransport::kTcp, sink, buffer);
  const uint8_t zero_length[] = {0, 0};
  session.feed(kQuery, zero_length);
  const uint8_t half_message[] = {0, 25, 0x1a, 0x2b, 1};
  session.feed(kQuery, half_message);
  session.on_gap(kAnswer, 100);
  session.feed(kAnswer, std::span<const uint8_t>(kResponseTxt));  // ignored: framing lost
  session.finish();
  const std::vector<std::string> expected = {"anomaly short_message malformed", "anomaly stream_gap",
                                             "anomaly truncated malformed"};
  BOOST_TEST(sink.events == expected, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace misdirect::inspect
