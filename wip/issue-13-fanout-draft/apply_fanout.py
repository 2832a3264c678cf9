import re
root='/work/wt/tunnels/'
def sub(path, old, new, count=1):
    s=open(root+path).read()
    assert old in s, (path, old[:70])
    s=s.replace(old,new,count)
    open(root+path,'w').write(s)

# worker.h/.cc: the decoder settings of a worker, public (the fan-out decodes alike).
s=open(root+'dataplane/worker.cc').read()
m=re.search(r'DecoderConfig decoder_config\(const WorkerConfig& config\) \{.*?\n\}\n', s, re.S)
func=m.group(0)
s=s.replace(func,'',1)
s=s.replace('\nWorker::Impl::Impl(const WorkerConfig& worker_config', func.replace('DecoderConfig decoder_config', 'DecoderConfig decoder_config') + '\nWorker::Impl::Impl(const WorkerConfig& worker_config',1)
open(root+'dataplane/worker.cc','w').write(s)

# replay: the classifier picks the lane.
sub('control/replay_fanout.cc', '#include "dataplane/live/live_fanout.h"\n', '#include "dataplane/decode/fanout_classifier.h"\n')
s=open(root+'control/replay_fanout.cc').read()
start=s.index('// Where the IP header starts for the link types replay reads, or -1.')
end=s.index('}  // namespace\n', start)
s=s[:start]+s[end:]
start=s.index('uint32_t replay_worker_for(')
end=s.index('struct ReplayFanout::Batch')
s=s[:start]+s[end:]
s=s.replace('''    : out_(out) {
  for (uint32_t id = 0; id < workers; ++id) {''','''    : classifier_(std::make_unique<dataplane::FanoutClassifier>(dataplane::decoder_config(config))), out_(out) {
  for (uint32_t id = 0; id < workers; ++id) {''')
s=s.replace('''    Lane& lane = *lanes_[replay_worker_for(packet, workers)];''','''    Lane& lane = *lanes_[dataplane::FanoutClassifier::pick(classifier_->hash(packet), workers)];''')
open(root+'control/replay_fanout.cc','w').write(s)
sub('control/replay_fanout.h', '''// Which of `workers` a packet goes to: the live fan-out's symmetric address hash, for every
// link type replay reads. Packets without IP addresses go to worker 0.
uint32_t replay_worker_for(const dataplane::PacketView& packet, uint32_t workers) noexcept;

''', '')
sub('control/replay_fanout.h', '''namespace misdirect::dataplane {
class StatsNode;
}  // namespace misdirect::dataplane''', '''namespace misdirect::dataplane {
class FanoutClassifier;
class StatsNode;
}  // namespace misdirect::dataplane''')
sub('control/replay_fanout.h', '''  std::vector<std::unique_ptr<Lane>> lanes_;
  std::FILE* out_;''', '''  // The reader's: which lane each packet goes to (the inner flow's hash, as the live fan-out's).
  std::unique_ptr<dataplane::FanoutClassifier> classifier_;
  std::vector<std::unique_ptr<Lane>> lanes_;
  std::FILE* out_;''')
sub('control/replay_fanout.h', '''// ReplayFanout: `misdirect replay --workers N` — the reader (the calling thread) hands each packet
// to one of N worker threads by the symmetric flow hash, as the live sensor's software fan-out
// does, so both directions and every fragment of a flow meet in one Worker.''', '''// ReplayFanout: `misdirect replay --workers N` — the reader (the calling thread) hands each packet
// to one of N worker threads by the inner flow's symmetric hash (FanoutClassifier), as the live
// sensor's software fan-out does, so both directions and every fragment of a flow meet in one
// Worker, and tunnelled flows spread over the workers.''')

# live: each RX lcore has its own classifier.
sub('dataplane/live/live_lcore_context.h', '#include "dataplane/clock.h"\n', '#include "dataplane/clock.h"\n#include "dataplane/decode/fanout_classifier.h"\n')
sub('dataplane/live/live_lcore_context.h', '''  std::vector<uint16_t> batch_sizes;
  alignas(64) std::atomic<uint64_t> empty_polls{0};''', '''  std::vector<uint16_t> batch_sizes;
  // Decodes each frame to its inner flow and hashes that (this lcore's own decoder).
  std::unique_ptr<FanoutClassifier> classifier;
  alignas(64) std::atomic<uint64_t> empty_polls{0};''')
sub('dataplane/live/live_sensor.cc', '''      context->batch_sizes.assign(config_.workers, 0);
''', '''      context->batch_sizes.assign(config_.workers, 0);
      context->classifier = std::make_unique<FanoutClassifier>(decoder_config(config_.worker));
''')
sub('dataplane/live/live_rx_loop.cc', '''// LiveSensor's RX lcores (software fan-out, for ports with one queue): read the port, hash each
// frame by its sorted addresses to a worker, and enqueue it on that worker's ring.''', '''// LiveSensor's RX lcores (software fan-out, for ports with one queue): read the port, hash each
// frame by its inner flow (FanoutClassifier: through tunnels, sorted addresses, tunnel identity)
// to a worker, and enqueue it on that worker's ring.''')
sub('dataplane/live/live_rx_loop.cc', '#include "dataplane/live/live_fanout.h"\n', '')
sub('dataplane/live/live_rx_loop.cc', '''        const uint64_t hash = fanout_hash(rte_pktmbuf_mtod(mbuf, const uint8_t*), mbuf->data_len);
        unplaced += hash == 0 ? 1 : 0;
        // Multiply-shift instead of a division: the high bits pick the worker evenly.
        const uint32_t id = static_cast<uint32_t>(((hash >> 32) * workers) >> 32);''', '''        const PacketView view{rte_pktmbuf_mtod(mbuf, const uint8_t*), mbuf->data_len, mbuf->pkt_len, 0,
                              LinkType::kEthernet};
        const uint64_t hash = rx.classifier->hash(view);
        unplaced += hash == 0 ? 1 : 0;
        const uint32_t id = FanoutClassifier::pick(hash, workers);''')
sub('dataplane/worker.h', '''struct WorkerConfig {''', '''struct DecoderConfig;

struct WorkerConfig {''')
s=open(root+'dataplane/worker.h').read()
i=s.index('struct WorkerConfig {')
j=s.index('\n};\n', i)+4
s=s[:j]+'''
// The decoder settings of a worker with `config` (tunnel ports, depth bound, reassembly): the
// fan-out's classifier decodes with the same ones, so it opens exactly what the workers open.
DecoderConfig decoder_config(const WorkerConfig& config);
'''+s[j:]
open(root+'dataplane/worker.h','w').write(s)
