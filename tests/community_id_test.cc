// Tests for Community ID v1 against the specification's published baseline
// (corelight/community-id-spec, baseline/baseline_deflt.json and baseline_seed1.json), and for
// the SHA-1 underneath it against FIPS 180 examples.
#include <arpa/inet.h>

#include <boost/test/unit_test.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "dataplane/flow/community_id.h"
#include "dataplane/flow/sha1.h"

using misdirect::dataplane::community_id_v1;
using misdirect::dataplane::CommunityEndpoint;
using misdirect::dataplane::IpAddress;
using misdirect::dataplane::Sha1;

namespace {

IpAddress address(const char* text) {
  IpAddress ip;
  if (inet_pton(AF_INET, text, ip.bytes.data()) == 1) {
    ip.version = 4;
  } else {
    BOOST_REQUIRE(inet_pton(AF_INET6, text, ip.bytes.data()) == 1);
    ip.version = 6;
  }
  return ip;
}

std::string hex(const Sha1::Digest& digest) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (const uint8_t byte : digest) {
    out += kDigits[byte >> 4];
    out += kDigits[byte & 15];
  }
  return out;
}

Sha1::Digest sha1_of(std::string_view text) {
  return Sha1::of({reinterpret_cast<const uint8_t*>(text.data()), text.size()});
}

struct Vector {
  uint8_t protocol;
  const char* source;
  const char* destination;
  int source_port;  // -1: the protocol has no ports
  int destination_port;
  const char* seed0;
  const char* seed1;
};

// The spec's baseline rows (ICMP rows carry Zeek's type/code port equivalents already).
constexpr Vector kBaseline[] = {
    {58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
     "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=", "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY="},
    {58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
     "1:zavyT/cezQr1fmImYCwYnMXbgck=", "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM="},
    {58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
     "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=", "1:lVEtCZpYu84Xqaa++3lXFyuu2n4="},
    {58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
     "1:hLZd0XGWojozrvxqE0dWB1iM6R0=", "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8="},
    {58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
     "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=", "1:GfZxjAkDk2MkegpBYHV6tadtFXQ="},
    {58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134,
     "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=", "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8="},
    {1, "192.168.0.89", "192.168.0.1", 8, 0,
     "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=", "1:03g6IloqVBdcZlPyX8r0hgoE7kA="},
    {1, "10.0.0.1", "10.0.0.2", 11, 0,
     "1:YHxtAirCG//0OzkcVAukqKQN9xM=", "1:XjUibYHaafLQ3pxQeiMI8g25q20="},
    {6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
     "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=", "1:eJYTW6AOzFLlSUoESovMjnu7rMw="},
    {132, "192.168.170.8", "192.168.170.56", 7, 7,
     "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {132, "192.168.170.56", "192.168.170.8", 7, 7,
     "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=", "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg="},
    {6, "128.232.110.120", "66.35.250.204", 34855, 80,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {6, "66.35.250.204", "128.232.110.120", 80, 34855,
     "1:LQU9qZlK+B5F3KDmev6m5PMibrg=", "1:3V71V58M3Ksw/yuFALMcW0LAHvc="},
    {17, "192.168.1.52", "8.8.8.8", 54585, 53,
     "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {17, "8.8.8.8", "192.168.1.52", 53, 54585,
     "1:d/FP5EW3wiY1vCndhwleRRKHowQ=", "1:Q9We8WO3piVF8yEQBNJF4uiSVrI="},
    {46, "10.1.12.1", "10.1.12.2", -1, -1,
     "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
    {46, "10.1.12.2", "10.1.12.1", -1, -1,
     "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=", "1:rYir8gphR31noO9iDRQmF/BteEI="},
};

std::string id_of(const Vector& row, uint16_t seed) {
  const bool has_ports = row.source_port >= 0;
  const CommunityEndpoint source{address(row.source), static_cast<uint16_t>(has_ports ? row.source_port : 0)};
  const CommunityEndpoint destination{address(row.destination),
                                      static_cast<uint16_t>(has_ports ? row.destination_port : 0)};
  return std::string(community_id_v1(source, destination, row.protocol, seed, has_ports).view());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(community_id)

BOOST_AUTO_TEST_CASE(sha1_matches_the_fips_examples) {
  BOOST_TEST(hex(sha1_of("")) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");
  BOOST_TEST(hex(sha1_of("abc")) == "a9993e364706816aba3e25717850c26c9cd0d89d");
  // 56 bytes: the length no longer fits the first block, so padding takes a second one.
  BOOST_TEST(hex(sha1_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")) ==
             "84983e441c3bd26ebaae4aa1f95129e5e54670f1");
  Sha1 million;
  const std::string thousand(1000, 'a');
  for (int i = 0; i < 1000; ++i) {
    million.update({reinterpret_cast<const uint8_t*>(thousand.data()), thousand.size()});
  }
  BOOST_TEST(hex(million.finish()) == "34aa973cd4c4daa4f61eeb2bdbad27316534016f");
}

BOOST_AUTO_TEST_CASE(sha1_any_chunking_gives_the_same_digest) {
  const std::string text = "The quick brown fox jumps over the lazy dog, twice over to pass one block.";
  const Sha1::Digest whole = sha1_of(text);
  Sha1 bytewise;
  for (const char c : text) {
    const auto byte = static_cast<uint8_t>(c);
    bytewise.update({&byte, 1});
  }
  BOOST_TEST(hex(bytewise.finish()) == hex(whole));
}

BOOST_AUTO_TEST_CASE(baseline_with_seed_0) {
  for (const Vector& row : kBaseline) {
    BOOST_TEST(id_of(row, 0) == row.seed0, row.source << " -> " << row.destination);
  }
}

BOOST_AUTO_TEST_CASE(baseline_with_seed_1) {
  for (const Vector& row : kBaseline) {
    BOOST_TEST(id_of(row, 1) == row.seed1, row.source << " -> " << row.destination);
  }
}

BOOST_AUTO_TEST_CASE(the_spec_example_orders_both_directions_alike) {
  // The README's example: both directions order into 10.0.0.1, 127.0.0.1, 1234, 80.
  const CommunityEndpoint client{address("10.0.0.1"), 1234};
  const CommunityEndpoint server{address("127.0.0.1"), 80};
  BOOST_TEST(community_id_v1(client, server, 6, 0).view() == community_id_v1(server, client, 6, 0).view());
  BOOST_TEST(community_id_v1(client, server, 6, 0).view() != community_id_v1(client, server, 6, 1).view());
  BOOST_TEST(community_id_v1(client, server, 6, 0).view().size() == 30u);
}

BOOST_AUTO_TEST_SUITE_END()
