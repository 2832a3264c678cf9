"""dpdk suite: `misdirect live` over net_pcap gives exactly the alerts `misdirect replay` gives, for
every capture in pcaps/ that net_pcap can replay — with 1 worker (the worker reads the port:
"direct" mode) and with 2 workers (one RX lcore fans out to two worker rings: "software-fanout").

Captures are packed into runs with one net_pcap port per capture, never putting two captures whose
flows share a 5-tuple (or a fragment id) in one run, so that a run judges every flow as replay does
alone. Captures shorter than every timeout share wall-clock runs; longer ones run alone in capture
time (net_pcap's timestamps), so gap waits and idle expiry fire as in replay (live_e2e.group_captures).
Each run ends by --exit-on-eof; --lossless makes a full fan-out ring wait, not drop.
"""
import os
import unittest

import live_e2e as live


class DpdkParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")
        if not os.path.exists(live.PROTECTED):
            raise unittest.SkipTest(f"no protected list at {live.PROTECTED} yet")
        cls.skipped = []
        eligible = []
        for path in live.all_captures():
            reason, info = live.inspect_capture(path)
            if reason is not None:
                cls.skipped.append((path, reason))
            else:
                eligible.append((path, info))
        cls.expected = {path: live.alert_keys(live.run_replay(path)) for path, _ in eligible}
        cls.groups = live.group_captures(eligible)


    def check_parity(self, workers, mode):
        self.assertTrue(self.groups, "no capture in pcaps/ that net_pcap can replay")
        self.assertGreater(sum(len(keys) for keys in self.expected.values()), 0,
                           "replay gives no alert on any capture: parity would prove nothing")
        for group in self.groups:
            names = [os.path.relpath(p, live.PCAPS) for p in group["paths"]]
            with self.subTest(captures=names):
                records, stderr = live.run_live_files(group["paths"], workers,
                                                      wall_clock=group["wall_clock"])
                self.assertIn("packet time: wall clock" if group["wall_clock"] else
                              "packet time: capture timestamps", stderr)
                self.assertEqual(stderr.count(f"mode {mode}"), len(group["paths"]), stderr)
                expected = sorted((k for p in group["paths"] for k in self.expected[p]),
                                  key=lambda k: tuple("" if v is None else str(v) for v in k))
                got = live.alert_keys(records)
                missing = [k for k in expected if k not in got]
                extra = [k for k in got if k not in expected]
                self.assertEqual(got, expected, f"live != replay\nmissing: {missing}\nextra: {extra}")
                record = live.final_stats(records)
                self.assertIsNotNone(record, "no stats record")
                self.assertTrue(record["misdirect"]["sensor"]["final"])
                totals = record["misdirect"]["totals"]
                # Every frame of every capture was read, and each was inspected (nothing dropped).
                self.assertEqual(totals["received"], group["packets"], totals)
                self.assertEqual(totals["port_ipackets"], group["packets"], totals)
                self.assertEqual(totals["inspected"], group["packets"], totals)
                self.assertEqual(totals["dropped_fanout_ring_full"], 0, totals)
                self.assertEqual(totals["in_flight"], 0, totals)
                self.assertEqual(totals["port_rx_nombuf"], 0, totals)
                self.assertEqual(sum(w["live"]["packets"] for w in live.worker_threads(record)),
                                 group["packets"])
                self.assertEqual(record["stats"]["decoder"]["pkts"], group["packets"])
                # The input's span (first read to last): positive once one port's input took more
                # than one read of at most 32 frames, and no longer than the run that read it.
                span_ns = record["misdirect"]["sensor"]["input_span_ns"]
                if len(group["paths"]) == 1 and group["packets"] > 64:
                    self.assertGreater(span_ns, 0)
                self.assertLessEqual(span_ns / 1e9, record["stats"]["uptime"] + 1)

    def test_captures_net_pcap_cannot_replay(self):
        """One skip (not one per capture) naming every capture left out, with its reason."""
        if self.skipped:
            self.skipTest(f"net_pcap cannot replay {len(self.skipped)} capture(s): " + "; ".join(
                f"{os.path.relpath(path, live.PCAPS)}: {reason}" for path, reason in self.skipped))

    def test_one_worker_direct(self):
        self.check_parity(1, "direct")

    def test_two_workers_software_fanout(self):
        self.check_parity(2, "software-fanout")


if __name__ == "__main__":
    unittest.main()
