// Tests for evidence pcaps: EvidenceRing (worker → writer hand-over), EvidenceRecorder (per-flow
// buffers of first frames, flushed at the alert) and EvidenceWriter (pcap files read back with
// libpcap, rotation by count and by size).
#include <boost/test/unit_test.hpp>

#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "dataplane/output/evidence_recorder.h"
#include "dataplane/output/evidence_ring.h"
#include "dataplane/output/evidence_writer.h"

using misdirect::dataplane::EvidenceCounter;
using misdirect::dataplane::EvidenceEntry;
using misdirect::dataplane::EvidenceEntryKind;
using misdirect::dataplane::EvidenceFileCounter;
using misdirect::dataplane::EvidenceRecorder;
using misdirect::dataplane::EvidenceRecorderConfig;
using misdirect::dataplane::EvidenceRing;
using misdirect::dataplane::EvidenceWriter;
using misdirect::dataplane::EvidenceWriterConfig;
using misdirect::dataplane::PacketView;

namespace {

struct Drained {
  uint64_t flow_id;
  uint64_t timestamp_ns;
  EvidenceEntryKind kind;
  std::vector<uint8_t> bytes;
};

std::vector<Drained> drain_all(EvidenceRing& ring) {
  std::vector<Drained> out;
  ring.drain([&](const EvidenceEntry& entry, std::span<const uint8_t> bytes) {
    out.push_back({entry.flow_id, entry.timestamp_ns, entry.kind, std::vector<uint8_t>(bytes.begin(), bytes.end())});
  });
  return out;
}

std::vector<uint8_t> frame_bytes(std::size_t length, uint8_t fill) { return std::vector<uint8_t>(length, fill); }

PacketView view_of(const std::vector<uint8_t>& bytes, uint64_t timestamp_ns) {
  PacketView view;
  view.data = bytes.data();
  view.captured_length = static_cast<uint32_t>(bytes.size());
  view.wire_length = static_cast<uint32_t>(bytes.size());
  view.timestamp_ns = timestamp_ns;
  return view;
}

EvidenceEntry packet_entry(uint64_t flow_id, uint64_t timestamp_ns, uint32_t wire_length) {
  EvidenceEntry entry;
  entry.flow_id = flow_id;
  entry.timestamp_ns = timestamp_ns;
  entry.wire_length = wire_length;
  return entry;
}

// A fresh directory under the build's temporary space, removed at the end of the test.
struct TempDir {
  TempDir() {
    char name[] = "/tmp/misdirect-evidence-XXXXXX";
    BOOST_REQUIRE(::mkdtemp(name) != nullptr);
    path = name;
  }
  ~TempDir() { std::filesystem::remove_all(path); }
  std::vector<std::string> files() const {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(path)) {
      names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }
  std::string path;
};

// Every frame of a pcap file, read with libpcap: (timestamp in ns, bytes).
std::vector<std::pair<uint64_t, std::vector<uint8_t>>> read_pcap(const std::string& path, int* link = nullptr) {
  char error[PCAP_ERRBUF_SIZE];
  pcap_t* pcap = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, error);
  BOOST_REQUIRE_MESSAGE(pcap != nullptr, error);
  if (link != nullptr) {
    *link = pcap_datalink(pcap);
  }
  std::vector<std::pair<uint64_t, std::vector<uint8_t>>> frames;
  pcap_pkthdr* header = nullptr;
  const u_char* data = nullptr;
  while (pcap_next_ex(pcap, &header, &data) == 1) {
    frames.emplace_back(static_cast<uint64_t>(header->ts.tv_sec) * 1'000'000'000ull + header->ts.tv_usec,
                        std::vector<uint8_t>(data, data + header->caplen));
  }
  pcap_close(pcap);
  return frames;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(evidence)

BOOST_AUTO_TEST_CASE(the_ring_hands_over_entries_in_order_across_its_end) {
  EvidenceRing ring(64 << 10);
  // Entries of 32 + 1000 bytes (padded to 1032) wrap the 64 KiB ring several times.
  for (uint64_t round = 0; round < 200; ++round) {
    const auto bytes = frame_bytes(1000, static_cast<uint8_t>(round));
    BOOST_REQUIRE(ring.push(packet_entry(round, round * 10, 1000), bytes));
    const auto drained = drain_all(ring);
    BOOST_REQUIRE_EQUAL(drained.size(), 1u);
    BOOST_TEST(drained[0].flow_id == round);
    BOOST_TEST(drained[0].timestamp_ns == round * 10);
    BOOST_TEST(drained[0].bytes == bytes);
  }
  BOOST_TEST(ring.empty());
}

BOOST_AUTO_TEST_CASE(a_full_ring_refuses_and_takes_again_once_drained) {
  EvidenceRing ring(64 << 10);
  const auto bytes = frame_bytes(4000, 7);
  std::size_t pushed = 0;
  while (ring.push(packet_entry(1, pushed, 4000), bytes)) {
    ++pushed;
  }
  BOOST_TEST(pushed == (64u << 10) / 4032);
  BOOST_TEST(drain_all(ring).size() == pushed);
  BOOST_TEST(ring.push(packet_entry(1, 0, 4000), bytes));
  // Larger than a quarter of the ring: never.
  BOOST_TEST(!ring.push(packet_entry(1, 0, 20000), frame_bytes(20000, 1)));
}

BOOST_AUTO_TEST_CASE(a_flow_is_buffered_until_it_alerts_then_streamed) {
  EvidenceRing ring(1 << 20);
  EvidenceRecorderConfig config;
  config.max_flows = 8;
  config.buffers = 2;
  config.buffer_bytes = 4096;
  EvidenceRecorder recorder(config, ring);
  const auto syn = frame_bytes(60, 1);
  const auto data = frame_bytes(200, 2);
  recorder.on_flow_start(3);
  recorder.on_frame(3, 77, view_of(syn, 100), false);
  recorder.on_frame(3, 77, view_of(data, 200), false);
  BOOST_TEST(ring.empty());  // nothing leaves before the alert
  recorder.on_alert(3, 77);
  recorder.on_frame(3, 77, view_of(data, 300), false);
  recorder.on_alert(3, 77);  // a second alert changes nothing
  recorder.on_flow_end(3, 77);
  const auto drained = drain_all(ring);
  BOOST_REQUIRE_EQUAL(drained.size(), 4u);
  BOOST_TEST(drained[0].timestamp_ns == 100u);
  BOOST_TEST(drained[0].bytes == syn);
  BOOST_TEST(drained[1].timestamp_ns == 200u);
  BOOST_TEST(drained[2].timestamp_ns == 300u);
  BOOST_TEST((drained[3].kind == EvidenceEntryKind::kFlowEnd));
  for (const auto& entry : drained) {
    BOOST_TEST(entry.flow_id == 77u);
  }
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFlowsAlerted) == 1u);
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFramesQueued) == 3u);
}

