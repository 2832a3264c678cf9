"""service suite: the systemd units as installed — `systemd-analyze verify` finds nothing to say
about them (a warning fails the test, as does an ExecStart that is not executable), and they say
what docs/service.md promises: Type=notify with a watchdog, the runtime, state and log
directories, the hardening that still lets DPDK work.
"""
import configparser
import os
import shutil
import subprocess
import tempfile
import unittest

import misdirect_e2e as e2e

UNITS = os.path.join(e2e.SOURCE, "etc", "systemd")


def render(template, bindir, sysconfdir="/etc"):
    with open(template, encoding="utf-8") as source:
        text = source.read()
    return text.replace("@BINDIR@", bindir).replace("@SYSCONFDIR@", sysconfdir)


def parse(text):
    # systemd allows a key more than once; the keys these tests read appear once.
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str
    parser.read_string(text)
    return parser


class UnitTest(unittest.TestCase):
    def setUp(self):
        if shutil.which("systemd-analyze") is None:
            self.skipTest("systemd-analyze is not installed (scripts/setup installs systemd)")
        e2e.require_binary()
        self.scratch = tempfile.TemporaryDirectory()
        self.addCleanup(self.scratch.cleanup)
        # The unit points at the binary under test, as the installed one points at /usr/bin.
        self.bindir = os.path.dirname(os.path.abspath(e2e.binary()))

    def write_unit(self, template, name):
        path = os.path.join(self.scratch.name, name)
        with open(path, "w", encoding="utf-8") as out:
            out.write(render(os.path.join(UNITS, template), self.bindir))
        return path

    def verify(self, path):
        # --man=no: the man pages are checked by the packaging tests, where they are installed.
        done = subprocess.run(["systemd-analyze", "verify", "--man=no", path], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=self.scratch.name)
        return done.returncode, (done.stdout + done.stderr).strip()

    def test_verify_clean(self):
        for template, name in (("misdirect.service.in", "misdirect.service"),
                               ("misdirect@.service.in", "misdirect@east.service")):
            with self.subTest(name=name):
                code, said = self.verify(self.write_unit(template, name))
                self.assertEqual(code, 0, said)
                self.assertEqual(said, "", "systemd-analyze verify has something to say")

    def test_verify_would_catch_a_mistake(self):
        # The check above can fail: a misspelt value and a missing binary are reported.
        path = self.write_unit("misdirect.service.in", "misdirect.service")
        with open(path, encoding="utf-8") as source:
            text = source.read()
        with open(path, "w", encoding="utf-8") as out:
            out.write(text.replace("Type=notify", "Type=notifyy"))
        self.assertIn("notifyy", self.verify(path)[1])
        with open(path, "w", encoding="utf-8") as out:
            out.write(text.replace(self.bindir + "/misdirect", "/nonexistent/misdirect"))
        code, said = self.verify(path)
        self.assertTrue(code != 0 or "nonexistent" in said, said)

    def test_service_settings(self):
        for template in ("misdirect.service.in", "misdirect@.service.in"):
            with self.subTest(unit=template):
                service = parse(render(os.path.join(UNITS, template), "/usr/bin"))["Service"]
                self.assertEqual(service["Type"], "notify")
                self.assertEqual(service["NotifyAccess"], "main")
                self.assertRegex(service["WatchdogSec"], r"^\d+s$")
                self.assertIn("kill -HUP $MAINPID", service["ExecReload"])
                self.assertTrue(service["ExecStart"].startswith("/usr/bin/misdirect live --config /etc/misdirect/"))
                self.assertEqual(service["ProtectSystem"], "strict")
                self.assertTrue(service["RuntimeDirectory"].startswith("misdirect"))
                self.assertTrue(service["StateDirectory"].startswith("misdirect"))
                self.assertTrue(service["LogsDirectory"].startswith("misdirect"))
                self.assertEqual(service["LimitMEMLOCK"], "infinity")
                capabilities = service["CapabilityBoundingSet"].split()
                for needed in ("CAP_IPC_LOCK", "CAP_NET_RAW", "CAP_NET_ADMIN", "CAP_SYS_ADMIN"):
                    self.assertIn(needed, capabilities)
                self.assertNotIn("PrivateDevices", service, "DPDK needs /dev (hugepages, vfio, uio)")

    def test_template_keeps_instances_apart(self):
        service = parse(render(os.path.join(UNITS, "misdirect@.service.in"), "/usr/bin"))["Service"]
        command = service["ExecStart"]
        for per_instance in ("/etc/misdirect/%i.toml", "--file-prefix misdirect-%i",
                             "/run/misdirect/%i/control.sock", "/var/lib/misdirect/%i",
                             "/var/log/misdirect/%i/"):
            self.assertIn(per_instance, command)
        self.assertEqual(service["RuntimeDirectory"], "misdirect/%i")


if __name__ == "__main__":
    unittest.main()
