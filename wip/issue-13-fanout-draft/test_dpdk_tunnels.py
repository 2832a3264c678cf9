"""dpdk suite: a mirror's tunnelled traffic spreads over the workers of the software fan-out.

A traffic mirror delivers every copied packet with one outer address pair, so a hash of the outer
header (what RSS computes) puts every tunnelled flow on one worker. The software fan-out hashes the
inner flow (FanoutClassifier). `pcaps/vxlan-mirror-flows.pcap` holds sixteen tenant sessions
behind one mirror, one of them with its two directions delivered by two mirrors; with 2 workers
each worker must see some of them (per-worker stats), and the alerts must be replay's.
"""
import os
import unittest

import live_e2e as live

CAPTURE = os.path.join(live.PCAPS, "vxlan-mirror-flows.pcap")


class TunnelledFanoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        cls.replay = live.run_replay(CAPTURE)
        cls.records, cls.stderr = live.run_live_files([CAPTURE], 2)

    def test_two_workers_split_the_tunnelled_flows_with_replays_alerts(self):
        self.assertIn("mode software-fanout", self.stderr)
        expected = live.alert_keys(self.replay)
        self.assertEqual(len(expected), 16)
        self.assertEqual(live.alert_keys(self.records), expected)
        record = live.final_stats(self.records)
        self.assertIsNotNone(record, "no stats record")
        workers = live.worker_threads(record)
        self.assertEqual(len(workers), 2)
        packets = [w["live"]["packets"] for w in workers]
        total = record["misdirect"]["totals"]
        self.assertEqual(sum(packets), total["received"], record["misdirect"]["threads"])
        self.assertEqual(total["dropped_fanout_ring_full"], 0, total)
        # Each worker inspected a share of the flows, not a handful of stray frames: at least a
        # quarter of the packets (every session has the same number of packets).
        for index, count in enumerate(packets):
            self.assertGreaterEqual(count, total["received"] // 4, f"worker {index}: {packets}")
        # Every frame was VXLAN, and each reached a worker that opened it.
        self.assertEqual(record["stats"]["decoder"]["vxlan"], total["received"])

    def test_the_flow_split_across_two_mirrors_meets_in_one_worker(self):
        # Its replies came from another outer source: the alert knows the server accepted.
        split = [r for r in self.records if r.get("event_type") == "alert"
                 and r["misdirect"].get("recipient") == "split-mirrors@navy.ml"]
        self.assertEqual(len(split), 1)
        self.assertIs(split[0]["misdirect"]["accepted"], True)


if __name__ == "__main__":
    unittest.main()