BOOST_AUTO_TEST_CASE(the_buffer_is_bounded_and_counts_what_did_not_fit) {
  EvidenceRing ring(1 << 20);
  EvidenceRecorderConfig config;
  config.max_flows = 4;
  config.buffers = 1;
  config.buffer_bytes = 1024;
  EvidenceRecorder recorder(config, ring);
  const auto frame = frame_bytes(300, 5);  // 336 bytes an entry: three fit in 1024
  recorder.on_flow_start(0);
  for (int i = 0; i < 5; ++i) {
    recorder.on_frame(0, 9, view_of(frame, i), false);
  }
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFramesBuffered) == 3u);
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFramesNotBuffered) == 2u);
  recorder.on_alert(0, 9);
  BOOST_TEST(drain_all(ring).size() == 3u);
}

BOOST_AUTO_TEST_CASE(buffers_are_given_back_and_a_flow_without_one_is_counted) {
  EvidenceRing ring(1 << 20);
  EvidenceRecorderConfig config;
  config.max_flows = 4;
  config.buffers = 1;
  config.buffer_bytes = 1024;
  EvidenceRecorder recorder(config, ring);
  const auto frame = frame_bytes(100, 5);
  recorder.on_flow_start(0);
  recorder.on_flow_start(1);  // no buffer left
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFlowsUnbuffered) == 1u);
  recorder.on_frame(1, 11, view_of(frame, 1), false);
  recorder.on_alert(1, 11);  // streams from the alert on
  recorder.on_frame(1, 11, view_of(frame, 2), false);
  const auto drained = drain_all(ring);
  BOOST_REQUIRE_EQUAL(drained.size(), 1u);
  BOOST_TEST(drained[0].timestamp_ns == 2u);
  // Flow 0 ends its session without an alert: its buffer serves the next flow.
  recorder.on_frame(0, 10, view_of(frame, 3), false);
  recorder.on_inspection_end(0);
  recorder.on_flow_start(2);
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFlowsBuffered) == 2u);
  recorder.on_frame(2, 12, view_of(frame, 4), false);
  recorder.on_alert(2, 12);
  const auto second = drain_all(ring);
  BOOST_REQUIRE_EQUAL(second.size(), 1u);  // flow 0's frame is not in flow 2's evidence
  BOOST_TEST(second[0].flow_id == 12u);
  // A reassembled datagram's last fragment is not kept, and counted.
  recorder.on_frame(2, 12, view_of(frame, 5), true);
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFragmentsNotKept) == 1u);
}

