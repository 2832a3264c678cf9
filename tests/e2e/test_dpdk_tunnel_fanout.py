"""dpdk suite: a mirror's tunnelled flows spread over the workers of the software fan-out, also
when the mirror's path fragments some of its packets (OuterFragmentsFanoutTest).

A traffic mirror delivers every copied packet with one outer address pair, so a hash of the outer
header (what RSS computes, and what the fan-out hashed before) puts every tunnelled flow on one
worker. The software fan-out places frames by their inner flow (FanoutClassifier).
`pcaps/vxlan-mirror-flows.pcap` holds seventeen tenant sessions in one VXLAN VNI behind one mirror,
one of them with its replies delivered by a second mirror. With 2 workers, each worker must inspect
a share of the sessions (per-worker stats under misdirect.threads.W#nn), the alerts must be
replay's, and the split must be the one replay --workers 2 makes with the same --hash-seed (the
two share the classifier).
"""
import os
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import live_e2e as live

CAPTURE = os.path.join(live.PCAPS, "vxlan-mirror-flows.pcap")
SEED = "3"
SESSIONS = 17


def smtp_flows_per_worker(record):
    return [thread["worker"]["smtp_flows_by_port"] for thread in live.worker_threads(record)]


def replay_with_workers(workers, capture=CAPTURE):
    with tempfile.TemporaryDirectory(prefix="mdr-replay-") as tmp:
        eve = os.path.join(tmp, "eve.json")
        proc = subprocess.run([live.BINARY, "replay", *live.list_args(), "--eve", eve, "--workers", str(workers),
                               "--hash-seed", SEED, "--max-flows", str(live.TEST_MAX_FLOWS), capture],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=300)
        if proc.returncode != 0:
            raise AssertionError(f"replay failed ({proc.returncode}): {proc.stderr.decode(errors='replace')}")
        return live.read_records(eve)


class TunnelledFanoutTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        if not os.path.exists(CAPTURE):
            raise unittest.SkipTest(f"no capture {CAPTURE}")
        cls.replay = live.run_replay(CAPTURE)
        cls.replay_two = replay_with_workers(2)
        cls.records, cls.stderr = live.run_live_files([CAPTURE], 2, extra=["--hash-seed", SEED])
        cls.stats = live.final_stats(cls.records)

    def test_the_port_is_fanned_out_by_software(self):
        self.assertIn("mode software-fanout", self.stderr)

    def test_alerts_are_replays(self):
        expected = live.alert_keys(self.replay)
        self.assertEqual(len(expected), SESSIONS)
        self.assertEqual(live.alert_keys(self.records), expected)

    def test_two_workers_split_the_tunnelled_flows(self):
        self.assertIsNotNone(self.stats, "no stats record")
        flows = smtp_flows_per_worker(self.stats)
        self.assertEqual(len(flows), 2)
        self.assertEqual(sum(flows), SESSIONS, flows)
        # Each worker inspected a share of the sessions, not a handful of stray frames (with one
        # outer pair, a hash of the outer header gives 17 and 0).
        for index, count in enumerate(flows):
            self.assertGreaterEqual(count, SESSIONS // 4, f"worker {index}: {flows}")
        packets = [thread["live"]["packets"] for thread in live.worker_threads(self.stats)]
        totals = self.stats["misdirect"]["totals"]
        self.assertEqual(sum(packets), totals["received"])
        self.assertEqual(totals["dropped_fanout_ring_full"], 0, totals)
        # Every frame was VXLAN and was placed by its inner flow.
        fanout = self.stats["misdirect"]["fanout"]
        self.assertEqual(fanout["tunnelled"], totals["received"], fanout)
        self.assertEqual((fanout["unplaced"], fanout["fragments"]), (0, 0), fanout)
        self.assertEqual(self.stats["stats"]["decoder"]["vxlan"], totals["received"])

    def test_the_split_is_replays_with_the_same_seed(self):
        replayed = live.final_stats(self.replay_two)
        self.assertEqual(smtp_flows_per_worker(self.stats), smtp_flows_per_worker(replayed))
        self.assertEqual(live.alert_keys(self.replay_two), live.alert_keys(self.replay))

    def test_the_flow_split_across_two_mirrors_meets_in_one_worker(self):
        # Its replies came from another outer source: the alert still knows the server accepted.
        split = [r for r in self.records if r.get("event_type") == "alert"
                 and r["misdirect"].get("recipient") == "split-mirrors@navy.ml"]
        self.assertEqual(len(split), 1)
        self.assertIs(split[0]["misdirect"]["accepted"], True)


FRAGMENTS = os.path.join(live.PCAPS, "vxlan-mirror-fragments.pcap")
FRAGMENT_SESSIONS = 8


def without_one_first_fragment(source, target):
    """Copies the capture leaving out the first outer fragment (offset 0, more fragments) of its
    first cut packet: the rest of that datagram waits for a first fragment that never comes.
    Returns the number of frames written."""
    with open(source, "rb") as capture:
        data = capture.read()
    out = bytearray(data[:24])
    offset, dropped, frames = 24, False, 0
    while offset < len(data):
        included = struct.unpack("<I", data[offset + 8:offset + 12])[0]
        frame = data[offset + 16:offset + 16 + included]
        flags_offset = struct.unpack("!H", frame[20:22])[0] if len(frame) >= 34 else 0
        if not dropped and frame[12:14] == b"\x08\x00" and flags_offset == 0x2000:
            dropped = True
        else:
            out += data[offset:offset + 16 + included]
            frames += 1
        offset += 16 + included
    assert dropped
    with open(target, "wb") as capture:
        capture.write(out)
    return frames


class OuterFragmentsFanoutTest(unittest.TestCase):
    """A mirror that fragments only its large packets (pcaps/vxlan-mirror-fragments.pcap: eight
    tenant sessions behind one outer pair, some first fragments last or after the flow's next
    packet). The RX lcore places each first fragment by its inner flow and sends the datagram's
    other fragments after it, holding those that come first: with 2 workers the flows are split
    between them and the alerts are replay's, the split replay --workers 2's."""

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        cls.replay = live.run_replay(FRAGMENTS)
        cls.records, cls.stderr = live.run_live_files([FRAGMENTS], 2, extra=["--hash-seed", SEED])
        cls.stats = live.final_stats(cls.records)

    def test_alerts_are_replays(self):
        expected = live.alert_keys(self.replay)
        self.assertEqual(len(expected), FRAGMENT_SESSIONS)
        self.assertEqual(live.alert_keys(self.records), expected)

    def test_the_flows_are_split_and_the_fragments_follow_them(self):
        self.assertIn("mode software-fanout", self.stderr)
        flows = smtp_flows_per_worker(self.stats)
        self.assertEqual(sum(flows), FRAGMENT_SESSIONS, flows)
        self.assertTrue(all(count > 0 for count in flows), flows)
        fanout = self.stats["misdirect"]["fanout"]
        # 32 cut packets of two pieces each, all placed by their inner flow; the 22 second
        # pieces that came before their first were held for it.
        self.assertEqual(fanout["fragments_by_inner_flow"], 64, fanout)
        self.assertEqual(fanout["fragments_held"], 22, fanout)
        totals = self.stats["misdirect"]["totals"]
        self.assertEqual((totals["received"], totals["in_flight"], totals["dropped_fanout_ring_full"]),
                         (totals["inspected"], 0, 0), totals)
        replayed = live.final_stats(replay_with_workers(2, FRAGMENTS))
        self.assertEqual(flows, smtp_flows_per_worker(replayed))

    def test_a_fragment_whose_first_never_comes_is_inspected_all_the_same(self):
        # Held, then sent by its outer header when its time is up (or at shutdown): no frame,
        # no mbuf is left behind.
        with tempfile.TemporaryDirectory(prefix="mdr-frag-") as tmp:
            capture = os.path.join(tmp, "first-fragment-lost.pcap")
            frames = without_one_first_fragment(FRAGMENTS, capture)
            records, _ = live.run_live_files([capture], 2, extra=["--hash-seed", SEED])
        stats = live.final_stats(records)
        fanout = stats["misdirect"]["fanout"]
        self.assertEqual(fanout["fragment_hold_timeouts"] + fanout["fragment_hold_flushed"], 1, fanout)
        totals = stats["misdirect"]["totals"]
        self.assertEqual((totals["received"], totals["in_flight"]), (totals["inspected"], 0), totals)
        self.assertEqual(totals["received"], frames)


class SoftwareFanoutOptionTest(unittest.TestCase):
    """--software-fanout: a port whose RSS could spread its queues (net_null, 2 queues) is fanned
    out in software all the same."""

    def test_an_rss_port_is_fanned_out_in_software_when_asked(self):
        if not os.path.exists(live.BINARY):
            self.skipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        with tempfile.TemporaryDirectory(prefix="mdr-live-") as tmp:
            eve = os.path.join(tmp, "eve.json")
            sensor = live.LiveProcess([*live.eal_args(), "--vdev", "net_null0,size=64", "--", *live.list_args(),
                                       "--eve", eve, "--workers", "2", "--stats-interval", "0",
                                       "--software-fanout"], eve)
            self.addCleanup(sensor.kill)
            sensor.wait_running()
            time.sleep(1.0)
            sensor.proc.send_signal(signal.SIGINT)
            self.assertEqual(sensor.proc.wait(timeout=60), 0, sensor.stderr())
            self.assertIn("mode software-fanout, 1 RX queue(s)", sensor.stderr())
            record = live.final_stats(live.read_records(eve))
            for worker in live.worker_threads(record):
                self.assertEqual(worker["live"]["from_queue"], 0, worker)
            self.assertGreater(record["misdirect"]["fanout"]["packets"], 0)


if __name__ == "__main__":
    unittest.main()
