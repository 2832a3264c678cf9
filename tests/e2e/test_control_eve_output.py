"""control suite: the live sensor's EVE file survives a full disk.

The real `misdirect live` (FIFO-fed net_pcap port, control socket on) writes its EVE file onto a
tiny tmpfs this test mounts. The test fills the tmpfs, sends sessions whose alerts cannot be
written, checks the socket's stats count the failed writes, frees the space, and checks that the
kept alerts and later ones reach the file without a restart, and that the sensor exits 0 with
nothing lost.

Needs root (mount, EAL without hugepages).
"""
import os
import subprocess
import tempfile
import time
import unittest

import live_e2e
import test_control_live as control_live

TMPFS_BYTES = 256 * 1024


def wait_for(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def alert_ports(path):
    try:
        records = live_e2e.read_records(path)
    except (OSError, ValueError):
        return set()
    return {r.get("src_port") for r in records if r.get("event_type") == "alert"}


@unittest.skipUnless(os.geteuid() == 0, "needs root (mount, EAL)")
class EveOutputRecoveryTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory(prefix="mdr-eve-hostile-")
        self.addCleanup(self.scratch.cleanup)
        self.mount = os.path.join(self.scratch.name, "tiny")
        os.mkdir(self.mount)
        subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={TMPFS_BYTES}", "tmpfs", self.mount], check=True)
        self.addCleanup(subprocess.run, ["umount", "-l", self.mount], check=False)
        self.workdir = os.path.join(self.scratch.name, "work")
        os.mkdir(self.workdir)
        # The sensor writes <workdir>/eve.json; that name leads onto the tiny tmpfs.
        self.eve = os.path.join(self.mount, "eve.json")
        os.symlink(self.eve, os.path.join(self.workdir, "eve.json"))

    def fill(self):
        path = os.path.join(self.mount, "filler")
        with open(path, "wb", buffering=0) as out:
            try:
                while True:
                    out.write(b"\0" * 4096)
            except OSError:
                pass
        return path

    def output_stats(self, sensor):
        client = control_live.Client(sensor.socket_path, timeout=30)
        try:
            answer = client.ask({"cmd": "stats"})
        finally:
            client.close()
        record = answer["sensor"]
        return record["misdirect"]["output"]

    def test_a_full_disk_delays_records_and_they_resume_without_a_restart(self):
        sensor = control_live.LiveSensor(self.workdir, control_live.SessionWriter(), live_e2e.list_args())
        try:
            before = sensor.send_session(["bob@army.ml"])
            wait_for(lambda: before in alert_ports(self.eve), 60, "the first alert")
            filler = self.fill()
            # The file's last page may still take a record or two: send until a write fails.
            during = []
            deadline = time.monotonic() + 120
            stats = self.output_stats(sensor)
            while stats["write_errors"] == 0:
                self.assertLess(time.monotonic(), deadline, "no write ever failed on the full tmpfs")
                during.append(sensor.send_session([f"carol{len(during)}@army.ml", "dave@amry.mil"]))
                time.sleep(0.5)
                stats = self.output_stats(sensor)
            during.append(sensor.send_session(["frank@army.ml"]))
            self.assertGreater(stats["buffered_bytes"], 0)
            self.assertNotIn(during[-1], alert_ports(self.eve), "written while the disk was full?")
            os.unlink(filler)
            wait_for(lambda: set(during) <= alert_ports(self.eve), 90, "the kept alerts after space came back")
            after = sensor.send_session(["erin@army.ml"])
            wait_for(lambda: after in alert_ports(self.eve), 60, "an alert after recovery")
            stats = self.output_stats(sensor)
            self.assertEqual(stats["records_lost"], 0)
        finally:
            code = sensor.stop()
            log = sensor.log()
        self.assertEqual(code, 0, log)
        self.assertIn("EVE output", log)
        self.assertIn("writing again", log)
        # Every line in the file is one whole record.
        records = live_e2e.read_records(self.eve)
        self.assertTrue(all("event_type" in r for r in records))


if __name__ == "__main__":
    unittest.main()