BOOST_AUTO_TEST_CASE(a_full_ring_is_counted_not_waited_for) {
  EvidenceRing ring(64 << 10);
  EvidenceRecorderConfig config;
  config.max_flows = 1;
  config.buffers = 1;
  EvidenceRecorder recorder(config, ring);
  recorder.on_flow_start(0);
  recorder.on_alert(0, 1);
  const auto frame = frame_bytes(8000, 1);
  for (int i = 0; i < 20; ++i) {
    recorder.on_frame(0, 1, view_of(frame, i), false);
  }
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFramesQueued) == 8u);
  BOOST_TEST(recorder.counters().get(EvidenceCounter::kFramesRingFull) == 12u);
}

BOOST_AUTO_TEST_CASE(the_writer_writes_a_pcap_libpcap_reads_with_nanoseconds) {
  TempDir dir;
  EvidenceWriterConfig config;
  config.directory = dir.path;
  EvidenceWriter writer(config);
  const auto first = frame_bytes(60, 1);
  const auto second = frame_bytes(1500, 2);
  writer.write(packet_entry(42, 1'768'467'600'123'456'789ull, 60), first);
  writer.write(packet_entry(42, 1'768'467'600'223'456'789ull, 1500), second);
  EvidenceEntry end;
  end.flow_id = 42;
  end.kind = EvidenceEntryKind::kFlowEnd;
  writer.write(end, {});
  BOOST_TEST(dir.files() == std::vector<std::string>{"42.pcap"});
  int link = -1;
  const auto frames = read_pcap(dir.path + "/42.pcap", &link);
  BOOST_TEST(link == DLT_EN10MB);
  BOOST_REQUIRE_EQUAL(frames.size(), 2u);
  BOOST_TEST(frames[0].first == 1'768'467'600'123'456'789ull);
  BOOST_TEST(frames[0].second == first);
  BOOST_TEST(frames[1].second == second);
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFilesCreated) == 1u);
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFramesWritten) == 2u);
  BOOST_TEST(misdirect::dataplane::evidence_file_path(dir.path, 42) == dir.path + "/42.pcap");
}

