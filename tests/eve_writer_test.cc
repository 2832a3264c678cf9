// Tests for JsonLineWriter and EveWriter: valid JSON from any bytes, Suricata's field layout.
#include <boost/test/unit_test.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "dataplane/output/eve_writer.h"
#include "dataplane/output/json_line_writer.h"

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

BOOST_AUTO_TEST_CASE(fused_members_and_plain_strings_get_commas_right) {
  std::array<char, 256> buffer;
  JsonLineWriter json(buffer);
  json.begin_object();
  json.member_plain_string("a", "x.example");
  json.member_number("n", 250);
  json.member_number("zero", 0);
  json.member_raw("z", "null");
  json.key("list");
  json.begin_array();
  json.plain_string("p");
  json.plain_string("");
  json.number(18446744073709551615ull);
  json.begin_object();
  json.member_raw("t", "true");
  json.end_object();
  json.end_array();
  json.member_plain_string("last", "");
  json.end_object();
  BOOST_TEST(json.view() ==
             R"({"a":"x.example","n":250,"zero":0,"z":null,"list":["p","",18446744073709551615,{"t":true}],"last":""})");
  BOOST_TEST(!json.overflowed());
  BOOST_TEST(JsonLineWriter::is_plain_text("user.name+tag@mail.example"));
  BOOST_TEST(JsonLineWriter::is_plain_text(""));
  BOOST_TEST(!JsonLineWriter::is_plain_text("a\"b"));
  BOOST_TEST(!JsonLineWriter::is_plain_text("0123456789abcde\\"));
  BOOST_TEST(!JsonLineWriter::is_plain_text("0123456789abcdef\x7f"));
  BOOST_TEST(!JsonLineWriter::is_plain_text("caf\xc3\xa9"));
}

