// pipeline_bench: the packet path's own speed and memory, measured on packets preloaded in memory
// (the in-memory source), side by side with the ceiling of the same loop. Run by scripts/bench;
// never by the test suite (timings do not belong in tests).
//
//   pipeline_bench throughput --pcap F --protected F --json OUT [--workload NAME] [--passes N]
//                  [--burst N] [--limit N] [--mode all|ceiling|full1]
//       Per pass, in this order: the ceiling (the burst loop touching each packet's first cache
//       line only), the full Worker with 1 worker, and with 2 workers (2 threads; packets
//       pre-split by symmetric_flow_hash; each thread its own Worker and scratch). Medians of the
//       passes. Each pass builds fresh Workers, on the pages the first pass touched (WorkerArena,
//       below): only the first pass pays the kernel's first touches (`minor_faults` says how many).
//       `--mode ceiling|full1` with --passes 1 is for callgrind: both modes build the same
//       matcher and Worker, so subtracting one from the other leaves the per-packet work.
//   pipeline_bench flows --count N --json OUT
//       N concurrent TCP flows (one SYN each) through one Worker: RSS before/after, peak RSS,
//       bytes per flow (RSS delta / N, and the flow table's own reservation / its capacity).
//   pipeline_bench reassembly --pcap F --protected F --memcap BYTES --json OUT
//       One Worker over F with the given reassembly memcap: the reassembly pool's touched pages
//       (its high-water mark, from /proc/self/smaps) against the memcap, and the tcp counters.
//   pipeline_bench swap --pcap F --protected F --json OUT [--repeat N]
//       A control thread builds new matchers and publishes them while a worker thread processes F;
//       the worker rebinds between bursts. Packets offered vs processed (lost must be 0).
//   pipeline_bench compile --sizes 100,1000,10000 --json OUT
//       Matcher::build time for generated protected lists, exact tier and with edit distance.
#include <malloc.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <time.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <new>
#include <span>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "dataplane/output/stats_tree.h"
#include "dataplane/flow/flow_key.h"
#include "dataplane/flow/flow_table.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/decode/packet_view.h"
#include "dataplane/pcap_source.h"
#include "dataplane/output/record_sink.h"
#include "dataplane/worker.h"
#include "inspect/domain_lists.h"
#include "inspect/matcher.h"

// Two things here replace the global allocation functions.
//
// The reassembly measurement needs the address of the Worker's reassembly pool, which the Worker
// does not expose: the one array allocation of exactly the pool's size is remembered.
//
// The throughput measurement builds a fresh Worker for every pass, and glibc does not put a new
// Worker's gigabytes of (mostly untouched) tables where the last one's were: each pass would touch
// fresh pages, and the kernel's first touches (about 60,000 minor faults a pass on the enterprise
// mix, several microseconds each on this VM) would be most of what a pass measures. So a Worker is
// built inside the WorkerArena: one reserved region, handed out by a bump pointer while
// `g_arena_active` is set, never returned to the kernel, and rewound when the pass's Worker is gone.
// Every pass's Worker then lies on the same pages, which the first pass touched: the first pass
// is the cold one (reported as such), the others measure a warm sensor, as a long-running one is.
// Nothing the Worker does changes; only where its memory comes from.
namespace {
std::atomic<std::size_t> g_watched_size{0};
std::atomic<void*> g_watched_block{nullptr};

class WorkerArena {
 public:
  // Virtual space only (MAP_NORESERVE): pages cost memory once touched. Two default Workers
  // reserve about 10 GiB of tables between them.
  static constexpr std::size_t kReservedBytes = std::size_t{16} << 30;

