"""Evidence pcaps (--evidence-dir, docs/records.md "Evidence"): every SMTP flow that alerted gets
DIR/<flow_id>.pcap from its first packet, its alerts name it as `capture_file`, and replaying that
file alone gives the flow's alerts again. Rotation by count, refused directories, --workers.
"""
import collections
import os
import tempfile
import unittest

import misdirect_e2e as e2e

PLAIN = os.path.join(e2e.PCAPS, "plain-session.pcap")
MANY = os.path.join(e2e.PCAPS, "many-flows.pcap")  # 48 SMTP flows, 30 of them alert


def setUpModule():
    e2e.require_binary()


def alerts_by_flow(alerts):
    """flow_id → sorted alert keys (the key leaves out flow_id, which each run draws anew)."""
    grouped = collections.defaultdict(list)
    for alert in alerts:
        grouped[alert["flow_id"]].append(e2e.alert_key(alert))
    return {flow_id: sorted(keys, key=repr) for flow_id, keys in grouped.items()}


class EvidenceTest(unittest.TestCase):
    maxDiff = None

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="misdirect-evidence-")
        self.addCleanup(tmp.cleanup)
        self.dir = tmp.name

    def replay(self, captures, *extra):
        replay = e2e.run_replay(captures, extra=["--evidence-dir", self.dir, *extra])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        return replay

    def files(self):
        return sorted(name for name in os.listdir(self.dir))

    def check_every_alerting_flow_reproduces(self, replay):
        grouped = alerts_by_flow(replay.alerts)
        self.assertTrue(grouped)
        for alert in replay.alerts:
            self.assertEqual(alert.get("capture_file"), os.path.join(self.dir, f"{alert['flow_id']}.pcap"), alert)
        # One file per alerting flow, none for the others.
        self.assertEqual(self.files(), sorted(f"{flow_id}.pcap" for flow_id in grouped))
        for flow_id, keys in grouped.items():
            path = os.path.join(self.dir, f"{flow_id}.pcap")
            again = e2e.run_replay([path])
            self.assertEqual(again.returncode, 0, again.stderr)
            self.assertEqual(sorted((e2e.alert_key(a) for a in again.alerts), key=repr), keys,
                             f"replaying {path} does not give its flow's alerts")
        return grouped

    def test_the_evidence_of_an_alerting_flow_replays_to_the_same_alerts(self):
        replay = self.replay([PLAIN])
        self.check_every_alerting_flow_reproduces(replay)
        # plain-session.pcap is one flow: the evidence holds every one of its packets.
        (name,) = self.files()
        self.assertEqual(e2e.count_packets(os.path.join(self.dir, name)), e2e.count_packets(PLAIN))
        stats = replay.records[-1]
        self.assertEqual(e2e.find_values(stats, "misdirect.evidence.frames_written"), [e2e.count_packets(PLAIN)])
        self.assertEqual(e2e.find_values(stats, "misdirect.evidence.files_created"), [1])

    def test_many_flows_each_get_their_own_file(self):
        replay = self.replay([MANY])
        grouped = self.check_every_alerting_flow_reproduces(replay)
        self.assertGreater(len(grouped), 1)
        smtp_flows = {record["flow_id"] for record in replay.smtp}
        self.assertGreater(len(smtp_flows), 0)

    def test_two_workers_keep_the_same_evidence(self):
        one = self.replay([MANY])
        first = {tuple(keys): os.path.getsize(os.path.join(self.dir, f"{flow_id}.pcap"))
                 for flow_id, keys in alerts_by_flow(one.alerts).items()}
        for name in self.files():
            os.unlink(os.path.join(self.dir, name))
        two = self.replay([MANY], "--workers", "2")
        self.check_every_alerting_flow_reproduces(two)
        second = {tuple(keys): os.path.getsize(os.path.join(self.dir, f"{flow_id}.pcap"))
                  for flow_id, keys in alerts_by_flow(two.alerts).items()}
        self.assertEqual(second, first)

    def test_files_rotate_by_count(self):
        everything = e2e.run_replay([MANY])
        flows = len(alerts_by_flow(everything.alerts))
        self.assertGreater(flows, 2)
        replay = self.replay([MANY], "--evidence-max-files", "2")
        self.assertEqual(len(self.files()), 2)
        stats = replay.records[-1]
        self.assertEqual(e2e.find_values(stats, "misdirect.evidence.files_removed_count"), [flows - 2])
        # The two kept are the last two flows that alerted.
        last_two = []
        for alert in replay.alerts:
            if alert["flow_id"] not in last_two:
                last_two.append(alert["flow_id"])
        self.assertEqual(self.files(), sorted(f"{flow_id}.pcap" for flow_id in last_two[-2:]))

    def test_bad_evidence_options_are_refused(self):
        not_a_dir = os.path.join(self.dir, "file")
        open(not_a_dir, "w").close()
        for extra in (["--evidence-dir", os.path.join(self.dir, "missing")], ["--evidence-dir", not_a_dir],
                      ["--evidence-max-mb", "0"], ["--evidence-max-files", "0"]):
            with self.subTest(extra=extra):
                replay = e2e.run_replay([PLAIN], extra=extra)
                self.assertEqual(replay.returncode, 2, replay.stderr)
                self.assertEqual(replay.records, [])
                self.assertIn(extra[0], replay.stderr)

    def test_without_the_option_alerts_name_no_file(self):
        replay = e2e.run_replay([PLAIN])
        self.assertTrue(replay.alerts)
        self.assertFalse(any("capture_file" in alert for alert in replay.alerts))


if __name__ == "__main__":
    unittest.main()
