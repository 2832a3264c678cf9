// ReplayFanout: replay's reader fanning flows out to worker threads (replay_fanout.h).
#include "dataplane/output/stats_record.h"
#include "control/replay_fanout.h"


#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include "dataplane/clock.h"
#include "dataplane/decode/fanout_classifier.h"
#include "dataplane/decode/packet_decoder.h"
#include "dataplane/output/eve_file.h"
#include "dataplane/pcap_source.h"
#include "inspect/matcher.h"

namespace misdirect::control {
namespace {

using dataplane::PacketView;

// Whole lines into a buffer; a full buffer goes to the shared EVE file sink under its mutex, one
// lock per buffer rather than per record.
class ChunkSink final : public dataplane::RecordSink {
 public:
  static constexpr std::size_t kBytes = 1 << 20;
  ChunkSink(dataplane::EveFile& out, std::mutex& out_mutex) : out_(out), out_mutex_(out_mutex) {
    buffer_.reserve(kBytes);
  }

  bool on_record(dataplane::RecordType, std::string_view line) noexcept override {
    if (buffer_.size() + line.size() + 1 > kBytes) {
      flush();
    }
    buffer_.append(line);
    buffer_.push_back('\n');
    return true;
  }
  void flush() noexcept {
    if (buffer_.empty()) {
      return;
    }
    const std::string_view lines(buffer_);
    std::lock_guard lock(out_mutex_);
    const uint64_t now_ns = dataplane::monotonic_clock_ns();
    for (std::size_t start = 0; start < lines.size();) {
      const std::size_t end = lines.find('\n', start);
      if (!out_.append(lines.substr(start, end - start), now_ns)) {
        failed_ = true;
      }
      start = end + 1;
    }
    buffer_.clear();
  }
  bool failed() const noexcept { return failed_; }

 private:
  dataplane::EveFile& out_;
  std::mutex& out_mutex_;
  std::string buffer_;
  bool failed_ = false;
};

// The reader's hold: what its slots can copy.
dataplane::FanoutFragmentConfig held_fragments() {
  dataplane::FanoutFragmentConfig fragments;
  fragments.held_frames = ReplayFanout::kHeldFrames;
  fragments.held_frame_bytes = ReplayFanout::kHeldFrameBytes;
  return fragments;
}

}  // namespace

struct ReplayFanout::HeldFrame {
  std::unique_ptr<uint8_t[]> bytes{new uint8_t[kHeldFrameBytes]};
  PacketView view;
};

struct ReplayFanout::Batch {
  static constexpr std::size_t kArenaBytes = 4u << 20;
  struct Segment {
    uint32_t begin = 0;
    uint32_t end = 0;
    uint64_t first_ns = 0;
    uint64_t max_ns = 0;
    bool burst_end = false;
    // The input position after the part of the burst this segment closes: once it is processed,
    // so is every packet of this lane's before it.
    uint32_t end_order = 0;
  };
  enum class Control : uint8_t { kNone, kBeginFile, kEndFile, kStop };

  std::vector<PacketView> packets;
  std::unique_ptr<uint8_t[]> arena{new uint8_t[kArenaBytes]};
  std::size_t arena_used = 0;
  std::vector<Segment> segments;
  Control control = Control::kNone;
  std::string name;
  uint64_t end_ns = 0;
  // The input position the reader had reached when it sent the batch: once the batch is done,
  // the lane has processed every packet of its own before it.
  uint32_t next_order = 0;