  // nullptr when the region cannot be had (valgrind, say, or a ulimit) or is full: the caller then
  // allocates as usual, which changes where the memory is, not what the Worker does.
  void* allocate(std::size_t size, std::size_t alignment) noexcept {
    if (base_ == nullptr && !failed_) {
      void* region = mmap(nullptr, kReservedBytes, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      failed_ = region == MAP_FAILED;
      base_ = failed_ ? nullptr : static_cast<std::byte*>(region);
    }
    const std::size_t start = (used_ + alignment - 1) & ~(alignment - 1);
    if (base_ == nullptr || start + size > kReservedBytes) {
      return nullptr;
    }
    used_ = start + size;
    return base_ + start;
  }
  bool owns(const void* block) const noexcept {
    const auto* byte = static_cast<const std::byte*>(block);
    return base_ != nullptr && byte >= base_ && byte < base_ + kReservedBytes;
  }
  // Only once nothing handed out is in use any more.
  void rewind() noexcept { used_ = 0; }

 private:
  std::byte* base_ = nullptr;
  bool failed_ = false;
  std::size_t used_ = 0;
};

WorkerArena g_arena;
std::atomic<bool> g_arena_active{false};  // set only while the main thread builds Workers, alone

void* allocate(std::size_t size, std::size_t alignment) {
  if (size == 0) {
    size = 1;
  }
  void* block = nullptr;
  if (g_arena_active.load(std::memory_order_relaxed)) {
    block = g_arena.allocate(size, std::max(alignment, alignof(std::max_align_t)));
  }
  if (block != nullptr) {
    return block;
  }
  if (alignment <= alignof(std::max_align_t)) {
    block = std::malloc(size);
  } else {
    block = std::aligned_alloc(alignment, (size + alignment - 1) & ~(alignment - 1));
  }
  if (block == nullptr) {
    throw std::bad_alloc();
  }
  return block;
}

void release(void* block) noexcept {
  if (!g_arena.owns(block)) {  // the arena's blocks go back all at once, by rewind()
    std::free(block);
  }
}
}  // namespace

void* operator new(std::size_t size) { return allocate(size, alignof(std::max_align_t)); }
void* operator new(std::size_t size, std::align_val_t alignment) {
  return allocate(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size, std::align_val_t alignment) {
  return allocate(size, static_cast<std::size_t>(alignment));
}
void* operator new[](std::size_t size) {
  void* block = allocate(size, alignof(std::max_align_t));
  if (size == g_watched_size.load(std::memory_order_relaxed)) {
    g_watched_block.store(block, std::memory_order_relaxed);
  }
  return block;
}

void operator delete(void* block) noexcept { release(block); }
void operator delete(void* block, std::size_t) noexcept { release(block); }
void operator delete(void* block, std::align_val_t) noexcept { release(block); }
void operator delete(void* block, std::size_t, std::align_val_t) noexcept { release(block); }
void operator delete[](void* block) noexcept { release(block); }
void operator delete[](void* block, std::size_t) noexcept { release(block); }
void operator delete[](void* block, std::align_val_t) noexcept { release(block); }
void operator delete[](void* block, std::size_t, std::align_val_t) noexcept { release(block); }

namespace {

using misdirect::dataplane::PacketView;
using misdirect::dataplane::RecordSink;
using misdirect::dataplane::RecordType;
using misdirect::dataplane::Worker;
using misdirect::dataplane::WorkerConfig;
using misdirect::inspect::DomainLists;
using misdirect::inspect::Matcher;
using misdirect::inspect::MatcherOptions;
using misdirect::inspect::MatcherScratch;
using Clock = std::chrono::steady_clock;

[[noreturn]] void fail(const std::string& message) {
  std::fprintf(stderr, "pipeline_bench: %s\n", message.c_str());
  std::exit(1);
}

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// CPU time of the calling thread: on a machine shared with other work, wall time also counts the
// time this thread waited for a core; CPU time is what one worker core spent.
double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Counts records instead of writing them: the worker still formats every one.
class CountingSink final : public RecordSink {
 public:
  bool on_record(RecordType type, std::string_view json_line) noexcept override {
    ++counts_[static_cast<std::size_t>(type)];
    bytes_ += json_line.size();
    return true;
  }
  uint64_t count(RecordType type) const { return counts_[static_cast<std::size_t>(type)]; }

 private:
  uint64_t counts_[4] = {0, 0, 0, 0};
  uint64_t bytes_ = 0;
};

// The capture, read once into one arena: each frame starts on a cache line, as in an mbuf.
struct LoadedCapture {
  std::vector<uint8_t> arena;
  std::vector<PacketView> packets;
  uint64_t wire_bytes = 0;
  double load_seconds = 0;
};

LoadedCapture load(const std::string& path, uint64_t limit) {
  LoadedCapture capture;
  const auto start = Clock::now();
  std::string error;
  auto source = misdirect::dataplane::PcapSource::open(path, error);
  if (!source) {
    fail(error);
  }
  std::vector<uint64_t> offsets;
  PacketView packet;
  while ((limit == 0 || capture.packets.size() < limit) && source->next(packet)) {
    const std::size_t offset = (capture.arena.size() + 63) & ~std::size_t{63};
    capture.arena.resize(offset + packet.captured_length);
    std::memcpy(capture.arena.data() + offset, packet.data, packet.captured_length);
    offsets.push_back(offset);
    capture.packets.push_back(packet);
    capture.wire_bytes += packet.wire_length;
  }
  if (!source->error().empty()) {
    fail(source->error());
  }
  for (std::size_t i = 0; i < capture.packets.size(); ++i) {
    capture.packets[i].data = capture.arena.data() + offsets[i];
  }
  capture.load_seconds = seconds_since(start);
  return capture;
}

std::unique_ptr<const Matcher> build_matcher(const std::string& protected_path) {
  const auto list = misdirect::inspect::read_domain_list_file(protected_path);
  if (!list.ok()) {
    fail(list.error);
  }
  DomainLists lists;
  lists.protected_domains = list.domains;
  auto built = Matcher::build(lists, MatcherOptions{});
  if (!built.matcher) {
    fail(built.error);
  }
  return std::move(built.matcher);
}

// The one burst loop every measurement shares: the source is the preloaded view array.
template <typename Consume>
void burst_loop(std::span<const PacketView> packets, std::size_t burst, Consume&& consume) {
  for (std::size_t i = 0; i < packets.size(); i += burst) {
    consume(packets.subspan(i, std::min(burst, packets.size() - i)));
  }
}

// The ceiling's per-packet work: read the first cache line (as a decoder's first load would) and
// let the packet go.
uint64_t touch_first_line(std::span<const PacketView> burst) noexcept {
  uint64_t sum = 0;
  for (const PacketView& packet : burst) {
    uint64_t word;
    std::memcpy(&word, packet.data, sizeof(word));
    sum += word ^ packet.captured_length;
  }
  return sum;
}

// Minor page faults of the calling thread so far: the kernel's first touches of memory.
double thread_minor_faults() {
  rusage usage{};
  getrusage(RUSAGE_THREAD, &usage);
  return static_cast<double>(usage.ru_minflt);
}

double median(std::vector<double> values) {
  std::sort(values.begin(), values.end());
  const std::size_t n = values.size();
  return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

struct Stat {
  std::vector<double> seconds;
  std::vector<double> cpu_seconds;  // 2 workers: the busier thread's
  std::vector<double> minor_faults;  // during the timed loop (1 worker)
  Worker::Totals totals;
  uint64_t alerts_records = 0;
  uint64_t smtp_records = 0;
  double finish_seconds = 0;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A number from a "Key:   N kB" line of /proc/self/status, in bytes.
uint64_t status_bytes(const char* key) {
  std::istringstream in(read_file("/proc/self/status"));
  std::string line;
  const std::string prefix = std::string(key) + ":";
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) {
      return std::strtoull(line.c_str() + prefix.size(), nullptr, 10) * 1024;
    }
  }
  return 0;
}

// A counter from the worker's stats JSON ("name":value), or -1.
// A number of a worker's stats tree by its path ("stats.flow.active"), or -1 when absent.
long long stats_value(const misdirect::dataplane::StatsNode& tree, std::string_view path) {
  const misdirect::dataplane::StatsNode* node = tree.find_path(path);
  return node != nullptr ? static_cast<long long>(node->count()) : -1;
}

std::string json_escape(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
    }
    out += c;
  }
  return out;
}

struct Args {
  std::string command;
  std::map<std::string, std::string> values;
  std::string get(const std::string& key, const std::string& fallback = "") const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : it->second;
  }
  uint64_t number(const std::string& key, uint64_t fallback) const {
    const auto it = values.find(key);
    return it == values.end() ? fallback : std::strtoull(it->second.c_str(), nullptr, 10);
  }
  std::string required(const std::string& key) const {
    const auto it = values.find(key);
    if (it == values.end()) {
      fail(command + ": --" + key + " is required");
    }
    return it->second;
  }
};

