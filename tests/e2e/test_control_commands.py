"""control suite: the operator's commands (check, version, uptime, reopen, help) against a real
running `misdirect live` sensor, through scripts/misdirect-ctl and the raw protocol.

Reuses the FIFO-fed sensor of test_control_live. Needs root (EAL without hugepages).
"""
import datetime
import json
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import live_e2e  # noqa: E402
from test_control_live import (Client, ControlLiveTest, is_smtp_for, setUpModule,  # noqa: E402,F401
                               write_list)

INPUTS = ["bob@army.ml", "ops@navy.ml", "army.mil", "navy.mil", "x@[192.0.2.1]", "bad..domain"]


def parse_timestamp(text):
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


class ControlCommandsTest(ControlLiveTest):
    """Borrows ControlLiveTest's sensor set-up; its own cases run from test_control_live only
    (load_tests below)."""

    def misdirect_check(self, protected):
        """`misdirect check` over INPUTS with list files: what the socket's check must agree with."""
        path = write_list(os.path.join(self.workdir, f"check-{len(protected)}.txt"), protected)
        return subprocess.run([live_e2e.BINARY, "check", *INPUTS, "--protected", path],
                              capture_output=True, text=True, timeout=120)

    def test_check_answers_with_the_running_sensors_current_lists(self):
        sensor = self.start(("army.mil",))
        from_sensor = self.ctl(sensor, "check", *INPUTS)
        from_files = self.misdirect_check(["army.mil"])
        self.assertEqual(from_files.returncode, 1, from_files.stderr)
        self.assertEqual((from_sensor.returncode, from_sensor.stdout),
                         (from_files.returncode, from_files.stdout), from_sensor.stderr)
        self.assertIn("bob@army.ml: look-alike of army.mil", from_sensor.stdout)
        self.assertIn("ops@navy.ml: not a look-alike: no look-alike of a protected domain", from_sensor.stdout)

        # After a push the same question gets the new lists' answer.
        pushed = self.ctl(sensor, "add", "--protected", "navy.mil")
        self.assertEqual(pushed.returncode, 0, pushed.stderr)
        from_sensor = self.ctl(sensor, "check", *INPUTS)
        from_files = self.misdirect_check(["army.mil", "navy.mil"])
        self.assertEqual((from_sensor.returncode, from_sensor.stdout),
                         (from_files.returncode, from_files.stdout), from_sensor.stderr)
        self.assertIn("ops@navy.ml: look-alike of navy.mil", from_sensor.stdout)

        # --json prints the objects `misdirect check --json` prints; the raw answer carries the
        # generation that judged them.
        as_json = self.ctl(sensor, "check", "--json", "ops@navy.ml")
        files_json = subprocess.run([live_e2e.BINARY, "check", "--json", "ops@navy.ml", "--protected",
                                     os.path.join(self.workdir, "check-2.txt")],
                                    capture_output=True, text=True, timeout=120)
        self.assertEqual(as_json.stdout, files_json.stdout)
        client = Client(sensor.socket_path)
        answer = client.ask({"id": 9, "cmd": "check", "inputs": ["ops@navy.ml"]})
        self.assertEqual(answer["generation"], client.ask({"cmd": "ping"})["generation"])
        self.assertEqual(answer["results"], [json.loads(files_json.stdout)])
        refused = client.ask({"id": 10, "cmd": "check", "inputs": []})
        self.assertEqual(refused["error"]["code"], "invalid_request")
        client.close()
        self.assertEqual(sensor.stop(), 0, sensor.log())

    def test_reopen_does_what_sighup_does_and_says_whether_it_worked(self):
        sensor = self.start(("army.mil",))
        watcher = Client(sensor.socket_path)
        watcher.ask({"cmd": "subscribe", "events": ["smtp"]})
        first = sensor.send_session(["a@army.ml"])
        watcher.records_until(is_smtp_for(first))
        # As logrotate does: move the file away, then ask for a reopen.
        rotated = sensor.eve + ".1"
        os.rename(sensor.eve, rotated)
        reopened = self.ctl(sensor, "reopen")
        self.assertEqual((reopened.returncode, reopened.stdout), (0, f"reopened {sensor.eve}\n"), reopened.stderr)
        second = sensor.send_session(["b@army.ml"])
        watcher.records_until(is_smtp_for(second))
        # The smtp record reached the subscriber after the EVE file; wait for it on disk.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            ports = [r.get("src_port") for r in live_e2e.read_records(sensor.eve)]
            if second in ports:
                break
            time.sleep(0.2)
        self.assertIn(second, [r.get("src_port") for r in live_e2e.read_records(sensor.eve)])
        self.assertNotIn(second, [r.get("src_port") for r in live_e2e.read_records(rotated)])
        self.assertIn(first, [r.get("src_port") for r in live_e2e.read_records(rotated)])

        # A path that cannot be opened: the answer says so, with the reason.
        os.rename(sensor.eve, sensor.eve + ".2")
        os.mkdir(sensor.eve)
        failed = self.ctl(sensor, "reopen")
        self.assertEqual(failed.returncode, 1)
        self.assertIn(f"refused (reopen_failed): --eve {sensor.eve}: Is a directory", failed.stderr)
        self.assertEqual(watcher.ask({"cmd": "ping"})["ok"], True)  # the sensor runs on
        stats = watcher.ask({"cmd": "stats"})["sensor"]["misdirect"]["output"]
        self.assertGreaterEqual(stats["reopen_failures"], 1)
        watcher.close()
        # Once the path is usable again the sink reopens it by itself (back-off) and nothing is lost.
        os.rmdir(sensor.eve)
        third = sensor.send_session(["carol@army.ml"])
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if os.path.isfile(sensor.eve) and third in [r.get("src_port") for r in live_e2e.read_records(sensor.eve)]:
                break
            time.sleep(0.2)
        self.assertIn(third, [r.get("src_port") for r in live_e2e.read_records(sensor.eve)])
        self.assertEqual(sensor.stop(), 0, sensor.log())

    def test_version_uptime_and_help(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        sensor = self.start(("army.mil",))
        after = datetime.datetime.now(datetime.timezone.utc)
        version = self.ctl(sensor, "version")
        own = subprocess.run([live_e2e.BINARY, "--version"], capture_output=True, text=True, timeout=60)
        self.assertEqual((version.returncode, version.stdout), (0, own.stdout), version.stderr)
        as_json = json.loads(self.ctl(sensor, "version", "--json").stdout)
        self.assertEqual(sorted(as_json), ["assertions", "build_type", "dpdk", "git_revision", "hyperscan",
                                           "version"])

        first = json.loads(self.ctl(sensor, "uptime", "--json").stdout)
        started = parse_timestamp(first["started"])
        self.assertLessEqual(before - datetime.timedelta(seconds=1), started)
        self.assertLessEqual(started, after)
        time.sleep(1.1)
        second = json.loads(self.ctl(sensor, "uptime", "--json").stdout)
        self.assertEqual(second["started"], first["started"])
        self.assertGreater(second["uptime_s"], first["uptime_s"])
        self.assertRegex(self.ctl(sensor, "uptime").stdout, r"^up 0 d \d\d:\d\d:\d\d, since ")

        listed = self.ctl(sensor, "help")
        self.assertEqual(listed.returncode, 0, listed.stderr)
        names = [line.split()[0] for line in listed.stdout.splitlines()]
        self.assertEqual(names, ["ping", "lists.set", "lists.add", "lists.remove", "lists.get", "stats",
                                 "subscribe", "check", "version", "uptime", "reopen", "help"])
        # Every command help lists is one the sensor knows.
        client = Client(sensor.socket_path)
        for name in names:
            answer = client.ask({"cmd": name})
            self.assertNotEqual(answer.get("error", {}).get("code"), "unknown_command", name)
        client.close()
        self.assertEqual(sensor.stop(), 0, sensor.log())


# Only this module's cases: the borrowed base class's own tests run from test_control_live.
def load_tests(loader, standard_tests, pattern):
    return loader.loadTestsFromNames(
        [f"{__name__}.ControlCommandsTest.{name}" for name in loader.getTestCaseNames(ControlCommandsTest)
         if name in ControlCommandsTest.__dict__])


if __name__ == "__main__":
    unittest.main()
