// Tests for JsonLineWriter and EveWriter: valid JSON from any bytes, Suricata's field layout.
#include <boost/test/unit_test.hpp>

#include <array>
#include <string>

#include "dataplane/eve_writer.h"
#include "dataplane/json_line_writer.h"

using misdirect::dataplane::EveWriter;
using misdirect::dataplane::FlowIdentity;
using misdirect::dataplane::JsonLineWriter;

BOOST_AUTO_TEST_SUITE(eve_writer)

BOOST_AUTO_TEST_CASE(nested_objects_and_arrays_get_commas_right) {
  std::array<char, 256> buffer;
  JsonLineWriter json(buffer);
  json.begin_object();
  json.key("a");
  json.number(1);
  json.key("b");
  json.begin_array();
  json.string("x");
  json.null();
  json.boolean(false);
  json.begin_object();
  json.end_object();
  json.end_array();
  json.key("c");
  json.signed_number(-5);
  json.end_object();
  BOOST_TEST(json.view() == R"({"a":1,"b":["x",null,false,{}],"c":-5})");
  BOOST_TEST(!json.overflowed());
}

BOOST_AUTO_TEST_CASE(wire_bytes_are_escaped_and_invalid_utf8_replaced) {
  std::array<char, 256> buffer;
  JsonLineWriter json(buffer);
  json.string(std::string_view("q\"b\\n\x01\x7f \xc3\xa9 \xff \xed\xa0\x80 \xe2\x82", 19));
  BOOST_TEST(json.view() ==
             "\"q\\\"b\\\\n\\u0001\\u007f \xc3\xa9 \\ufffd \\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"");
}

BOOST_AUTO_TEST_CASE(nul_bytes_are_escaped) {
  std::array<char, 64> buffer;
  JsonLineWriter json(buffer);
  json.string(std::string_view("a\0b", 3));
  BOOST_TEST(json.view() == "\"a\\u0000b\"");
}

BOOST_AUTO_TEST_CASE(overflow_is_reported_not_written_past_the_buffer) {
  std::array<char, 8> buffer;
  JsonLineWriter json(buffer);
  json.begin_object();
  json.key("long-key");
  json.string("value");
  json.end_object();
  BOOST_TEST(json.overflowed());
  BOOST_TEST(json.view().size() <= buffer.size());
}

BOOST_AUTO_TEST_CASE(timestamp_is_suricata_format_in_utc) {
  char text[misdirect::dataplane::kTimestampBytes];
  // 2009-02-13T23:31:30.123456Z
  BOOST_TEST(misdirect::dataplane::format_timestamp(1234567890123456789ull, text) ==
             "2009-02-13T23:31:30.123456+0000");
}

BOOST_AUTO_TEST_CASE(record_header_orients_client_to_server_and_lists_vlans) {
  std::array<char, 1024> buffer;
  EveWriter eve(buffer);
  FlowIdentity flow;
  flow.flow_id = 42;
  flow.client.version = 4;
  flow.client.bytes = {10, 0, 0, 1};
  flow.server.version = 6;
  flow.server.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
  flow.client_port = 40000;
  flow.server_port = 25;
  flow.vlan_count = 2;
  flow.vlan_ids[0] = 100;
  flow.vlan_ids[1] = 200;
  auto& json = eve.begin("alert", 0, &flow, "x.pcap");
  json.key("k");
  json.number(1);
  BOOST_TEST(eve.finish() ==
             R"({"timestamp":"1970-01-01T00:00:00.000000+0000","flow_id":42,"pcap_filename":"x.pcap",)"
             R"("event_type":"alert","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"2001:db8::1",)"
             R"("dest_port":25,"proto":"TCP","vlan":[100,200],"k":1})");
}

BOOST_AUTO_TEST_CASE(record_without_flow_has_no_addresses) {
  std::array<char, 256> buffer;
  EveWriter eve(buffer);
  eve.begin("stats", 1'000'000'000, nullptr, "");
  BOOST_TEST(eve.finish() == R"({"timestamp":"1970-01-01T00:00:01.000000+0000","event_type":"stats"})");
}

BOOST_AUTO_TEST_SUITE_END()