void write_json(const std::string& path, const std::string& json) {
  std::FILE* out = std::fopen(path.c_str(), "w");
  if (out == nullptr) {
    fail("cannot write " + path);
  }
  std::fputs(json.c_str(), out);
  std::fputc('\n', out);
  std::fclose(out);
  std::fputs(json.c_str(), stdout);
  std::fputc('\n', stdout);
}

std::string load_average() {
  std::string text = read_file("/proc/loadavg");
  return text.substr(0, text.find(' '));
}

// ---- throughput ---------------------------------------------------------------------------------

struct WorkerRun {
  std::unique_ptr<CountingSink> sink;
  std::unique_ptr<Worker> worker;
  MatcherScratch scratch;
};

// --no-dns 1: DNS ports off, so UDP to port 53 is only counted, as before DNS was parsed (the
// baseline of the DNS side-by-side measurement in scripts/bench).
bool g_no_dns = false;

WorkerRun make_worker(const Matcher& matcher, uint32_t id) {
  WorkerRun run;
  run.sink = std::make_unique<CountingSink>();
  WorkerConfig config;
  config.worker_id = id;
  if (g_no_dns) {
    config.dns_ports.clear();
  }
  run.worker = std::make_unique<Worker>(config, *run.sink);
  run.scratch = matcher.make_scratch();
  run.worker->bind_matcher({&matcher, &run.scratch, 1});
  return run;
}

// What `build` returns, built inside the WorkerArena (see the top of the file), rewound first: every
// Worker built there before must be gone.
template <typename Build>
auto in_arena(Build&& build) {
  g_arena.rewind();
  g_arena_active.store(true, std::memory_order_relaxed);
  auto made = build();
  g_arena_active.store(false, std::memory_order_relaxed);
  return made;
}

uint64_t last_timestamp(std::span<const PacketView> packets) {
  return packets.empty() ? 0 : packets.back().timestamp_ns;
}

