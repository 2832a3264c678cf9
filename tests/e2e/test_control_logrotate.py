"""control suite: the shipped logrotate snippet (etc/logrotate.d/misdirect) rotating a running
`misdirect live` sensor's EVE file.

The snippet is used as shipped except for two things a test cannot have: its paths point at a temp
directory instead of /var/log/misdirect, and its postrotate sends SIGHUP to the test's sensor by pid
instead of through systemctl (there is no misdirect.service here). Real logrotate runs it with -f
and its own state file. The sensor (a bundled capture on a net_pcap vdev, a stats record every
second) must then write into the new file, and the rotated files must hold whole records:
rotation loses nothing and cuts no line.

Needs root (EAL without hugepages).
"""
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import live_e2e  # noqa: E402

SNIPPET = os.path.join(live_e2e.SOURCE, "etc", "logrotate.d", "misdirect")
CAPTURE = os.path.join(live_e2e.PCAPS, "kinds.pcap")
SHIPPED_PATHS = "/var/log/misdirect/*.json /var/log/misdirect/*/*.json"
SHIPPED_SIGNAL = ("systemctl kill --kill-whom=main --signal=HUP misdirect.service "
                  "'misdirect@*.service' >/dev/null 2>&1 || true")
TIMEOUT_S = 90


def records(text):
    """Every line of an EVE file as a record; a cut line fails json.loads."""
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def wait_for(predicate, what, process, timeout=TIMEOUT_S):
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            raise AssertionError(f"live exited {process.returncode} while waiting for {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def setUpModule():
    if not os.path.exists(live_e2e.BINARY):
        raise unittest.SkipTest(f"no misdirect binary at {live_e2e.BINARY}")
    if shutil.which("logrotate") is None:
        raise unittest.SkipTest("logrotate is not installed (scripts/setup installs it)")
    if os.geteuid() != 0:
        raise unittest.SkipTest("the live sensor runs EAL without hugepages as root here")


class LogrotateTest(unittest.TestCase):
    def setUp(self):
        self.workdir = tempfile.mkdtemp(prefix="misdirect-logrotate-e2e-")  # 0700: logrotate wants that
        self.eve = os.path.join(self.workdir, "eve.json")
        self.stderr = open(os.path.join(self.workdir, "stderr.log"), "w")
        command = [live_e2e.BINARY, "live", *live_e2e.eal_args("(0-2)@(0-1)"),
                   "--vdev", f"net_pcap0,rx_pcap={CAPTURE}", "--", *live_e2e.list_args(),
                   "--eve", self.eve, "--stats-interval", "1", "--max-flows", str(live_e2e.TEST_MAX_FLOWS)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.stderr)

    def tearDown(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.stderr.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def snippet_for_this_test(self):
        with open(SNIPPET, encoding="utf-8") as stream:
            text = stream.read()
        self.assertEqual(text.count(SHIPPED_PATHS), 1, "the snippet's paths changed: update this test")
        self.assertEqual(text.count(SHIPPED_SIGNAL), 1, "the snippet's postrotate changed: update this test")
        for directive in ("compress", "delaycompress", "missingok", "sharedscripts", "postrotate"):
            self.assertRegex(text, rf"(?m)^\s*{directive}\s*$")
        text = text.replace(SHIPPED_PATHS, os.path.join(self.workdir, "*.json"))
        text = text.replace(SHIPPED_SIGNAL, f"kill -HUP {self.process.pid}")
        path = os.path.join(self.workdir, "logrotate.conf")
        with open(path, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(path, 0o644)
        return path

    def read(self, path):
        with open(path, encoding="utf-8") as stream:
            return stream.read()

    def stats_in(self, path):
        return sum(1 for r in records(self.read(path)) if r.get("event_type") == "stats") if os.path.exists(path) else 0

    def rotate(self, config):
        state = os.path.join(self.workdir, "logrotate.state")
        proc = subprocess.run(["logrotate", "-f", "-s", state, config], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stdout.decode(errors="replace"))

    def test_after_logrotate_the_sensor_writes_into_the_new_file(self):
        with open(CAPTURE.replace(".pcap", ".expected.jsonl"), encoding="utf-8") as stream:
            expected_alerts = sum(1 for line in stream if line.strip())
        wait_for(lambda: self.stats_in(self.eve) >= 1, "the first stats record", self.process)
        wait_for(lambda: sum(1 for r in records(self.read(self.eve)) if r.get("event_type") == "alert")
                 == expected_alerts, "every alert of the capture", self.process)
        config = self.snippet_for_this_test()

        # First rotation: eve.json → eve.json.1 (delaycompress: not compressed yet), and the
        # sensor, told by postrotate, writes a new eve.json.
        self.rotate(config)
        first = os.path.join(self.workdir, "eve.json.1")
        self.assertTrue(os.path.exists(first), os.listdir(self.workdir))
        wait_for(lambda: self.stats_in(self.eve) >= 1, "a stats record in the new eve.json", self.process)
        rotated = records(self.read(first))
        self.assertEqual(sum(1 for r in rotated if r.get("event_type") == "alert"), expected_alerts)
        self.assertFalse(any(r.get("event_type") == "alert" for r in records(self.read(self.eve))),
                         "the new file starts after the rotation")

        # Second rotation: the first rotated file is compressed now, the second one is not.
        self.rotate(config)
        wait_for(lambda: self.stats_in(self.eve) >= 1, "a stats record in the third eve.json", self.process)
        compressed = os.path.join(self.workdir, "eve.json.2.gz")
        self.assertTrue(os.path.exists(compressed), os.listdir(self.workdir))
        with gzip.open(compressed, "rt", encoding="utf-8") as stream:
            self.assertEqual(records(stream.read()), rotated)
        self.assertGreaterEqual(self.stats_in(first), 1)

        # The sensor still stops cleanly, its final stats record in the newest file.
        self.process.terminate()
        self.assertEqual(self.process.wait(timeout=60), 0)
        final = [r for r in records(self.read(self.eve)) if r.get("event_type") == "stats"][-1]
        self.assertTrue(final["misdirect"]["sensor"]["final"])


if __name__ == "__main__":
    unittest.main()