BOOST_AUTO_TEST_CASE(files_rotate_by_count_oldest_first) {
  TempDir dir;
  EvidenceWriterConfig config;
  config.directory = dir.path;
  config.max_files = 2;
  EvidenceWriter writer(config);
  const auto frame = frame_bytes(100, 3);
  for (uint64_t flow = 1; flow <= 4; ++flow) {
    writer.write(packet_entry(flow, flow, 100), frame);
  }
  BOOST_TEST(dir.files() == (std::vector<std::string>{"3.pcap", "4.pcap"}));
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFilesRemovedCount) == 2u);
  // A flow whose file was rotated out is not written again (its file would lack its start).
  writer.write(packet_entry(1, 9, 100), frame);
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFramesFileRemoved) == 1u);
  BOOST_TEST(dir.files() == (std::vector<std::string>{"3.pcap", "4.pcap"}));
}

BOOST_AUTO_TEST_CASE(files_rotate_by_size_and_one_file_never_passes_the_cap) {
  TempDir dir;
  EvidenceWriterConfig config;
  config.directory = dir.path;
  config.max_bytes = 1000;  // 24 + 2 × (16 + 200) = 456 bytes a file of two frames
  EvidenceWriter writer(config);
  const auto frame = frame_bytes(200, 4);
  for (uint64_t flow = 1; flow <= 3; ++flow) {
    writer.write(packet_entry(flow, 1, 200), frame);
    writer.write(packet_entry(flow, 2, 200), frame);
  }
  BOOST_TEST(dir.files() == (std::vector<std::string>{"2.pcap", "3.pcap"}));
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFilesRemovedSize) == 1u);
  BOOST_TEST(writer.bytes_kept() == 912u);
  uint64_t on_disk = 0;
  for (const auto& name : dir.files()) {
    on_disk += std::filesystem::file_size(dir.path + "/" + name);
  }
  BOOST_TEST(on_disk == writer.bytes_kept());
  // Flow 3 alone: 456 + 216 × 2 = 888 fits, the third frame (1104) would pass 1000 alone.
  writer.write(packet_entry(3, 3, 200), frame);
  writer.write(packet_entry(3, 4, 200), frame);
  writer.write(packet_entry(3, 5, 200), frame);
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFramesOverSize) == 1u);
  BOOST_TEST(dir.files() == std::vector<std::string>{"3.pcap"});
  BOOST_TEST(read_pcap(dir.path + "/3.pcap").size() == 4u);
  // A small frame after it (an ACK: 888 + 16 + 10 would fit) is not written either: the file ends
  // at its first frame over the cap instead of going on with a hole in the stream.
  writer.write(packet_entry(3, 6, 10), frame_bytes(10, 4));
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFramesOverSize) == 2u);
  BOOST_TEST(read_pcap(dir.path + "/3.pcap").size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_file_that_exists_is_not_overwritten) {
  TempDir dir;
  {
    FILE* other = std::fopen((dir.path + "/5.pcap").c_str(), "w");
    std::fputs("not ours", other);
    std::fclose(other);
  }
  EvidenceWriterConfig config;
  config.directory = dir.path;
  EvidenceWriter writer(config);
  writer.write(packet_entry(5, 1, 10), frame_bytes(10, 1));
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kOpenErrors) == 1u);
  BOOST_TEST(writer.counters().get(EvidenceFileCounter::kFramesFileFailed) == 1u);
  BOOST_TEST(std::filesystem::file_size(dir.path + "/5.pcap") == 8u);
}

BOOST_AUTO_TEST_CASE(a_bad_directory_is_refused_with_its_name) {
  std::string error;
  BOOST_TEST(!EvidenceWriter::check_directory("/nonexistent/evidence", error));
  BOOST_TEST(error.find("/nonexistent/evidence") != std::string::npos);
  BOOST_TEST(!EvidenceWriter::check_directory("/etc/hostname", error));
  BOOST_TEST(error.find("not a directory") != std::string::npos);
  TempDir dir;
  BOOST_TEST(EvidenceWriter::check_directory(dir.path, error));
}

BOOST_AUTO_TEST_SUITE_END()