int throughput(const Args& args) {
  // Each pass's fresh Workers are built in the WorkerArena, on the pages the first pass touched:
  // the median measures a warm sensor; the first pass is reported as cold.
  const std::string mode = args.get("mode", "all");
  g_no_dns = args.get("no-dns", "0") == "1";
  const std::size_t passes = args.number("passes", 5);
  const std::size_t burst = args.number("burst", 32);
  const std::string workload = args.get("workload", "");
  LoadedCapture capture = load(args.required("pcap"), args.number("limit", 0));
  const auto matcher = build_matcher(args.required("protected"));
  const std::span<const PacketView> all(capture.packets);

  // The software fan-out of the live sensor, done once up front: both directions of a flow go to
  // one worker.
  std::vector<PacketView> split[2];
  {
    misdirect::dataplane::PacketDecoder decoder{misdirect::dataplane::DecoderConfig{}};
    misdirect::dataplane::DecodedPacket decoded;
    for (const PacketView& packet : capture.packets) {
      const auto result = decoder.decode(packet, decoded);
      const bool has_tuple = result == misdirect::dataplane::DecodeResult::kTcp ||
                             result == misdirect::dataplane::DecodeResult::kOtherIp;
      const uint64_t hash = has_tuple ? misdirect::dataplane::symmetric_flow_hash(decoded) : 0;
      split[hash & 1].push_back(packet);
    }
  }

  Stat ceiling, one, two;
  volatile uint64_t ceiling_sink = 0;
  misdirect::dataplane::StatsNode worker_stats;
  bool have_worker_stats = false;
  for (std::size_t pass = 0; pass < passes; ++pass) {
    if (mode == "all" || mode == "ceiling") {
      // The ceiling builds what the full run builds, so callgrind runs differ only in the loop.
      WorkerRun unused =
          mode == "ceiling" ? in_arena([&] { return make_worker(*matcher, 0); }) : WorkerRun{};
      const auto start = Clock::now();
      const double cpu_start = thread_cpu_seconds();
      uint64_t sum = 0;
      burst_loop(all, burst, [&](std::span<const PacketView> b) { sum += touch_first_line(b); });
      ceiling.cpu_seconds.push_back(thread_cpu_seconds() - cpu_start);
      ceiling.seconds.push_back(seconds_since(start));
      ceiling_sink = ceiling_sink + sum;
      if (unused.worker) {
        unused.worker->finish(last_timestamp(all));
      }
    }
    if (mode == "all" || mode == "full1") {
      WorkerRun run = in_arena([&] { return make_worker(*matcher, 0); });
      const auto start = Clock::now();
      const double cpu_start = thread_cpu_seconds();
      const double faults_start = thread_minor_faults();
      burst_loop(all, burst, [&](std::span<const PacketView> b) { run.worker->process_burst(b); });
      one.cpu_seconds.push_back(thread_cpu_seconds() - cpu_start);
      one.minor_faults.push_back(thread_minor_faults() - faults_start);
      one.seconds.push_back(seconds_since(start));
      const auto finish_start = Clock::now();
      run.worker->finish(last_timestamp(all));
      one.finish_seconds = seconds_since(finish_start);
      one.totals = run.worker->totals();
      one.alerts_records = run.sink->count(RecordType::kAlert);
      one.smtp_records = run.sink->count(RecordType::kSmtp);
      if (pass + 1 == passes) {
        worker_stats = misdirect::dataplane::StatsNode();
        run.worker->collect_stats(worker_stats);
        have_worker_stats = true;
      }
    }
    if (mode == "all") {
      auto runs = in_arena([&] { return std::array<WorkerRun, 2>{make_worker(*matcher, 0), make_worker(*matcher, 1)}; });
      std::atomic<int> ready{0};
      std::atomic<bool> go{false};
      double elapsed[2] = {0, 0};
      double cpu[2] = {0, 0};
      auto body = [&](int i) {
        ready.fetch_add(1);
        while (!go.load(std::memory_order_acquire)) {
        }
        const auto start = Clock::now();
        const double cpu_start = thread_cpu_seconds();
        burst_loop(split[i], burst, [&](std::span<const PacketView> b) { runs[i].worker->process_burst(b); });
        cpu[i] = thread_cpu_seconds() - cpu_start;
        elapsed[i] = seconds_since(start);
      };
      std::thread second(body, 1);
      while (ready.load() < 1) {
      }
      go.store(true, std::memory_order_release);
      body(0);
      second.join();
      // Both started together; the pass lasts until the slower worker is done.
      two.seconds.push_back(std::max(elapsed[0], elapsed[1]));
      two.cpu_seconds.push_back(std::max(cpu[0], cpu[1]));
      Worker::Totals total;
      for (int i = 0; i < 2; ++i) {
        runs[i].worker->finish(last_timestamp(split[i]));
        const auto t = runs[i].worker->totals();
        total.packets += t.packets;
        total.bytes += t.bytes;
        total.alerts += t.alerts;
        total.records_dropped += t.records_dropped;
      }
      two.totals = total;
      two.alerts_records = runs[0].sink->count(RecordType::kAlert) + runs[1].sink->count(RecordType::kAlert);
      two.smtp_records = runs[0].sink->count(RecordType::kSmtp) + runs[1].sink->count(RecordType::kSmtp);
    }
  }

  const double packets = static_cast<double>(capture.packets.size());
  const double bits = static_cast<double>(capture.wire_bytes) * 8;
  auto figures = [&](const char* name, const Stat& stat) {
    if (stat.seconds.empty()) {
      return std::string();
    }
    const double s = median(stat.seconds);
    char buffer[512];
    std::snprintf(buffer, sizeof(buffer),
                  "\"%s\":{\"median_seconds\":%.6f,\"min_seconds\":%.6f,\"max_seconds\":%.6f,"
                  "\"first_pass_seconds\":%.6f,\"packets_per_second\":%.0f,\"gbit_per_second\":%.3f,"
                  "\"ns_per_packet\":%.2f",
                  name, s, *std::min_element(stat.seconds.begin(), stat.seconds.end()),
                  *std::max_element(stat.seconds.begin(), stat.seconds.end()), stat.seconds.front(),
                  packets / s, bits / s / 1e9, s * 1e9 / packets);
    std::string out = buffer;
    const double c = median(stat.cpu_seconds);
    std::snprintf(buffer, sizeof(buffer),
                  ",\"cpu\":{\"median_seconds\":%.6f,\"packets_per_second\":%.0f,\"gbit_per_second\":%.3f,"
                  "\"ns_per_packet\":%.2f}",
                  c, packets / c, bits / c / 1e9, c * 1e9 / packets);
    out += buffer;
    if (!stat.minor_faults.empty()) {
      std::snprintf(buffer, sizeof(buffer), ",\"minor_faults\":{\"median\":%.0f,\"first_pass\":%.0f}",
                    median(stat.minor_faults), stat.minor_faults.front());
      out += buffer;
    }
    if (stat.totals.packets != 0) {
      std::snprintf(buffer, sizeof(buffer),
                    ",\"packets_processed\":%llu,\"alerts\":%llu,\"alert_records\":%llu,"
                    "\"smtp_records\":%llu,\"records_dropped\":%llu,\"finish_seconds\":%.6f",
                    static_cast<unsigned long long>(stat.totals.packets),
                    static_cast<unsigned long long>(stat.totals.alerts),
                    static_cast<unsigned long long>(stat.alerts_records),
                    static_cast<unsigned long long>(stat.smtp_records),
                    static_cast<unsigned long long>(stat.totals.records_dropped), stat.finish_seconds);
      out += buffer;
    }
    return out + "}";
  };

  std::string json = "{\"benchmark\":\"pipeline_throughput\",\"workload\":\"" + json_escape(workload) +
                     "\",\"pcap\":\"" + json_escape(args.required("pcap")) + "\",\"mode\":\"" + mode +
                     "\",\"packets\":" + std::to_string(capture.packets.size()) +
                     ",\"wire_bytes\":" + std::to_string(capture.wire_bytes) +
                     ",\"mean_frame_bytes\":" + std::to_string(capture.wire_bytes / std::max<std::size_t>(1, capture.packets.size())) +
                     ",\"passes\":" + std::to_string(passes) + ",\"burst\":" + std::to_string(burst) +
                     ",\"split_packets\":[" + std::to_string(split[0].size()) + "," + std::to_string(split[1].size()) +
                     "],\"load_seconds\":" + std::to_string(capture.load_seconds) +
                     ",\"loadavg_1min_at_end\":" + load_average() +
                     ",\"ceiling_checksum\":" + std::to_string(ceiling_sink % 1000);
  for (const auto& [name, stat] : {std::pair<const char*, const Stat*>{"ceiling", &ceiling},
                                   {"one_worker", &one}, {"two_workers", &two}}) {
    const std::string part = figures(name, *stat);
    if (!part.empty()) {
      json += "," + part;
    }
  }
  if (!ceiling.seconds.empty() && !one.seconds.empty()) {
    json += ",\"one_worker_fraction_of_ceiling\":" + std::to_string(median(ceiling.seconds) / median(one.seconds));
  }
  if (!ceiling.seconds.empty() && !two.seconds.empty()) {
    json += ",\"two_workers_fraction_of_ceiling\":" + std::to_string(median(ceiling.seconds) / median(two.seconds));
  }
  if (!ceiling.seconds.empty() && !one.seconds.empty()) {
    json += ",\"one_worker_fraction_of_ceiling_cpu\":" +
            std::to_string(median(ceiling.cpu_seconds) / median(one.cpu_seconds));
  }
  if (!one.seconds.empty() && !two.seconds.empty()) {
    json += ",\"two_worker_scaling\":" + std::to_string(median(one.seconds) / median(two.seconds));
    // What 2 workers would do each on a core of its own: the busier thread's CPU time bounds it.
    json += ",\"two_worker_scaling_cpu\":" + std::to_string(median(one.cpu_seconds) / median(two.cpu_seconds));
  }
  if (have_worker_stats) {
    json += ",\"worker_stats\":";
    misdirect::dataplane::write_stats_json(worker_stats, json);
  }
  json += "}";
  write_json(args.required("json"), json);
  return 0;
}

