"""dpdk suite: `misdirect live` start-up errors (one clear line, exit 2), port modes, periodic and
final stats, and shutdown by SIGINT/SIGTERM and by end of input — on net_null and net_pcap vdevs.
"""
import os
import signal
import struct
import subprocess
import tempfile
import time
import unittest

import eve_schema
import live_e2e as live


def run_live(args, timeout=60):
    proc = subprocess.run([live.BINARY, "live", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, timeout=timeout)
    return proc.returncode, proc.stderr.decode(errors="replace")


class DpdkCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="mdr-cli-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.protected = os.path.join(self.tmp, "protected.txt")
        with open(self.protected, "w") as out:
            out.write("army.mil\nexample.net\n")

    def lists(self):
        return ["--protected", self.protected]

    def assert_one_line_error(self, code, stderr, fragment):
        self.assertEqual(code, 2, stderr)
        lines = [l for l in stderr.splitlines() if l.startswith("misdirect live:")]
        self.assertTrue(any(fragment in l for l in lines), f"no line with {fragment!r}:\n{stderr}")

    def test_bad_option_value(self):
        code, stderr = run_live(["--", *self.lists(), "--workers", "0"])
        self.assert_one_line_error(code, stderr, '--workers: "0" is not a number from 1 to 64')

    def test_eal_argument_after_separator(self):
        code, stderr = run_live(["--", "--vdev", "net_null0", *self.lists()])
        self.assert_one_line_error(code, stderr, "unknown option --vdev (EAL arguments go before --)")

    def test_missing_protected_list(self):
        code, stderr = run_live(["--", "--workers", "1"])
        self.assert_one_line_error(code, stderr, "--protected FILE is required")

    def test_bad_list_names_the_element(self):
        with open(self.protected, "w") as out:
            out.write("army.mil\nar my.mil\n")
        code, stderr = run_live(["--", *self.lists()])
        self.assert_one_line_error(code, stderr, '"ar my.mil"')

    def test_empty_protected_list_is_refused(self):
        # Only comments: the sensor would protect nothing. Refused before EAL, as a push is.
        with open(self.protected, "w") as out:
            out.write("# nothing yet\n\n")
        code, stderr = run_live(["--", *self.lists()])
        self.assert_one_line_error(code, stderr, f"{self.protected}: no protected domains")

    def test_bad_public_suffix_list_is_named(self):
        # Read with the lists, before EAL: no port is touched.
        missing = os.path.join(self.tmp, "no-such-psl.dat")
        code, stderr = run_live(["--", *self.lists(), "--public-suffix-list", missing])
        self.assert_one_line_error(code, stderr, missing)
        code, stderr = run_live(["--", *self.lists(), "--public-suffix-list", self.protected])
        self.assert_one_line_error(code, stderr, self.protected)

    def test_eal_failure(self):
        code, stderr = run_live(["--no-huge", "--no-pci", "--lcores", "nonsense", "--", *self.lists()])
        self.assert_one_line_error(code, stderr, "EAL initialisation failed")

    def test_no_ports(self):
        code, stderr = run_live([*live.eal_args(), "--", *self.lists()])
        self.assert_one_line_error(code, stderr, "no ports: give EAL a device")

    def test_too_few_lcores_for_workers(self):
        code, stderr = run_live([*live.eal_args("(0-1)@(0-1)"), "--vdev", "net_null0", "--",
                                 *self.lists(), "--workers", "2"])
        self.assert_one_line_error(code, stderr, "--workers 2 needs 2 lcore(s) besides the main lcore")

    def test_mempool_too_large_says_how_much(self):
        code, stderr = run_live([*live.eal_args(), "--vdev", "net_null0", "--", *self.lists(),
                                 "--mbufs", "4000000"])
        self.assert_one_line_error(code, stderr, "cannot create the mbuf pool: 4000000 mbufs")
        self.assertIn("MiB) asked for", stderr)

    def run_until_signal(self, workers, signum, extra=()):
        eve = os.path.join(self.tmp, "eve.json")
        sensor = live.LiveProcess([*live.eal_args(), "--vdev", "net_null0,size=64", "--",
                                   *self.lists(), "--eve", eve, "--workers", str(workers),
                                   "--stats-interval", "1", *extra], eve)
        self.addCleanup(sensor.kill)
        sensor.wait_running()
        time.sleep(2.5)
        sensor.proc.send_signal(signum)
        self.assertEqual(sensor.proc.wait(timeout=60), 0, sensor.stderr())
        return live.read_records(eve), sensor.stderr()

    def check_consistent(self, record):
        totals = record["misdirect"]["totals"]
        self.assertGreater(totals["received"], 0, totals)
        self.assertEqual(totals["received"], totals["inspected"] + totals["dropped_fanout_ring_full"],
                         totals)
        self.assertEqual(totals["in_flight"], 0, totals)
        self.assertEqual(totals["port_ipackets"], totals["received"], totals)
        workers = live.worker_threads(record)
        self.assertEqual(sum(w["live"]["packets"] for w in workers), totals["inspected"])
        for worker in workers:
            self.assertIn("worker", worker)  # the worker's own figures, not stale
            self.assertNotIn("stale", worker)
        # The Suricata-named half counts the same frames, and is valid EVE as Suricata documents it
        # (the port's own figures are misdirect's: Suricata's capture object has none per port).
        self.assertEqual(record["stats"]["decoder"]["pkts"], totals["inspected"])
        self.assertEqual(record["stats"]["capture"]["kernel_packets"], totals["port_ipackets"])
        self.assertEqual(eve_schema.problems(record), [])
        ports = record["misdirect"]["capture"]["ports"]
        self.assertEqual(sum(port["kernel_packets"] for port in ports.values()), totals["port_ipackets"])

    def test_sigint_with_symmetric_rss(self):
        records, stderr = self.run_until_signal(2, signal.SIGINT)
        self.assertIn("mode symmetric-rss, 2 RX queue(s)", stderr)
        stats = [r for r in records if r.get("event_type") == "stats"]
        self.assertGreaterEqual(len(stats), 2, "expected periodic stats before the final one")
        self.assertFalse(stats[0]["misdirect"]["sensor"]["final"])
        self.assertTrue(stats[-1]["misdirect"]["sensor"]["final"])
        self.check_consistent(stats[-1])
        # Symmetric RSS spreads net_null's queues over both workers, each reading its own queue.
        for worker in live.worker_threads(stats[-1]):
            self.assertGreater(worker["live"]["from_queue"], 0, worker)
            self.assertEqual(worker["live"]["from_ring"], 0, worker)

    def test_sigterm_with_one_worker(self):
        records, stderr = self.run_until_signal(1, signal.SIGTERM)
        self.assertIn("mode direct, 1 RX queue(s)", stderr)
        self.assertIn("stopping (signal)", stderr)
        self.check_consistent(live.final_stats(records))

    def test_exit_on_eof_of_an_empty_capture(self):
        empty = os.path.join(self.tmp, "empty.pcap")
        with open(empty, "wb") as out:
            out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        eve = os.path.join(self.tmp, "eve.json")
        code, stderr = run_live([*live.eal_args(), "--vdev", f"net_pcap0,rx_pcap={empty}", "--",
                                 *self.lists(), "--eve", eve, "--workers", "2", "--exit-on-eof"])
        self.assertEqual(code, 0, stderr)
        self.assertIn("stopping (end of input)", stderr)
        record = live.final_stats(live.read_records(eve))
        self.assertTrue(record["misdirect"]["sensor"]["final"])
        self.assertEqual(record["misdirect"]["totals"]["received"], 0)
        self.assertEqual(record["misdirect"]["threads"]["RX#01"]["fanout"]["packets"], 0)
        self.assertEqual(record["misdirect"]["sensor"]["input_span_ns"], 0, "no packet read, no span")


if __name__ == "__main__":
    unittest.main()
