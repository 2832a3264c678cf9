// reassembly_bench: the cost of out-of-order TCP segments as their number grows.
//
//   reassembly_bench [--sizes 10000,100000,1000000] [--json FILE]
//
// One flow's client direction receives N one-byte segments that never become in order, in three
// shapes an attacker can choose: ascending with a one-byte hole before each (each lands after the
// last held piece), descending (each lands before the first), and random positions in a window of
// 2N bytes (each lands among the held ones). The worker's default reassembly bounds apply
// (256 MiB pool, 2048 pieces and 1 MiB per direction), so past the bound every segment also
// gives up a hole. Prints, per shape and size, nanoseconds per segment; the time per segment
// should not grow with N. Timings are figures, not pass/fail.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "dataplane/flow/flow_table.h"
#include "dataplane/flow/tcp_stream.h"

namespace {

using namespace misdirect::dataplane;

class CountingSink final : public StreamSink {
 public:
  void on_stream_data(Flow&, misdirect::inspect::Direction, std::span<const uint8_t> bytes) noexcept override {
    delivered += bytes.size();
  }
  void on_stream_gap(Flow&, misdirect::inspect::Direction, uint64_t missing_bytes) noexcept override { gaps += missing_bytes; }
  void on_stream_end(Flow&, misdirect::inspect::Direction) noexcept override {}
  uint64_t delivered = 0;
  uint64_t gaps = 0;
};

std::vector<uint32_t> offsets(const std::string& shape, uint32_t count) {
  std::vector<uint32_t> out(count);
  if (shape == "ascending") {
    for (uint32_t i = 0; i < count; ++i) {
      out[i] = 2 + 2 * i;
    }
  } else if (shape == "descending") {
    for (uint32_t i = 0; i < count; ++i) {
      out[i] = 2 + 2 * (count - 1 - i);
    }
  } else {
    std::mt19937 random(count);
    for (uint32_t i = 0; i < count; ++i) {
      out[i] = 2 + static_cast<uint32_t>(random() % (2ull * count));
    }
  }
  return out;
}

struct Result {
  double ns_per_segment = 0;
  uint64_t pieces_in_use_at_end = 0;
  uint64_t gaps_memcap = 0;
};

Result run(const std::string& shape, uint32_t count) {
  TcpReassembler reassembler(TcpReassemblerConfig{});
  CountingSink sink;
  Flow flow;
  const uint64_t now = 1'700'000'000ull * 1'000'000'000ull;
  DecodedPacket packet;
  packet.ip_protocol = 6;
  packet.tcp_flags = kTcpSyn;
  packet.seq = 1000;
  reassembler.on_segment(flow, FlowEnd::kA, packet, now, sink);
  const std::vector<uint32_t> where = offsets(shape, count);
  static const uint8_t kByte = 'x';
  packet.tcp_flags = kTcpAck;
  packet.payload = &kByte;
  packet.payload_length = packet.captured_payload_length = 1;
  const auto start = std::chrono::steady_clock::now();
  for (const uint32_t offset : where) {
    packet.seq = 1000 + offset;
    reassembler.on_segment(flow, FlowEnd::kA, packet, now, sink);
  }
  const auto stop = std::chrono::steady_clock::now();
  Result result;
  result.ns_per_segment = std::chrono::duration<double, std::nano>(stop - start).count() / count;
  result.pieces_in_use_at_end = reassembler.pieces_in_use();
  result.gaps_memcap = reassembler.counters().get(ReassemblyCounter::kGapsMemcap);
  reassembler.release(flow);
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<uint32_t> sizes = {10'000, 100'000, 1'000'000};
  std::string json_path;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string arg = argv[i];
    if (arg == "--sizes") {
      sizes.clear();
      std::string list = argv[i + 1];
      for (std::size_t at = 0; at < list.size();) {
        const std::size_t comma = std::min(list.find(',', at), list.size());
        sizes.push_back(static_cast<uint32_t>(std::stoul(list.substr(at, comma - at))));
        at = comma + 1;
      }
    } else if (arg == "--json") {
      json_path = argv[i + 1];
    } else {
      std::fprintf(stderr, "reassembly_bench: unknown option %s\n", arg.c_str());
      return 2;
    }
  }
  std::string json = "{\"benchmark\":\"reassembly_out_of_order\",\"segment_bytes\":1,\"results\":[";
  bool first = true;
  for (const std::string shape : {"ascending", "descending", "random"}) {
    double smallest = 0;
    for (const uint32_t size : sizes) {
      const Result result = run(shape, size);
      if (smallest == 0) {
        smallest = result.ns_per_segment;
      }
      const double ratio = result.ns_per_segment / smallest;
      std::printf("%-10s %9u segments: %8.1f ns/segment (x%.2f of the smallest), %lu pieces held at end, "
                  "%lu holes given up at the piece bound\n",
                  shape.c_str(), size, result.ns_per_segment, ratio,
                  static_cast<unsigned long>(result.pieces_in_use_at_end),
                  static_cast<unsigned long>(result.gaps_memcap));
      char entry[320];
      std::snprintf(entry, sizeof(entry),
                    "%s{\"shape\":\"%s\",\"segments\":%u,\"ns_per_segment\":%.1f,\"ratio_to_smallest\":%.2f,"
                    "\"pieces_held_at_end\":%lu,\"gaps_memcap\":%lu}",
                    first ? "" : ",", shape.c_str(), size, result.ns_per_segment, ratio,
                    static_cast<unsigned long>(result.pieces_in_use_at_end),
                    static_cast<unsigned long>(result.gaps_memcap));
      json += entry;
      first = false;
    }
  }
  json += "]}\n";
  if (!json_path.empty()) {
    FILE* out = std::fopen(json_path.c_str(), "w");
    if (out == nullptr || std::fputs(json.c_str(), out) < 0 || std::fclose(out) != 0) {
      std::fprintf(stderr, "reassembly_bench: cannot write %s\n", json_path.c_str());
      return 1;
    }
  }
  return 0;
}