// ---- flows ----------------------------------------------------------------------------------------

void put16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void put32(uint8_t* p, uint32_t v) {
  put16(p, static_cast<uint16_t>(v >> 16));
  put16(p + 2, static_cast<uint16_t>(v));
}

int flows(const Args& args) {
  const uint32_t count = static_cast<uint32_t>(args.number("count", 1000000));
  constexpr uint32_t kFrame = 64;
  std::vector<uint8_t> arena(std::size_t{count} * kFrame);
  std::vector<PacketView> packets(count);
  const uint64_t start_ns = 1767225600ull * 1'000'000'000;
  for (uint32_t i = 0; i < count; ++i) {
    uint8_t* f = arena.data() + std::size_t{i} * kFrame;
    std::memset(f, 0, kFrame);
    put16(f + 12, 0x0800);
    uint8_t* ip = f + 14;
    ip[0] = 0x45;
    put16(ip + 2, 40);
    ip[8] = 64;
    ip[9] = 6;
    put32(ip + 12, 0x0a000000u + i / 50000);  // 20 ports-worth of clients per address
    put32(ip + 16, 0xc0a80101u);
    uint8_t* tcp = ip + 20;
    put16(tcp, static_cast<uint16_t>(10000 + i % 50000));
    put16(tcp + 2, 443);
    put32(tcp + 4, i * 7919u);
    tcp[12] = 0x50;
    tcp[13] = 0x02;  // SYN
    put16(tcp + 14, 65535);
    packets[i] = PacketView{f, 60, 60, start_ns + uint64_t{i} * 1000, misdirect::dataplane::LinkType::kEthernet};
  }
  const uint64_t rss_before = status_bytes("VmRSS");
  CountingSink sink;
  WorkerConfig config;
  auto worker = std::make_unique<Worker>(config, sink);
  const uint64_t rss_constructed = status_bytes("VmRSS");
  burst_loop(packets, 32, [&](std::span<const PacketView> b) { worker->process_burst(b); });
  const uint64_t rss_after = status_bytes("VmRSS");
  misdirect::dataplane::StatsNode stats;
  worker->collect_stats(stats);
  const long long active = stats_value(stats, "stats.flow.active");
  const long long evicted = stats_value(stats, "misdirect.flow.flows_evicted");

  misdirect::dataplane::FlowTableConfig table_config;
  table_config.max_flows = config.max_flows;
  const std::size_t table_bytes = misdirect::dataplane::FlowTable(table_config).memory_bytes();

  char buffer[1024];
  std::snprintf(buffer, sizeof(buffer),
                "{\"benchmark\":\"flow_memory\",\"flows_offered\":%u,\"flows_active\":%lld,"
                "\"flows_evicted\":%lld,\"max_flows\":%u,\"rss_before_worker_bytes\":%llu,"
                "\"rss_worker_constructed_bytes\":%llu,\"rss_after_flows_bytes\":%llu,"
                "\"peak_rss_bytes\":%llu,\"rss_delta_bytes\":%llu,\"bytes_per_flow_rss\":%.1f,"
                "\"flow_table_reserved_bytes\":%zu,\"flow_table_bytes_per_flow\":%.1f}",
                count, active, evicted, config.max_flows,
                static_cast<unsigned long long>(rss_before),
                static_cast<unsigned long long>(rss_constructed),
                static_cast<unsigned long long>(rss_after),
                static_cast<unsigned long long>(status_bytes("VmHWM")),
                static_cast<unsigned long long>(rss_after - rss_before),
                static_cast<double>(rss_after - rss_before) / std::max<long long>(1, active), table_bytes,
                static_cast<double>(table_bytes) / config.max_flows);
  write_json(args.required("json"), buffer);
  return 0;
}