  Batch() {
    packets.reserve(kBatchPackets + dataplane::PcapSource::kMaxBurst);
    segments.reserve(kBatchPackets);
  }
  bool fits(uint32_t bytes) const noexcept { return arena_used + bytes <= kArenaBytes; }
  bool full() const noexcept {
    return packets.size() >= kBatchPackets || segments.size() >= kBatchPackets ||
           arena_used > kArenaBytes / 2;
  }
  bool empty() const noexcept { return segments.empty() && control == Control::kNone; }
  void clear() noexcept {
    packets.clear();
    arena_used = 0;
    segments.clear();
    control = Control::kNone;
    name.clear();
  }
};

struct ReplayFanout::Lane {
  Lane(uint32_t id, const dataplane::WorkerConfig& config, const inspect::Matcher& matcher,
       dataplane::EveFile& out, std::mutex& out_mutex)
      : id(id), scratch(matcher.make_scratch()), sink(out, out_mutex) {
    dataplane::WorkerConfig own = config;
    own.worker_id = id;
    worker = std::make_unique<dataplane::Worker>(own, sink);
    worker->bind_matcher(dataplane::MatcherBinding{&matcher, &scratch, 1});
    for (std::size_t i = 0; i < kQueueBatches; ++i) {
      owned.push_back(std::make_unique<Batch>());
      free_batches.push_back(owned.back().get());
    }
    owned.push_back(std::make_unique<Batch>());
    filling = owned.back().get();
  }

