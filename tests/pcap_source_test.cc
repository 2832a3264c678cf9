// PcapSource tests: timestamps past 2038 (the file's seconds are unsigned 32-bit), and a libpcap
// error that stops reading for good, saying where.
#include "dataplane/pcap_source.h"

#include <boost/test/unit_test.hpp>

#include <unistd.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "dataplane/output/eve_writer.h"

namespace misdirect::dataplane {
namespace {

void put32(std::vector<uint8_t>& out, uint32_t value) {
  for (int i = 0; i < 4; ++i) {
    out.push_back(static_cast<uint8_t>(value >> (8 * i)));  // little-endian file
  }
}

// A classic nanosecond pcap (Ethernet) with one record per (seconds, nanoseconds, captured
// length); the payload is zeros of that length.
struct Record {
  uint32_t seconds;
  uint32_t nanoseconds;
  uint32_t captured;
};

std::string write_pcap(const std::vector<Record>& records) {
  std::vector<uint8_t> bytes;
  put32(bytes, 0xa1b23c4d);  // nanosecond magic
  bytes.push_back(2);
  bytes.push_back(0);
  bytes.push_back(4);
  bytes.push_back(0);
  put32(bytes, 0);
  put32(bytes, 0);
  put32(bytes, 65535);
  put32(bytes, 1);  // DLT_EN10MB
  for (const Record& record : records) {
    put32(bytes, record.seconds);
    put32(bytes, record.nanoseconds);
    put32(bytes, record.captured);
    put32(bytes, record.captured < 60 ? 60 : record.captured);
    if (record.captured < 1'000'000) {
      bytes.insert(bytes.end(), record.captured, 0);
    }
  }
  char name[] = "/tmp/pcap-source-test-XXXXXX";
  const int fd = mkstemp(name);
  BOOST_REQUIRE(fd >= 0);
  BOOST_REQUIRE(write(fd, bytes.data(), bytes.size()) == static_cast<ssize_t>(bytes.size()));
  close(fd);
  return name;
}

std::string formatted(uint64_t timestamp_ns) {
  char text[kTimestampBytes];
  return std::string(format_timestamp(timestamp_ns, text));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(pcap_source)

BOOST_AUTO_TEST_CASE(timestamps_after_2038_stay_64_bit) {
  // 2040-01-01 and 2106-02-07: both past INT32_MAX seconds, still within the file's unsigned
  // 32-bit field.
  const std::string path = write_pcap({{2208988800u, 5000, 60}, {4294967280u, 999'999'999, 60}});
  std::string error;
  auto source = PcapSource::open(path, error);
  BOOST_REQUIRE_MESSAGE(source, error);
  PacketView packet;
  BOOST_REQUIRE(source->next(packet));
  BOOST_TEST(packet.timestamp_ns == 2208988800ull * 1'000'000'000ull + 5000);
  BOOST_TEST(formatted(packet.timestamp_ns) == "2040-01-01T00:00:00.000005+0000");
  BOOST_REQUIRE(source->next(packet));
  BOOST_TEST(packet.timestamp_ns == 4294967280ull * 1'000'000'000ull + 999'999'999);
  BOOST_TEST(formatted(packet.timestamp_ns) == "2106-02-07T06:28:00.999999+0000");
  unlink(path.c_str());
}

BOOST_AUTO_TEST_CASE(a_libpcap_error_stops_reading_and_says_where) {
  // Three good records, one whose captured length libpcap refuses, then two more good ones that
  // must not be read: after an error the file position means nothing.
  const std::string path = write_pcap({{1700000000u, 0, 60},
                                       {1700000001u, 0, 60},
                                       {1700000002u, 0, 60},
                                       {1700000003u, 0, 0x7fffff00u},
                                       {1700000004u, 0, 60},
                                       {1700000005u, 0, 60}});
  std::string error;
  auto source = PcapSource::open(path, error);
  BOOST_REQUIRE_MESSAGE(source, error);
  std::array<PacketView, PcapSource::kMaxBurst> burst;
  std::size_t total = 0;
  for (std::size_t count; (count = source->next_burst(burst)) > 0;) {
    total += count;
  }
  BOOST_TEST(total == 3u);
  BOOST_TEST(source->packets_read() == 3u);
  BOOST_TEST(source->next_burst(burst) == 0u);
  BOOST_TEST(source->error().find("after packet 3") != std::string::npos, source->error());
  BOOST_TEST(source->error().find(path) != std::string::npos, source->error());
  unlink(path.c_str());
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace misdirect::dataplane