// ---- reassembly memory ------------------------------------------------------------------------------

// Resident bytes of [block, block + bytes): whole pages inside it that mincore reports resident.
long long resident_bytes(const void* block, uint64_t bytes) {
  if (block == nullptr) {
    return -1;
  }
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t begin = (reinterpret_cast<uintptr_t>(block) + page - 1) & ~(page - 1);
  const uintptr_t end = (reinterpret_cast<uintptr_t>(block) + bytes) & ~(page - 1);
  if (end <= begin) {
    return 0;
  }
  std::vector<unsigned char> pages((end - begin) / page);
  if (mincore(reinterpret_cast<void*>(begin), end - begin, pages.data()) != 0) {
    return -1;
  }
  long long resident = 0;
  for (const unsigned char p : pages) {
    resident += (p & 1) ? static_cast<long long>(page) : 0;
  }
  return resident;
}

int reassembly(const Args& args) {
  // Allocations over 32 KiB get fresh mappings, so the pool's pages are untouched until used.
  mallopt(M_MMAP_THRESHOLD, 32 * 1024);
  const uint64_t memcap = args.number("memcap", (200ull << 20) + 3072);
  LoadedCapture capture = load(args.required("pcap"), args.number("limit", 0));
  const auto matcher = build_matcher(args.required("protected"));
  CountingSink sink;
  WorkerConfig config;
  config.reassembly_memcap_bytes = memcap;
  const uint64_t rss_before = status_bytes("VmRSS");
  const uint64_t pool_bytes = memcap / 1024 * 1024;
  g_watched_size.store(pool_bytes);
  auto worker = std::make_unique<Worker>(config, sink);
  g_watched_size.store(0);
  MatcherScratch scratch = matcher->make_scratch();
  worker->bind_matcher({matcher.get(), &scratch, 1});
  const void* pool = g_watched_block.load();
  const long long pool_rss_start = resident_bytes(pool, pool_bytes);
  burst_loop(capture.packets, 32, [&](std::span<const PacketView> b) { worker->process_burst(b); });
  // Pages of the pool are touched in order as pieces are first used: the touched size is the
  // high-water mark of held pieces (each holds up to 1 KiB of one segment).
  const long long pool_rss = resident_bytes(pool, pool_bytes);
  const uint64_t rss_after = status_bytes("VmRSS");
  worker->finish(last_timestamp(capture.packets));
  misdirect::dataplane::StatsNode stats;
  worker->collect_stats(stats);
  std::string json = "{\"benchmark\":\"reassembly_memory\",\"pcap\":\"" + json_escape(args.required("pcap")) +
                     "\",\"packets\":" + std::to_string(capture.packets.size()) +
                     ",\"memcap_bytes\":" + std::to_string(memcap) +
                     ",\"pool_bytes\":" + std::to_string(pool_bytes) +
                     ",\"pool_touched_bytes_at_start\":" + std::to_string(pool_rss_start) +
                     ",\"pool_touched_bytes_peak\":" + std::to_string(pool_rss) +
                     ",\"within_memcap\":" + (pool_rss >= 0 && static_cast<uint64_t>(pool_rss) <= memcap ? "true" : "false") +
                     ",\"rss_worker_delta_bytes\":" + std::to_string(rss_after - rss_before) +
                     ",\"peak_rss_bytes\":" + std::to_string(status_bytes("VmHWM"));
  for (const char* name : {"tcp_segments_held", "tcp_bytes_held", "tcp_bytes_from_held", "tcp_retransmissions",
                           "tcp_overlaps", "tcp_gaps", "tcp_gaps_memcap", "tcp_memcap_drops",
                           "tcp_memcap_bytes_dropped", "tcp_stream_memcap_drops"}) {
    // The benchmark's own keys keep the counters' table names; the tree has Suricata's for three.
    const std::string_view counter(name);
    const std::string path = counter == "tcp_gaps"           ? "stats.tcp.reassembly_gap"
                             : counter == "tcp_memcap_drops" ? "stats.tcp.segment_memcap_drop"
                             : counter == "tcp_overlaps"     ? "stats.tcp.overlap"
                                                             : "misdirect.tcp." + std::string(name);
    json += ",\"" + std::string(name) + "\":" + std::to_string(stats_value(stats, path));
  }
  json += ",\"flows_created\":" + std::to_string(stats_value(stats, "stats.flow.tcp"));
  json += ",\"flows_evicted\":" + std::to_string(stats_value(stats, "misdirect.flow.flows_evicted"));
  json += ",\"alerts\":" + std::to_string(worker->totals().alerts) + "}";
  write_json(args.required("json"), json);
  return 0;
}

