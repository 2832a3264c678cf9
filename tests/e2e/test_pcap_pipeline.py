"""`misdirect replay` in an analyst's pipeline: a capture from standard input, gzip and zstd
captures read directly, directories of captures, a libpcap filter, progress on a terminal and the
summary line. Every case runs the real binary on the bundled captures and compares alerts with
their expected files.
"""
import glob
import gzip
import os
import pty
import re
import select
import shutil
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import misdirect_e2e as e2e

PLAIN = os.path.join(e2e.PCAPS, "plain-session.pcap")
KINDS = os.path.join(e2e.PCAPS, "kinds.pcap")
MANY = os.path.join(e2e.PCAPS, "many-flows.pcap")
PCAPNG = os.path.join(e2e.PCAPS, "pcapng-session.pcapng")


def setUpModule():
    e2e.require_binary()


def expected_alerts(capture):
    stem = re.sub(r"\.pcap(ng)?$", "", capture)
    return [e2e.expected_key(row) for row in e2e.load_jsonl(stem + ".expected.jsonl")]


def replay_command(extra=()):
    return [e2e.binary(), "replay", "--protected", e2e.PROTECTED, "--allow", e2e.ALLOW] + list(extra)


def run_with_stdin(arguments, producer):
    """Runs misdirect with its standard input a real pipe fed by `producer` (a command list)."""
    feeder = subprocess.Popen(producer, stdout=subprocess.PIPE)
    try:
        done = subprocess.run(arguments, stdin=feeder.stdout, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              timeout=e2e.REPLAY_TIMEOUT_S)
    finally:
        feeder.stdout.close()
        feeder.wait()
    stdout = done.stdout.decode("utf-8", "replace")
    return e2e.Replay(done.returncode, e2e.parse_eve(stdout), done.stderr.decode("utf-8", "replace"),
                      stdout.splitlines())


class PipelineTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.addCleanup(self.scratch.cleanup)

    def path(self, name):
        return os.path.join(self.scratch.name, name)

    def assert_alerts(self, replay, captures):
        expected = [key for capture in captures for key in expected_alerts(capture)]
        actual = [e2e.alert_key(a) for a in replay.alerts]
        self.assertEqual(e2e.multiset_difference(actual, expected), "", replay.stderr)

    # Standard input

    def test_capture_from_a_pipe(self):
        replay = run_with_stdin(replay_command(["-"]), ["cat", KINDS])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [KINDS])
        self.assertEqual(replay.records[-1].get("event_type"), "stats")

    def test_pcapng_from_a_pipe(self):
        replay = run_with_stdin(replay_command(["-"]), ["cat", PCAPNG])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [PCAPNG])

    def test_gzip_capture_from_a_pipe(self):
        replay = run_with_stdin(replay_command(["-"]), ["gzip", "-c", KINDS])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [KINDS])

    def test_pipe_and_files_together(self):
        replay = run_with_stdin(replay_command([PLAIN, "-"]), ["cat", KINDS])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [PLAIN, KINDS])

    def test_standard_input_twice_is_refused(self):
        replay = run_with_stdin(replay_command(["-", "-"]), ["cat", KINDS])
        self.assertEqual(replay.returncode, 2)
        self.assertIn("standard input", replay.stderr)
        self.assertEqual(replay.records, [])

    def test_garbage_on_standard_input(self):
        replay = run_with_stdin(replay_command(["-"]), ["echo", "this is not a capture"])
        self.assertEqual(replay.returncode, 1)
        self.assertIn("standard input", replay.stderr)
        self.assertEqual(replay.alerts, [])

    # Compressed captures

    def gzip_copy(self, capture, name=None, members=1):
        out = self.path(name or os.path.basename(capture) + ".gz")
        with open(capture, "rb") as source:
            data = source.read()
        with open(out, "wb") as sink:
            cut = len(data) // members
            for i in range(members):
                part = data[i * cut:] if i == members - 1 else data[i * cut:(i + 1) * cut]
                sink.write(gzip.compress(part))
        return out

    def zstd_copy(self, capture):
        out = self.path(os.path.basename(capture) + ".zst")
        subprocess.run(["zstd", "-q", "-f", "-o", out, capture], check=True)
        return out

    def test_gzip_file(self):
        replay = e2e.run_replay([self.gzip_copy(MANY)])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [MANY])

    def test_gzip_file_of_several_members(self):
        replay = e2e.run_replay([self.gzip_copy(MANY, members=3)])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [MANY])

    def test_zstd_file(self):
        if shutil.which("zstd") is None:
            self.skipTest("the zstd command is not installed (scripts/setup installs it)")
        replay = e2e.run_replay([self.zstd_copy(MANY)])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [MANY])

    def test_compressed_records_equal_plain_records(self):
        plain = e2e.run_replay([KINDS])
        compressed = e2e.run_replay([self.gzip_copy(KINDS, name="kinds.pcap")])
        self.assertEqual(plain.returncode, 0, plain.stderr)
        self.assertEqual(compressed.returncode, 0, compressed.stderr)

        # flow_id is salted anew by every run (docs/records.md); every other field must be equal.
        def without_file_name(records):
            return [{k: v for k, v in r.items() if k not in ("pcap_filename", "flow_id")} for r in records]
        self.assertEqual(without_file_name(plain.records), without_file_name(compressed.records))

    def test_cut_gzip_file(self):
        whole = self.gzip_copy(MANY)
        cut = self.path("cut.pcap.gz")
        with open(whole, "rb") as source, open(cut, "wb") as sink:
            data = source.read()
            sink.write(data[:len(data) * 2 // 3])
        replay = e2e.run_replay([cut])
        self.assertEqual(replay.returncode, 1)
        self.assertIn(cut, replay.stderr)
        self.assertIn("cut short", replay.stderr)
        self.assertEqual(replay.records[-1].get("event_type"), "stats")

    def test_corrupt_gzip_file(self):
        # Bytes flipped inside the deflate data: the decompressor or libpcap stops there.
        whole = self.gzip_copy(MANY)
        bad = self.path("bad.pcap.gz")
        with open(whole, "rb") as source:
            data = bytearray(source.read())
        for i in range(len(data) // 2, len(data) // 2 + 64):
            data[i] ^= 0x55
        with open(bad, "wb") as sink:
            sink.write(bytes(data))
        replay = e2e.run_replay([bad])
        self.assertEqual(replay.returncode, 1)
        self.assertIn(bad, replay.stderr)
        self.assertEqual(replay.records[-1].get("event_type"), "stats")

    def test_bad_gzip_header(self):
        whole = self.gzip_copy(MANY)
        bad = self.path("bad-header.pcap.gz")
        with open(whole, "rb") as source:
            data = bytearray(source.read())
        data[2] = 7  # compression method: only 8 (deflate) exists
        with open(bad, "wb") as sink:
            sink.write(bytes(data))
        replay = e2e.run_replay([bad])
        self.assertEqual(replay.returncode, 1)
        self.assertIn(bad, replay.stderr)
        self.assertIn("bad gzip data", replay.stderr)
        self.assertEqual(replay.alerts, [])

    # Directories

    def make_tree(self):
        top = self.path("captures")
        deeper = os.path.join(top, "b-later")
        os.makedirs(deeper)
        shutil.copy(PLAIN, os.path.join(top, "a.pcap"))
        shutil.copy(KINDS, os.path.join(top, "c.pcap"))
        self.gzip_copy(MANY, name=os.path.join("captures", "b-later", "m.pcap.gz"))
        with open(os.path.join(top, "README.txt"), "w") as note:
            note.write("not a capture\n")
        shutil.copy(PLAIN, os.path.join(top, ".hidden.pcap"))
        return top

    def files_in_order(self, replay):
        names = []
        for record in replay.records:
            name = record.get("pcap_filename")
            if name is not None and (not names or names[-1] != name):
                names.append(name)
        return [os.path.basename(n) for n in names]

    def test_directory(self):
        top = self.make_tree()
        replay = e2e.run_replay([top])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [PLAIN, KINDS])
        self.assertEqual(self.files_in_order(replay), ["a.pcap", "c.pcap"])

    def test_directory_recursive(self):
        top = self.make_tree()
        replay = e2e.run_replay([top], extra=["--recursive"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [PLAIN, MANY, KINDS])
        self.assertEqual(self.files_in_order(replay), ["a.pcap", "m.pcap.gz", "c.pcap"])
        self.assertRegex(replay.stderr, r"replay: 3 files, ")

    def test_directory_without_captures(self):
        empty = self.path("empty")
        os.makedirs(empty)
        replay = e2e.run_replay([empty, PLAIN])
        self.assertEqual(replay.returncode, 1)
        self.assertIn(empty, replay.stderr)
        self.assertIn("no captures", replay.stderr)
        self.assert_alerts(replay, [PLAIN])

    # BPF filters

    def test_bpf_keeps_what_it_matches(self):
        replay = e2e.run_replay([KINDS], extra=["--bpf", "tcp port 25"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assert_alerts(replay, [KINDS])

    def test_bpf_drops_what_it_does_not_match(self):
        replay = e2e.run_replay([KINDS], extra=["--bpf", "tcp port 26"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        self.assertEqual(replay.alerts, [])
        stats = replay.records[-1]
        self.assertEqual(stats.get("event_type"), "stats")
        self.assertEqual(e2e.find_values(stats, "packets")[0], 0)

    def test_bpf_by_host_selects_flows(self):
        # many-flows.pcap: the filter keeps one client's flows only.
        all_alerts = [e2e.alert_key(a) for a in e2e.run_replay([MANY]).alerts]
        client = all_alerts[0][0].split(":")[0]
        replay = e2e.run_replay([MANY], extra=["--bpf", f"host {client}"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        kept = [e2e.alert_key(a) for a in replay.alerts]
        self.assertEqual(sorted(kept), sorted(a for a in all_alerts if a[0].startswith(client + ":")))
        self.assertLess(len(kept), len(all_alerts))

    def test_bad_bpf_expression(self):
        replay = e2e.run_replay([KINDS], extra=["--bpf", "tcp port banana"])
        self.assertEqual(replay.returncode, 2)
        self.assertIn("--bpf", replay.stderr)
        self.assertIn("banana", replay.stderr, "libpcap's own message names the bad word")
        self.assertEqual(replay.records, [])

    # Stats, summary and progress

    def test_no_packet_no_epoch_stats(self):
        replay = e2e.run_replay([KINDS], extra=["--bpf", "udp"])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        stats = replay.of_type("stats")
        self.assertEqual(len(stats), 1)
        self.assertFalse(stats[0]["timestamp"].startswith("1970"), stats[0]["timestamp"])
        self.assertRegex(stats[0]["timestamp"], e2e.TIMESTAMP)

    def test_summary_line(self):
        replay = e2e.run_replay([PLAIN, KINDS])
        self.assertEqual(replay.returncode, 0, replay.stderr)
        record = replay.records[-1]
        packets = e2e.count_packets(PLAIN) + e2e.count_packets(KINDS)
        match = re.search(r"^replay: 2 files, (\d+) packets, (\d+) SMTP sessions?, (\d+) recipients?, "
                          r"(\d+) alerts? in \d+\.\d s$", replay.stderr, re.M)
        self.assertIsNotNone(match, replay.stderr)
        self.assertEqual(int(match.group(1)), packets)
        self.assertEqual(int(match.group(2)), record["stats"]["app_layer"]["flow"]["smtp"])
        self.assertEqual(int(match.group(3)), record["misdirect"]["smtp"]["recipients"])
        self.assertEqual(int(match.group(4)), len(replay.alerts))

    def test_quiet(self):
        replay = e2e.run_replay([PLAIN], extra=["--quiet"])
        self.assertEqual(replay.returncode, 0)
        self.assertEqual(replay.stderr, "")

    def test_no_progress_when_stderr_is_not_a_terminal(self):
        replay = run_with_stdin(replay_command(["-"]), ["cat", KINDS])
        self.assertNotIn("\r", replay.stderr)

    def test_progress_on_a_terminal(self):
        # stderr is a pseudo-terminal; the capture arrives slowly through a pipe, so the run lasts
        # longer than the quiet start and progress lines are due.
        with open(MANY, "rb") as source:
            data = source.read()
        master, slave = pty.openpty()
        process = subprocess.Popen(replay_command(["-"]), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                   stderr=slave)
        os.close(slave)
        output = bytearray()

        def read_terminal():
            while True:
                ready, _, _ = select.select([master], [], [], 0.2)
                if ready:
                    try:
                        chunk = os.read(master, 4096)
                    except OSError:
                        return
                    if not chunk:
                        return
                    output.extend(chunk)
                elif process.poll() is not None:
                    return

        reader = threading.Thread(target=read_terminal)
        reader.start()
        half = len(data) // 2
        process.stdin.write(data[:half])
        process.stdin.flush()
        time.sleep(2.5)
        process.stdin.write(data[half:])
        process.stdin.close()
        stdout = process.stdout.read()
        process.stdout.close()
        process.wait(timeout=60)
        reader.join(timeout=10)
        os.close(master)
        text = output.decode("utf-8", "replace")
        self.assertEqual(process.returncode, 0, text)
        self.assertRegex(text, r"\rreplay: standard input  [\d.]+ k?B read  [\d.]+k? packets  [\d.]+k? packets/s  ")
        self.assertIn("alerts", text)
        self.assertRegex(text, r"replay: 1 file, \d+ packets")
        self.assertGreater(len(e2e.parse_eve(stdout.decode())), 0)


if __name__ == "__main__":
    unittest.main()