  uint32_t id;
  inspect::MatcherScratch scratch;
  ChunkSink sink;
  std::unique_ptr<dataplane::Worker> worker;
  std::thread thread;
  std::vector<std::unique_ptr<Batch>> owned;
  Batch* filling = nullptr;  // the reader's
  Batch::Segment open;       // the reader's segment being filled
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<Batch*> full_batches;
  std::vector<Batch*> free_batches;
  // Published after each batch, for progress lines.
  std::atomic<uint64_t> packets{0}, bytes{0}, alerts{0}, records_dropped{0}, smtp_sessions{0}, recipients{0};
};

ReplayFanout::ReplayFanout(uint32_t workers, const dataplane::WorkerConfig& config,
                           const inspect::Matcher& matcher, dataplane::EveFile& out, std::mutex& out_mutex)
    // Seeded with --hash-seed (0 without it: replay's placement, and so its flow ids, repeat).
    : classifier_(std::make_unique<dataplane::FanoutClassifier>(
          dataplane::decoder_config(config, config.hash_seed), config.hash_seed, held_fragments())),
      held_(kHeldFrames),
      gate_(workers),
      teachers_(config.dns_ports) {
  dataplane::LearnedBookConfig book;
  book.workers = workers;
  book.facts_per_worker = config.learned_facts;
  book.max_age_ns = config.learned_max_age_ns;
  learned_ = std::make_unique<dataplane::LearnedAddressBook>(book);
  dataplane::WorkerConfig shared = config;
  shared.learned_book = learned_.get();
  shared.learned_gate = &gate_;
  for (uint32_t id = 0; id < workers; ++id) {
    lanes_.push_back(std::make_unique<Lane>(id, shared, matcher, out, out_mutex));
  }
  for (auto& lane : lanes_) {
    lane->thread = std::thread([this, raw = lane.get()] { run(*raw); });
  }
}

ReplayFanout::~ReplayFanout() {
  for (auto& lane : lanes_) {
    lane->filling->control = Batch::Control::kStop;
  }
  send_all(false);
  for (auto& lane : lanes_) {
    lane->thread.join();
  }
}

void ReplayFanout::send(Lane& lane) {
  lane.filling->next_order = next_order_;
  std::unique_lock lock(lane.mutex);
  lane.full_batches.push_back(lane.filling);
  lane.changed.notify_all();
  lane.changed.wait(lock, [&] { return !lane.free_batches.empty(); });
  lane.filling = lane.free_batches.back();
  lane.free_batches.pop_back();
}

void ReplayFanout::send_all(bool mid_burst) {
  for (auto& lane : lanes_) {
    if (mid_burst) {
      lane->open.end = static_cast<uint32_t>(lane->filling->packets.size());
      lane->open.end_order = next_order_;
      if (lane->open.end > lane->open.begin) {
        lane->filling->segments.push_back(lane->open);
      }
    }
    send(*lane);
    lane->open.begin = 0;
  }
}

void ReplayFanout::run(Lane& lane) {
  for (;;) {
    Batch* batch = nullptr;
    {
      std::unique_lock lock(lane.mutex);
      lane.changed.wait(lock, [&] { return !lane.full_batches.empty(); });
      batch = lane.full_batches.front();
      lane.full_batches.pop_front();
    }
    for (const Batch::Segment& segment : batch->segments) {
      lane.worker->process_share(std::span<const PacketView>(batch->packets.data() + segment.begin,
                                                             segment.end - segment.begin),
                                 segment.first_ns, segment.max_ns, segment.burst_end);
      // Published after each segment (a burst's share), so that a lane waiting on this one
      // seldom waits for a whole batch.
      gate_.publish(lane.id, segment.end_order);
    }
    gate_.publish(lane.id, batch->next_order);
    const Batch::Control control = batch->control;
    if (control == Batch::Control::kBeginFile) {
      lane.worker->set_source_name(batch->name);
    } else if (control == Batch::Control::kEndFile) {
      lane.worker->finish(batch->end_ns);
      lane.sink.flush();
    } else if (control == Batch::Control::kStop) {
      lane.sink.flush();
    }
    const dataplane::Worker::Totals totals = lane.worker->totals();
    lane.packets.store(totals.packets, std::memory_order_relaxed);
    lane.bytes.store(totals.bytes, std::memory_order_relaxed);
    lane.alerts.store(totals.alerts, std::memory_order_relaxed);
    lane.records_dropped.store(totals.records_dropped, std::memory_order_relaxed);
    lane.smtp_sessions.store(totals.smtp_sessions, std::memory_order_relaxed);
    lane.recipients.store(totals.recipients, std::memory_order_relaxed);
    batch->clear();
    {
      std::lock_guard lock(lane.mutex);
      lane.free_batches.push_back(batch);
      lane.changed.notify_all();
    }
    if (control == Batch::Control::kStop) {
      return;
    }
  }
}

void ReplayFanout::begin_file(const std::string& name) {
  for (auto& lane : lanes_) {
    lane->filling->control = Batch::Control::kBeginFile;
    lane->filling->name = name;
  }
  send_all(false);
}

void ReplayFanout::open_segments(uint64_t first_ns, uint64_t max_ns) {
  for (auto& lane : lanes_) {
    lane->open = Batch::Segment{static_cast<uint32_t>(lane->filling->packets.size()), 0, first_ns, max_ns, false};
  }
}

void ReplayFanout::append(const PacketView& packet, uint64_t hash, bool may_teach) {
  Lane& lane = *lanes_[dataplane::FanoutClassifier::pick(hash, static_cast<uint32_t>(lanes_.size()))];
  if (!lane.filling->fits(packet.captured_length)) {
    // The arena is full in the middle of a burst: the parts of the shares read so far go now,
    // without the burst's end (the clock moves to max_ns only with the last part).
    send_all(true);
  }
  Batch& batch = *lane.filling;
  uint8_t* copy = batch.arena.get() + batch.arena_used;
  if (packet.captured_length > 0) {
    std::memcpy(copy, packet.data, packet.captured_length);
  }
  batch.arena_used += packet.captured_length;
  PacketView view = packet;
  view.data = copy;
  view.order = next_order_++;
  view.quiet_before = teachers_.stamp(may_teach);
  batch.packets.push_back(view);
}

void ReplayFanout::close_segments() {
  bool any_full = false;
  for (auto& lane : lanes_) {
    lane->open.end = static_cast<uint32_t>(lane->filling->packets.size());
    lane->open.end_order = next_order_;
    lane->open.burst_end = true;
    lane->filling->segments.push_back(lane->open);
    any_full = any_full || lane->filling->full();
  }
  if (any_full) {
    send_all(false);
  }
}

void ReplayFanout::append_released() {
  // A fragment may complete a datagram that teaches the book: taken to be able to teach.
  for (const dataplane::FanoutFragmentTable::Release& release : classifier_->released()) {
    append(held_[release.slot].view, release.hash, true);
  }
}

void ReplayFanout::burst(std::span<const PacketView> packets) {
  if (packets.empty()) {
    return;
  }
  uint64_t max_ns = 0;
  for (const PacketView& packet : packets) {
    max_ns = std::max(max_ns, packet.timestamp_ns);
  }
  open_segments(packets.front().timestamp_ns, max_ns);
  for (const PacketView& packet : packets) {
    // Packet time for the hold; it never goes backwards.
    packet_time_ns_ = std::max(packet_time_ns_, packet.timestamp_ns);
    if (classifier_->holding()) {
      classifier_->expire(packet_time_ns_);
      append_released();
    }
    const dataplane::FanoutPlacement placement = classifier_->place(packet, packet_time_ns_);
    append_released();
    if (placement.basis == dataplane::FanoutBasis::kHeld) {
      // Held frames are never longer than a slot (the classifier's held_frame_bytes).
      HeldFrame& held = held_[placement.held_slot];
      std::memcpy(held.bytes.get(), packet.data, packet.captured_length);
      held.view = packet;
      held.view.data = held.bytes.get();
      continue;
    }
    append(packet, placement.hash, teachers_.may_teach(placement, classifier_->decoded()));
  }
  close_segments();
}

void ReplayFanout::end_file(uint64_t now_ns) {
  // Fragments still waiting for their first go now, by their outer header, as the file's last
  // share (flows never span files).
  classifier_->flush();
  if (!classifier_->released().empty()) {
    open_segments(packet_time_ns_, packet_time_ns_);
    append_released();
    close_segments();
  }
  for (auto& lane : lanes_) {
    lane->filling->control = Batch::Control::kEndFile;
    lane->filling->end_ns = now_ns;
  }
  send_all(false);
}

void ReplayFanout::wait_idle() {
  // Every lane gets its batch, empty or not: a lane waiting on another's progress needs it.
  send_all(false);
  for (auto& lane : lanes_) {
    std::unique_lock lock(lane->mutex);
    lane->changed.wait(lock, [&] { return lane->free_batches.size() == kQueueBatches; });
  }
}

dataplane::Worker::Totals ReplayFanout::totals() const noexcept {
  dataplane::Worker::Totals sum;
  for (const auto& lane : lanes_) {
    sum.packets += lane->packets.load(std::memory_order_relaxed);
    sum.bytes += lane->bytes.load(std::memory_order_relaxed);
    sum.alerts += lane->alerts.load(std::memory_order_relaxed);
    sum.records_dropped += lane->records_dropped.load(std::memory_order_relaxed);
    sum.smtp_sessions += lane->smtp_sessions.load(std::memory_order_relaxed);
    sum.recipients += lane->recipients.load(std::memory_order_relaxed);
  }
  return sum;
}

void ReplayFanout::collect_stats(dataplane::StatsNode& record) const {
  // The reader's fan-out of outer fragments (the live sensor's RX lcores write the same names).
  dataplane::add_counter_table(record, "misdirect.fanout", classifier_->fragment_counters(),
                               dataplane::kFanoutFragmentCounterInfo);
  for (std::size_t i = 0; i < lanes_.size(); ++i) {
    dataplane::StatsNode thread;
    lanes_[i]->worker->collect_stats(thread);
    dataplane::add_thread_stats(record, dataplane::worker_thread_name(static_cast<uint32_t>(i)), thread);
  }
}

std::size_t ReplayFanout::drain_evidence(dataplane::EvidenceWriter& writer) {
  std::size_t written = 0;
  for (const auto& lane : lanes_) {
    if (dataplane::EvidenceRing* ring = lane->worker->evidence_ring()) {
      written += writer.drain(*ring);
    }
  }
  return written;
}

uint64_t ReplayFanout::matcher_generation() const noexcept {
  return lanes_.empty() ? 0 : lanes_[0]->worker->matcher_generation();
}

bool ReplayFanout::write_failed() const noexcept {
  return std::any_of(lanes_.begin(), lanes_.end(), [](const auto& lane) { return lane->sink.failed(); });
}

}  // namespace misdirect::control