// ---- matcher swap under load ---------------------------------------------------------------------

struct Published {
  std::unique_ptr<const Matcher> matcher;
  MatcherScratch scratch;  // the worker's scratch for this matcher
  uint64_t generation = 0;
};

int swap(const Args& args) {
  LoadedCapture capture = load(args.required("pcap"), args.number("limit", 0));
  const std::size_t repeat = args.number("repeat", 3);
  const auto list = misdirect::inspect::read_domain_list_file(args.required("protected"));
  if (!list.ok()) {
    fail(list.error);
  }
  // Two lists to alternate between: the protected list, and the same without its last domain.
  // Exact tier only, so that builds are short and many swaps happen during the run.
  DomainLists lists[2];
  lists[0].protected_domains = list.domains;
  lists[1].protected_domains = list.domains;
  if (lists[1].protected_domains.size() > 1) {
    lists[1].protected_domains.pop_back();
  }
  const MatcherOptions options{false};

  std::atomic<Published*> slot{nullptr};
  std::atomic<uint64_t> acknowledged{0};
  std::atomic<bool> done{false};
  auto first = std::make_unique<Published>();
  first->matcher = std::move(Matcher::build(lists[0], options).matcher);
  first->scratch = first->matcher->make_scratch();
  first->generation = 1;
  slot.store(first.get());

  CountingSink sink;
  Worker worker(WorkerConfig{}, sink);
  uint64_t offered = 0;
  uint64_t rebinds = 0;
  double worker_seconds = 0;
  std::thread data([&] {
    uint64_t bound = 0;
    const auto start = Clock::now();
    for (std::size_t r = 0; r < repeat; ++r) {
      burst_loop(capture.packets, 32, [&](std::span<const PacketView> b) {
        // Between bursts: pick up a newly published matcher, then say so (the quiescent point).
        Published* current = slot.load(std::memory_order_acquire);
        if (current->generation != bound) {
          worker.bind_matcher({current->matcher.get(), &current->scratch, current->generation});
          bound = current->generation;
          ++rebinds;
          acknowledged.store(bound, std::memory_order_release);
        }
        offered += b.size();
        worker.process_burst(b);
      });
    }
    worker_seconds = seconds_since(start);
    done.store(true);
  });

  // Control: build, publish with one store, free the old one once the worker has moved past it.
  std::vector<double> build_ms;
  std::unique_ptr<Published> live = std::move(first);
  uint64_t generation = 1;
  while (!done.load()) {
    const auto start = Clock::now();
    auto next = std::make_unique<Published>();
    auto built = Matcher::build(lists[generation % 2], options);
    if (!built.matcher) {
      fail(built.error);
    }
    next->matcher = std::move(built.matcher);
    next->scratch = next->matcher->make_scratch();
    next->generation = ++generation;
    build_ms.push_back(seconds_since(start) * 1e3);
    slot.store(next.get(), std::memory_order_release);
    while (acknowledged.load(std::memory_order_acquire) != generation && !done.load()) {
      std::this_thread::yield();
    }
    if (done.load()) {
      data.join();  // the worker no longer reads `live`: it is freed with `next` kept
      live = std::move(next);
      break;
    }
    live = std::move(next);  // the previous one is freed: the worker acknowledged the new one
  }
  if (data.joinable()) {
    data.join();
  }
  worker.finish(last_timestamp(capture.packets));
  const uint64_t processed = worker.totals().packets;
  char buffer[768];
  std::snprintf(buffer, sizeof(buffer),
                "{\"benchmark\":\"matcher_swap\",\"pcap\":\"%s\",\"passes\":%zu,\"packets_offered\":%llu,"
                "\"packets_processed\":%llu,\"packets_lost\":%lld,\"matchers_published\":%llu,"
                "\"worker_rebinds\":%llu,\"median_build_ms\":%.2f,\"worker_seconds\":%.3f,\"alerts\":%llu}",
                json_escape(args.required("pcap")).c_str(), repeat,
                static_cast<unsigned long long>(offered), static_cast<unsigned long long>(processed),
                static_cast<long long>(offered) - static_cast<long long>(processed),
                static_cast<unsigned long long>(generation - 1), static_cast<unsigned long long>(rebinds),
                build_ms.empty() ? 0.0 : median(build_ms), worker_seconds,
                static_cast<unsigned long long>(worker.totals().alerts));
  write_json(args.required("json"), buffer);
  return 0;
}

