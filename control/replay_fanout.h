// ReplayFanout: `misdirect replay --workers N` — the reader (the calling thread) hands each packet
// to one of N worker threads by its inner flow (FanoutClassifier), as the live sensor's software
// fan-out does, so both directions and every fragment of a flow meet in one Worker and a mirror's
// tunnelled flows spread over the workers.
//
// Output is the same as one worker's, after sorting: every worker sees the capture's clock move
// as one worker would. The reader cuts the capture into the bursts one worker would get; each
// worker receives its share of every burst together with the burst's first and largest
// timestamps (Worker::process_share), so timers and housekeeping fire at the same packet times in
// every worker. Files begin and end in every worker at the same place in the stream.
//
// Hand-over: per worker, a bounded queue of batches (up to kBatchPackets packets copied into the
// batch's own arena). A full queue makes the reader wait: replay reads files, and back-pressure
// rather than loss is what a file wants. The queue takes one mutex operation per batch of up to
// a thousand packets, off the per-packet path; the workers themselves share nothing.
// Records: each worker writes whole lines into its own buffer and hands full buffers to the
// run's one EVE file sink (dataplane/output/eve_file.h, the one single-worker replay and live use)
// under `out_mutex`, one lock per buffer, so lines never interleave and every write error is
// counted by the sink.
//
// What DNS answers teach is shared, as in the live sensor: one LearnedAddressBook with a table
// per worker, every worker reading all of them without locks, because the answer and the SMTP
// connection it leads to are different flows and may go to different workers. Unlike live
// traffic, a file is read as fast as each worker goes, so one worker can be far ahead of another;
// the book has a LearnedBookGate (ReplayOrderGate): each packet carries its place in the input
// (PacketView::order), every worker publishes how far through the input it has got, and a worker
// about to read the book sleeps until the others have passed its packet — or, when the packets
// just before it cannot teach the book (not DNS: PacketView::quiet_before, ReplayBookTeachers),
// the last one that can. So N workers find what
// one worker finds. To keep that wait finite, batches go out in rounds: whenever one worker's
// batch is sent, every worker's is (each then holds everything of the input read so far).
//
// Outer fragments (a tunnel packet cut on its way to the sensor) follow their first fragment,
// which the classifier places by its inner flow (fanout_fragment_table.h). A fragment that comes
// before its first fragment is copied into one of the reader's hold slots (kHeldFrames of
// kHeldFrameBytes; larger frames are not held) and handed to its worker just before the first
// fragment, as a packet read then (its own timestamp, the next input position); held frames
// whose first fragment does not come within the hold time (packet time) or by the end of the
// file go by their outer header. So a mirror that fragments only some packets of a flow gives N
// workers the records one worker gives.
#pragma once

#include <cstdint>
#include <cstdio>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "control/replay_book_teachers.h"
#include "control/replay_order_gate.h"
#include "dataplane/app/learned_address_book.h"
#include "dataplane/decode/packet_view.h"
#include "dataplane/output/evidence_writer.h"
#include "dataplane/worker.h"

namespace misdirect::dataplane {
class EveFile;
}

namespace misdirect::inspect {
class Matcher;
}

namespace misdirect::dataplane {
class FanoutClassifier;
class StatsNode;
}  // namespace misdirect::dataplane

namespace misdirect::control {

class ReplayFanout final {
 public:
  static constexpr std::size_t kBatchPackets = 1024;
  static constexpr std::size_t kQueueBatches = 4;
  // The reader's hold for fragments that come before their first fragment.
  static constexpr uint32_t kHeldFrames = 64;
  static constexpr uint32_t kHeldFrameBytes = 16 << 10;

  // Starts `workers` threads, each with its own Worker (worker_id = its index) and scratch. Their
  // records go to `out`, appended under `out_mutex` (whoever else appends to `out` while the
  // workers run takes it too).
  ReplayFanout(uint32_t workers, const dataplane::WorkerConfig& config, const inspect::Matcher& matcher,
               dataplane::EveFile& out, std::mutex& out_mutex);
  ~ReplayFanout();
  ReplayFanout(const ReplayFanout&) = delete;
  ReplayFanout& operator=(const ReplayFanout&) = delete;

  // Reader thread, in this order per file: begin_file, burst..., end_file.
  void begin_file(const std::string& name);
  void burst(std::span<const dataplane::PacketView> packets);
  void end_file(uint64_t now_ns);
  // Waits until every worker has done all it was given.
  void wait_idle();

  // Sums of the workers' totals as last published (after each batch).
  dataplane::Worker::Totals totals() const noexcept;
  // After wait_idle: the workers' stats members summed into one worker's shape.
  // Each worker's figures as a thread of the stats record (W#01, W#02, ...), summed into its totals.
  void collect_stats(dataplane::StatsNode& record) const;
  uint64_t matcher_generation() const noexcept;
  // Reader thread: writes the evidence frames the workers have queued (each worker's ring has this
  // thread as its one consumer).
  std::size_t drain_evidence(dataplane::EvidenceWriter& writer);
  // After wait_idle: whether the EVE file sink refused any record (its counters say why).
  bool write_failed() const noexcept;

 private:
  struct Batch;
  struct Lane;
  void send(Lane& lane);
  // One round: every lane's batch goes (see the opening comment). `mid_burst`: each lane's part of
  // the burst read so far goes as a segment without the burst's end.
  void send_all(bool mid_burst);
  // Each lane's share of a burst: opened with the burst's first and largest timestamps, filled by
  // append, closed (and, when a batch is full, sent).
  void open_segments(uint64_t first_ns, uint64_t max_ns);
  void append(const dataplane::PacketView& packet, uint64_t hash, bool may_teach);
  void close_segments();
  // The held frames the classifier has just released, in order.
  void append_released();
  void run(Lane& lane);

  struct HeldFrame;
  // The reader's: which lane each packet goes to (its inner flow, as in the live fan-out).
  std::unique_ptr<dataplane::FanoutClassifier> classifier_;
  // The reader's: copies of the frames the classifier holds, by hold slot.
  std::vector<HeldFrame> held_;
  uint64_t packet_time_ns_ = 0;  // the reader's: the latest packet time read
  std::unique_ptr<dataplane::LearnedAddressBook> learned_;
  ReplayOrderGate gate_;  // the book's LearnedBookGate: each lane's position in the input
  ReplayBookTeachers teachers_;  // the reader's: stamps PacketView::quiet_before
  uint32_t next_order_ = 0;  // the reader's: input position of the next packet (modulo 2^32)
  std::vector<std::unique_ptr<Lane>> lanes_;
};

}  // namespace misdirect::control