BOOST_AUTO_TEST_CASE(a_member_that_does_not_fit_is_an_overflow) {
  std::array<char, 12> buffer;
  JsonLineWriter json(buffer);
  json.begin_object();
  json.member_plain_string("key", "value");  // {"key":"value" is 14 bytes
  BOOST_TEST(json.overflowed());
  BOOST_TEST(json.view() == "{");
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

BOOST_AUTO_TEST_CASE(plain_runs_and_escapes_at_every_position) {
  // Strings are copied eight bytes at a time until a byte needs escaping: put each kind of such
  // byte at each position of a 19-byte string, so every word and the tail see one.
  const std::pair<char, std::string> escapes[] = {
      {'"', "\\\""}, {'\\', "\\\\"}, {'\n', "\\u000a"}, {'\x1f', "\\u001f"},
      {'\x7f', "\\u007f"}, {'\0', "\\u0000"}, {'\xff', "\\ufffd"},
  };
  for (const auto& [byte, escaped] : escapes) {
    for (std::size_t at = 0; at < 19; ++at) {
      std::string value(19, 'a');
      value[at] = byte;
      std::array<char, 128> buffer;
      JsonLineWriter json(buffer);
      json.string(value);
      const std::string expected = "\"" + std::string(at, 'a') + escaped + std::string(18 - at, 'a') + "\"";
      BOOST_TEST(json.view() == expected);
      BOOST_TEST(!json.overflowed());
    }
  }
  std::array<char, 128> buffer;
  JsonLineWriter json(buffer);
  json.string(" ~\t!#[]{}\xc3\xa9 tab");
  BOOST_TEST(json.view() == "\" ~\\u0009!#[]{}\xc3\xa9 tab\"");
}

BOOST_AUTO_TEST_CASE(a_string_that_just_fits_is_written_whole) {
  std::array<char, 18> buffer;
  JsonLineWriter json(buffer);
  json.string("0123456789abcdef");
  BOOST_TEST(json.view() == "\"0123456789abcdef\"");
  BOOST_TEST(!json.overflowed());
  json.null();
  BOOST_TEST(json.overflowed());

  std::array<char, 10> small;
  JsonLineWriter escaped(small);
  escaped.string("ab\"cd\"ef");  // 10 bytes only once escaped: 12
  BOOST_TEST(escaped.overflowed());
  BOOST_TEST(escaped.view().size() <= small.size());
}

BOOST_AUTO_TEST_CASE(numbers_from_zero_to_the_largest) {
  std::array<char, 128> buffer;
  JsonLineWriter json(buffer);
  json.begin_array();
  for (const uint64_t value : {uint64_t{0}, uint64_t{9}, uint64_t{10}, uint64_t{250}, uint64_t{18446744073709551615ull}}) {
    json.number(value);
  }
  json.signed_number(-9223372036854775807LL - 1);
  json.end_array();
  BOOST_TEST(json.view() == "[0,9,10,250,18446744073709551615,-9223372036854775808]");
}

BOOST_AUTO_TEST_CASE(timestamps_across_leap_days_and_centuries) {
  char text[misdirect::dataplane::kTimestampBytes];
  const auto at = [&](uint64_t seconds, uint64_t nanoseconds) {
    return std::string(misdirect::dataplane::format_timestamp(seconds * 1'000'000'000ull + nanoseconds, text));
  };
  BOOST_TEST(at(0, 999) == "1970-01-01T00:00:00.000000+0000");
  BOOST_TEST(at(0, 1000) == "1970-01-01T00:00:00.000001+0000");
  BOOST_TEST(at(86399, 999'999'999) == "1970-01-01T23:59:59.999999+0000");
  BOOST_TEST(at(68169600, 0) == "1972-02-29T00:00:00.000000+0000");
  BOOST_TEST(at(951782400, 0) == "2000-02-29T00:00:00.000000+0000");
  BOOST_TEST(at(951868800, 0) == "2000-03-01T00:00:00.000000+0000");
  BOOST_TEST(at(978307199, 10'000) == "2000-12-31T23:59:59.000010+0000");
  BOOST_TEST(at(1767225600, 55'000) == "2026-01-01T00:00:00.000055+0000");
  BOOST_TEST(at(4107542400, 0) == "2100-03-01T00:00:00.000000+0000");  // 2100 is no leap year
  BOOST_TEST(at(4107456000, 0) == "2100-02-28T00:00:00.000000+0000");
  // The last second a uint64 of nanoseconds holds.
  BOOST_TEST(std::string(misdirect::dataplane::format_timestamp(18446744073709551615ull, text)) ==
             "2554-07-21T23:34:33.709551+0000");
}

BOOST_AUTO_TEST_CASE(ipv4_addresses_are_dotted_quads) {
  char text[misdirect::dataplane::kIpTextBytes];
  misdirect::dataplane::IpAddress address;
  address.version = 4;
  address.bytes = {0, 9, 10, 255};
  BOOST_TEST(misdirect::dataplane::format_ip(address, text) == "0.9.10.255");
  address.bytes = {100, 99, 199, 1};
  BOOST_TEST(misdirect::dataplane::format_ip(address, text) == "100.99.199.1");
  address.version = 6;
  address.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0xc0, 0x00, 0x02, 0x01};
  BOOST_TEST(misdirect::dataplane::format_ip(address, text) == "2001:db8::c000:201");
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

BOOST_AUTO_TEST_CASE(a_flow_from_a_named_live_port_says_in_iface_after_flow_id) {
  std::array<char, 1024> buffer;
  EveWriter eve(buffer);
  const std::vector<std::string> names = {"net_pcap0", "eth\"1"};
  FlowIdentity flow;
  flow.flow_id = 7;
  flow.client.version = 4;
  flow.client.bytes = {10, 0, 0, 1};
  flow.server.version = 4;
  flow.server.bytes = {10, 0, 0, 2};
  flow.client_port = 40000;
  flow.server_port = 25;
  const auto record = [&](uint8_t input) {
    flow.input = input;
    eve.begin("smtp", 0, &flow, "");
    return std::string(eve.finish());
  };
  const std::string rest =
      R"("event_type":"smtp","src_ip":"10.0.0.1","src_port":40000,"dest_ip":"10.0.0.2","dest_port":25,"proto":"TCP"})";
  const std::string head = R"({"timestamp":"1970-01-01T00:00:00.000000+0000","flow_id":7,)";
  // Replay: no names, no in_iface, whatever the flow's input says.
  BOOST_TEST(record(0) == head + rest);
  eve.set_input_names(names);
  BOOST_TEST(record(0) == head + R"("in_iface":"net_pcap0",)" + rest);
  BOOST_TEST(record(1) == head + R"("in_iface":"eth\"1",)" + rest);  // escaped like any name
  BOOST_TEST(record(2) == head + rest);                              // not a port of the sensor
  BOOST_TEST(record(misdirect::dataplane::kNoInput) == head + rest);
}

BOOST_AUTO_TEST_CASE(consecutive_records_get_their_own_timestamps) {
  std::array<char, 256> buffer;
  EveWriter eve(buffer);
  const auto stamp = [&](uint64_t ns) {
    eve.begin("stats", ns, nullptr, "");
    return std::string(eve.finish());
  };
  BOOST_TEST(stamp(1'000'000'000) == R"({"timestamp":"1970-01-01T00:00:01.000000+0000","event_type":"stats"})");
  BOOST_TEST(stamp(1'999'999'000) == R"({"timestamp":"1970-01-01T00:00:01.999999+0000","event_type":"stats"})");
  BOOST_TEST(stamp(1'000'001'000) == R"({"timestamp":"1970-01-01T00:00:01.000001+0000","event_type":"stats"})");
  BOOST_TEST(stamp(86'400'000'000'000) == R"({"timestamp":"1970-01-02T00:00:00.000000+0000","event_type":"stats"})");
  BOOST_TEST(stamp(1'000'500'000) == R"({"timestamp":"1970-01-01T00:00:01.000500+0000","event_type":"stats"})");
}

BOOST_AUTO_TEST_CASE(record_without_flow_has_no_addresses) {
  std::array<char, 256> buffer;
  EveWriter eve(buffer);
  eve.begin("stats", 1'000'000'000, nullptr, "");
  BOOST_TEST(eve.finish() == R"({"timestamp":"1970-01-01T00:00:01.000000+0000","event_type":"stats"})");
}

BOOST_AUTO_TEST_CASE(a_tunnelled_flow_carries_suricatas_tunnel_object) {
  std::array<char, 1024> buffer;
  EveWriter eve(buffer);
  FlowIdentity flow;
  flow.flow_id = 9;
  flow.client.version = 4;
  flow.client.bytes = {10, 0, 0, 5};
  flow.server.version = 4;
  flow.server.bytes = {10, 0, 0, 25};
  flow.client_port = 40001;
  flow.server_port = 25;
  flow.tunnel.layer_count = 2;
  flow.tunnel.layers[0] = misdirect::dataplane::Encapsulation::kGre;
  flow.tunnel.layers[1] = misdirect::dataplane::Encapsulation::kErspan;
  flow.tunnel.depth = 1;
  flow.tunnel.id_kind = misdirect::dataplane::Encapsulation::kErspan;
  flow.tunnel.id = 100;
  flow.tunnel.outer_protocol = 47;
  flow.tunnel.outer_src.version = 6;
  flow.tunnel.outer_src.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a};
  flow.tunnel.outer_dst.version = 6;
  flow.tunnel.outer_dst.bytes = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0b};
  auto& json = eve.begin("alert", 0, &flow, "");
  json.key("misdirect");
  json.begin_object();
  misdirect::dataplane::write_tunnel_extension(json, flow);
  json.end_object();
  BOOST_TEST(eve.finish() ==
             R"({"timestamp":"1970-01-01T00:00:00.000000+0000","flow_id":9,"event_type":"alert",)"
             R"("src_ip":"10.0.0.5","src_port":40001,"dest_ip":"10.0.0.25","dest_port":25,"proto":"TCP",)"
             R"("tunnel":{"src_ip":"2001:db8::a","src_port":0,"dest_ip":"2001:db8::b","dest_port":0,)"
             R"("proto":"GRE","depth":1},)"
             R"("misdirect":{"tunnel":{"kind":"erspan","id":100,"layers":["gre","erspan"]}}})");
}

BOOST_AUTO_TEST_CASE(an_encapsulation_without_an_outer_ip_packet_names_only_its_layers) {
  // PPPoE on Ethernet carries no tunnel identity and has no outer IP header: no `tunnel` object,
  // and misdirect's names the innermost layer as the kind, without an id.
  std::array<char, 256> buffer;
  misdirect::dataplane::JsonLineWriter json(buffer);
  FlowIdentity flow;
  flow.tunnel.layer_count = 1;
  flow.tunnel.layers[0] = misdirect::dataplane::Encapsulation::kPppoe;
  json.begin_object();
  misdirect::dataplane::write_tunnel_extension(json, flow);
  json.end_object();
  BOOST_TEST(json.view() == R"({"tunnel":{"kind":"pppoe","layers":["pppoe"]}})");
  FlowIdentity plain;
  misdirect::dataplane::JsonLineWriter empty(buffer);
  empty.begin_object();
  misdirect::dataplane::write_tunnel_extension(empty, plain);
  empty.end_object();
  BOOST_TEST(empty.view() == "{}");
}

BOOST_AUTO_TEST_CASE(tunnel_protocols_have_suricatas_names) {
  using misdirect::dataplane::tunnel_protocol_name;
  BOOST_TEST(tunnel_protocol_name(17) == "UDP");
  BOOST_TEST(tunnel_protocol_name(47) == "GRE");
  BOOST_TEST(tunnel_protocol_name(4) == "IP-in-IP");
  BOOST_TEST(tunnel_protocol_name(41) == "IPv6");
  BOOST_TEST(tunnel_protocol_name(137) == "MPLS-in-IP");
  BOOST_TEST(tunnel_protocol_name(6) == "unknown");
}

BOOST_AUTO_TEST_SUITE_END()