// ---- compile time ----------------------------------------------------------------------------------

// Deterministic protected lists: "<syllables><n>.<suffix>", like the matcher bench's.
std::vector<std::string> generated_list(std::size_t size) {
  static const char* const kSyllables[] = {"ar", "my", "na", "vy", "ex", "am", "ple", "bank",
                                           "mod", "gov", "tra", "de", "fin", "sec", "def", "en",
                                           "ce", "hq", "lo", "gis", "tic", "post", "al", "fed"};
  static const char* const kSuffixes[] = {"com", "mil", "gov", "org", "gov.uk", "co.uk", "net",
                                          "de", "fr", "com.au"};
  uint64_t state = size * 0x9e3779b97f4a7c15ull + 1;
  auto next = [&](uint32_t n) {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(state >> 33) % n;
  };
  std::vector<std::string> out;
  while (out.size() < size) {
    std::string word;
    const uint32_t parts = 2 + next(3);
    for (uint32_t i = 0; i < parts; ++i) {
      word += kSyllables[next(std::size(kSyllables))];
    }
    out.push_back(word + std::to_string(out.size()) + "." + kSuffixes[next(std::size(kSuffixes))]);
  }
  return out;
}

int compile(const Args& args) {
  std::vector<std::size_t> sizes;
  const std::string text = args.get("sizes", "100,1000,10000");
  for (const char* p = text.c_str(); *p != '\0';) {
    char* end = nullptr;
    sizes.push_back(std::strtoull(p, &end, 10));
    p = *end == ',' ? end + 1 : end;
  }
  const uint64_t edit_limit = args.number("edit-up-to", 10000);
  std::string json = "{\"benchmark\":\"matcher_compile\",\"rows\":[";
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    DomainLists lists;
    lists.protected_domains = generated_list(sizes[i]);
    std::string row = "{\"protected\":" + std::to_string(sizes[i]);
    for (const bool edit : {false, true}) {
      const char* tier = edit ? "with_edit_distance" : "exact";
      if (edit && sizes[i] > edit_limit) {
        row += ",\"" + std::string(tier) + "\":null";
        continue;
      }
      const auto start = Clock::now();
      auto built = Matcher::build(lists, MatcherOptions{edit});
      const double wall_ms = seconds_since(start) * 1e3;
      if (!built.matcher) {
        fail(built.error);
      }
      char buffer[256];
      std::snprintf(buffer, sizeof(buffer),
                    ",\"%s\":{\"build_ms\":%.1f,\"patterns\":%zu,\"database_bytes\":%zu}",
                    tier, wall_ms, built.matcher->pattern_count(),
                    built.matcher->database_bytes());
      row += buffer;
      std::fprintf(stderr, "compile %zu %s: %.1f ms\n", sizes[i], tier, wall_ms);
    }
    json += row + "}" + (i + 1 < sizes.size() ? "," : "");
  }
  json += "]}";
  write_json(args.required("json"), json);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: pipeline_bench throughput|flows|reassembly|swap|compile --json OUT ...\n");
    return 2;
  }
  Args args;
  args.command = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0 || i + 1 >= argc) {
      std::fprintf(stderr, "pipeline_bench %s: expected --name VALUE, got %s\n", args.command.c_str(), argv[i]);
      return 2;
    }
    args.values[arg.substr(2)] = argv[++i];
  }
  if (args.command == "throughput") {
    return throughput(args);
  }
  if (args.command == "flows") {
    return flows(args);
  }
  if (args.command == "reassembly") {
    return reassembly(args);
  }
  if (args.command == "swap") {
    return swap(args);
  }
  if (args.command == "compile") {
    return compile(args);
  }
  std::fprintf(stderr, "pipeline_bench: unknown command %s\n", args.command.c_str());
  return 2;
}
