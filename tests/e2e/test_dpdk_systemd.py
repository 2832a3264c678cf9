"""dpdk suite: `misdirect live` under systemd's notify protocol, with a real NOTIFY_SOCKET — a unix
datagram socket this test binds, as systemd does: READY=1 only once the control socket listens,
STATUS= lines with packets and alerts, WATCHDOG=1 at half the WATCHDOG_USEC interval, STOPPING=1
on drain. And without NOTIFY_SOCKET the sensor runs as before.
"""
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
import unittest

import live_e2e as live

CAPTURE = os.path.join(live.PCAPS, "plain-session.pcap")


class Notifications:
    """The datagrams the sensor sends, with the time each arrived."""

    def __init__(self, path):
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(path)
        self.socket.settimeout(0.1)
        self.received = []  # (monotonic seconds, text)

    def collect(self, seconds, until=None):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                data = self.socket.recv(4096)
            except socket.timeout:
                continue
            self.received.append((time.monotonic(), data.decode()))
            if until is not None and until(self.received[-1][1]):
                return True
        return False

    def close(self):
        self.socket.close()


class SystemdNotifyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not os.path.exists(live.BINARY):
            raise unittest.SkipTest(f"no binary at {live.BINARY} (set MISDIRECT)")

    def setUp(self):
        tmp = tempfile.TemporaryDirectory(prefix="mdr-notify-")
        self.addCleanup(tmp.cleanup)
        self.tmp = tmp.name
        self.notify_path = os.path.join(self.tmp, "notify.sock")
        self.control_path = os.path.join(self.tmp, "control.sock")
        self.notifications = Notifications(self.notify_path)
        self.addCleanup(self.notifications.close)

    def start(self, environment, extra=()):
        env = dict(os.environ)
        env.pop("NOTIFY_SOCKET", None)
        env.pop("WATCHDOG_USEC", None)
        env.pop("WATCHDOG_PID", None)
        env.update(environment)
        eve = os.path.join(self.tmp, "eve.json")
        args = [live.BINARY, "live", *live.eal_args(), "--vdev", f"net_pcap0,rx_pcap={CAPTURE}", "--",
                *live.list_args(), "--eve", eve, "--control", self.control_path, "--stats-interval", "0",
                "--mbufs", "4095", "--max-frame", "2048", "--rx-descriptors", "256",
                "--max-flows", str(live.TEST_MAX_FLOWS), *extra]
        stderr = tempfile.TemporaryFile()
        self.addCleanup(stderr.close)
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=stderr, env=env)

        def cleanup():
            if process.poll() is None:
                process.kill()
                process.wait()
        self.addCleanup(cleanup)
        return process, stderr

    @staticmethod
    def text(stderr):
        stderr.seek(0)
        return stderr.read().decode(errors="replace")

    def test_ready_status_watchdog_stopping(self):
        process, stderr = self.start({"NOTIFY_SOCKET": self.notify_path, "WATCHDOG_USEC": "1000000"})
        got_ready = self.notifications.collect(60, until=lambda m: "READY=1" in m)
        self.assertTrue(got_ready, f"no READY=1 within 60 s:\n{self.text(stderr)}")
        ready = [m for _, m in self.notifications.received if "READY=1" in m][0]
        # READY=1 comes only once the control socket listens.
        self.assertTrue(os.path.exists(self.control_path), "READY=1 before the control socket exists")
        self.assertRegex(ready, r"STATUS=running: 1 worker, \d+ packets?, \d+ alerts?, lists generation 1")
        self.assertIn("watchdog every 1.0 s", self.text(stderr))

        # The capture (4 alerts) flows through; a STATUS= line reports it within the status interval.
        def all_alerts_reported(message):
            match = re.search(r"STATUS=running: 1 worker, (\d+) packets?, (\d+) alerts?", message)
            return match is not None and int(match.group(2)) == 4 and int(match.group(1)) > 0
        self.assertTrue(self.notifications.collect(15, until=all_alerts_reported),
                        f"no STATUS= with the capture's 4 alerts: {self.notifications.received}")

        # WATCHDOG=1 every half second (half of WATCHDOG_USEC) while everything runs.
        start = time.monotonic()
        self.notifications.collect(3)
        pets = [t for t, m in self.notifications.received if m == "WATCHDOG=1" and t >= start]
        self.assertGreaterEqual(len(pets), 4, self.notifications.received)
        gaps = [b - a for a, b in zip(pets, pets[1:])]
        self.assertLess(max(gaps), 1.0, f"gaps between pets: {gaps}")

        process.send_signal(signal.SIGTERM)
        self.assertTrue(self.notifications.collect(30, until=lambda m: "STOPPING=1" in m),
                        f"no STOPPING=1: {self.notifications.received[-5:]}")
        stopping = [m for _, m in self.notifications.received if "STOPPING=1" in m][0]
        self.assertRegex(stopping, r"STATUS=stopping: 1 worker, \d+ packets, 4 alerts")
        self.assertEqual(process.wait(timeout=60), 0, self.text(stderr))

    def test_no_watchdog_without_watchdog_usec(self):
        process, stderr = self.start({"NOTIFY_SOCKET": self.notify_path})
        self.assertTrue(self.notifications.collect(60, until=lambda m: "READY=1" in m), self.text(stderr))
        self.notifications.collect(2)
        self.assertEqual([m for _, m in self.notifications.received if m.startswith("WATCHDOG")], [])
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=60), 0, self.text(stderr))

    def test_without_systemd_nothing_is_sent(self):
        process, stderr = self.start({})
        deadline = time.monotonic() + 60
        while "running:" not in self.text(stderr) and time.monotonic() < deadline:
            self.assertIsNone(process.poll(), self.text(stderr))
            time.sleep(0.05)
        self.notifications.collect(1.5)
        self.assertEqual(self.notifications.received, [])
        process.send_signal(signal.SIGTERM)
        self.assertEqual(process.wait(timeout=60), 0, self.text(stderr))


if __name__ == "__main__":
    unittest.main()
