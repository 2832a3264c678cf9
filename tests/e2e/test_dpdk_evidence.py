"""dpdk suite: evidence pcaps from `misdirect live --evidence-dir DIR` (docs/records.md, "Evidence";
docs/live.md). The workers queue the frames of every SMTP flow that alerted to their evidence rings;
the live control loop drains them into DIR/<flow_id>.pcap. Checked over net_pcap vdevs, with one
worker (the port read directly) and two (software fan-out): every alert names its flow's file as
`capture_file`, there is one file per alerting flow and none for the others, `misdirect replay` of a
file alone gives that flow's alerts again, a one-flow capture's evidence is that capture frame by
frame, and the writer's and the workers' counters say nothing was lost.
"""
import collections
import os
import struct
import tempfile
import unittest

import live_e2e as live

PLAIN = os.path.join(live.PCAPS, "plain-session.pcap")  # one SMTP flow that alerts
MANY = os.path.join(live.PCAPS, "many-flows.pcap")      # 48 SMTP flows, some of them alert


def read_frames(path):
    """(timestamp in ns, original length, bytes) of every frame of a classic pcap (µs or ns)."""
    with open(path, "rb") as stream:
        data = stream.read()
    magic = data[:4]
    endian = {b"\xd4\xc3\xb2\xa1": "<", b"\x4d\x3c\xb2\xa1": "<",
              b"\xa1\xb2\xc3\xd4": ">", b"\xa1\xb2\x3c\x4d": ">"}[magic]
    unit_ns = 1 if magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d") else 1000
    frames = []
    offset = 24
    while offset + 16 <= len(data):
        seconds, fraction, caplen, wirelen = struct.unpack_from(endian + "IIII", data, offset)
        frames.append((seconds * 1_000_000_000 + fraction * unit_ns, wirelen,
                       data[offset + 16:offset + 16 + caplen]))
        offset += 16 + caplen
    return frames


def evidence_figures(record):
    """misdirect.evidence of a stats record: the writer's counters and the workers' totals."""
    return record["misdirect"]["evidence"]


class DpdkEvidenceTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        for capture in (PLAIN, MANY):
            reason, _ = live.inspect_capture(capture)
            if reason is not None:
                raise unittest.SkipTest(f"{capture}: {reason}")

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="mdr-evidence-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def run_live(self, capture, workers):
        records, stderr = live.run_live_files([capture], workers, extra=["--evidence-dir", self.dir])
        return records, stderr

    def files(self):
        return sorted(os.listdir(self.dir))

    def check_evidence_reproduces_alerts(self, records):
        alerts = [r for r in records if r.get("event_type") == "alert"]
        self.assertTrue(alerts, "no alert: the evidence would prove nothing")
        by_flow = collections.defaultdict(list)
        for alert in alerts:
            self.assertEqual(alert.get("capture_file"), os.path.join(self.dir, f"{alert['flow_id']}.pcap"),
                             alert)
            by_flow[alert["flow_id"]].append(alert)
        # One file per alerting flow, none for the others.
        self.assertEqual(self.files(), sorted(f"{flow_id}.pcap" for flow_id in by_flow))
        for flow_id, flow_alerts in by_flow.items():
            path = os.path.join(self.dir, f"{flow_id}.pcap")
            self.assertEqual(live.alert_keys(live.run_replay(path)), live.alert_keys(flow_alerts),
                             f"replaying {path} does not give the alerts live gave for its flow")
        record = live.final_stats(records)
        self.assertIsNotNone(record, "no stats record")
        evidence = evidence_figures(record)
        self.assertEqual(evidence["files_created"], len(by_flow), evidence)
        self.assertEqual(evidence["flows_alerted"], len(by_flow), evidence)
        written = sum(len(read_frames(os.path.join(self.dir, name))) for name in self.files())
        self.assertEqual(evidence["frames_written"], written, evidence)
        self.assertEqual(evidence["frames_queued"], written, evidence)
        for lost in ("frames_ring_full", "frames_not_buffered", "flows_unbuffered", "frames_over_size",
                     "frames_file_removed", "frames_file_failed", "open_errors", "write_errors",
                     "files_removed_count", "files_removed_size"):
            self.assertEqual(evidence[lost], 0, f"{lost}: {evidence}")
        return by_flow

    def test_one_flow_capture_is_its_own_evidence(self):
        for workers in (1, 2):
            with self.subTest(workers=workers):
                for name in self.files():
                    os.unlink(os.path.join(self.dir, name))
                records, stderr = self.run_live(PLAIN, workers)
                self.assertIn("mode direct" if workers == 1 else "mode software-fanout", stderr)
                self.check_evidence_reproduces_alerts(records)
                (name,) = self.files()
                # Every frame, with its capture time (net_pcap's microseconds) and length.
                self.assertEqual(read_frames(os.path.join(self.dir, name)), read_frames(PLAIN))

    def test_every_alerting_flow_of_many_gets_a_file_that_replays_to_its_alerts(self):
        for workers in (1, 2):
            with self.subTest(workers=workers):
                for name in self.files():
                    os.unlink(os.path.join(self.dir, name))
                records, _ = self.run_live(MANY, workers)
                by_flow = self.check_evidence_reproduces_alerts(records)
                self.assertGreater(len(by_flow), 1)
                smtp_flows = {r["flow_id"] for r in records if r.get("event_type") == "smtp"}
                self.assertGreater(len(smtp_flows), len(by_flow), "every SMTP flow alerted: "
                                   "the test would not show that quiet flows get no file")

    def test_without_the_option_live_writes_no_evidence(self):
        records, _ = live.run_live_files([PLAIN], 1)
        alerts = [r for r in records if r.get("event_type") == "alert"]
        self.assertTrue(alerts)
        self.assertFalse(any("capture_file" in alert for alert in alerts))
        self.assertNotIn("evidence", live.final_stats(records)["misdirect"])
        self.assertEqual(self.files(), [])

    def test_a_missing_directory_is_refused_before_eal(self):
        missing = os.path.join(self.dir, "missing")
        with self.assertRaises(AssertionError) as refused:
            live.run_live_files([PLAIN], 1, extra=["--evidence-dir", missing])
        self.assertIn("live exited 2", str(refused.exception))
        self.assertIn("--evidence-dir", str(refused.exception))


if __name__ == "__main__":
    unittest.main()
