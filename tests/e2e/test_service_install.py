"""service suite: `meson install` into a scratch DESTDIR puts every file of the service in place —
the binary, misdirect-ctl, both systemd units (paths filled in), the example configuration, the
logrotate snippet and the three man pages — and what it installed works: the binary prints its
version, the units name the installed binary and configuration, the example passes
`config check`, and `man` renders each page without a warning.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest

import misdirect_e2e as e2e


def build_dir():
    """The meson build directory the binary under test came from, or None."""
    binary = e2e.binary()
    if binary is None:
        return None
    directory = os.path.dirname(os.path.abspath(binary))
    return directory if os.path.isdir(os.path.join(directory, "meson-private")) else None


def configured(build, name):
    """A meson option's value in the build directory."""
    done = subprocess.run(["meson", "introspect", build, "--buildoptions"], stdout=subprocess.PIPE,
                          text=True, check=True)
    for option in json.loads(done.stdout):
        if option["name"] == name:
            return option["value"]
    raise KeyError(name)


class InstallTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.build = build_dir()
        if cls.build is None:
            raise unittest.SkipTest("the binary under test is not in a meson build directory")
        cls.root = tempfile.mkdtemp(prefix="mdr-install-")
        done = subprocess.run(["meson", "install", "-C", cls.build, "--no-rebuild", "--quiet",
                               "--destdir", cls.root], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              text=True, timeout=600)
        if done.returncode != 0:
            shutil.rmtree(cls.root, ignore_errors=True)
            raise AssertionError(f"meson install failed:\n{done.stdout}")
        cls.prefix = configured(cls.build, "prefix")
        cls.bindir = os.path.join(cls.prefix, configured(cls.build, "bindir"))
        cls.sysconfdir = os.path.join(cls.prefix, configured(cls.build, "sysconfdir"))
        cls.mandir = os.path.join(cls.prefix, configured(cls.build, "mandir"))
        cls.unitdir = configured(cls.build, "systemdsystemunitdir") or subprocess.run(
            ["pkg-config", "--variable=systemdsystemunitdir", "systemd"], stdout=subprocess.PIPE,
            text=True, check=True).stdout.strip()

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.root, ignore_errors=True)

    def staged(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def installed_files(self):
        found = set()
        for directory, _, names in os.walk(self.root):
            for name in names:
                found.add("/" + os.path.relpath(os.path.join(directory, name), self.root))
        return found

    def test_every_file_is_installed_and_nothing_else(self):
        expected = {
            os.path.join(self.bindir, "misdirect"),
            os.path.join(self.bindir, "misdirect-ctl"),
            os.path.join(self.unitdir, "misdirect.service"),
            os.path.join(self.unitdir, "misdirect@.service"),
            os.path.join(self.sysconfdir, "misdirect", "misdirect.toml.example"),
            os.path.join(self.sysconfdir, "logrotate.d", "misdirect"),
            os.path.join(self.mandir, "man8", "misdirect.8"),
            os.path.join(self.mandir, "man8", "misdirect-ctl.8"),
            os.path.join(self.mandir, "man5", "misdirect.toml.5"),
        }
        self.assertEqual(self.installed_files(), expected)
        for program in ("misdirect", "misdirect-ctl"):
            self.assertTrue(os.access(self.staged(os.path.join(self.bindir, program)), os.X_OK), program)

    def test_the_installed_binary_runs(self):
        done = subprocess.run([self.staged(os.path.join(self.bindir, "misdirect")), "--version"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertTrue(done.stdout.startswith("misdirect "), done.stdout)
        done = subprocess.run([self.staged(os.path.join(self.bindir, "misdirect")), "config", "check",
                               self.staged(os.path.join(self.sysconfdir, "misdirect", "misdirect.toml.example"))],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_the_units_name_the_installed_paths(self):
        with open(self.staged(os.path.join(self.unitdir, "misdirect.service")), encoding="utf-8") as unit:
            text = unit.read()
        self.assertNotIn("@", text.replace("misdirect@", ""))  # every @VARIABLE@ filled in
        self.assertIn(f"ExecStart={self.bindir}/misdirect live --config {self.sysconfdir}/misdirect/misdirect.toml",
                      text)
        with open(self.staged(os.path.join(self.unitdir, "misdirect@.service")), encoding="utf-8") as unit:
            self.assertIn(f"ExecStart={self.bindir}/misdirect live --config {self.sysconfdir}/misdirect/%i.toml",
                          unit.read())

    def test_the_man_pages_render_without_warnings(self):
        if shutil.which("man") is None:
            self.skipTest("man is not installed")
        pages = {"man8/misdirect.8": "--metrics-listen", "man8/misdirect-ctl.8": "--socket",
                 "man5/misdirect.toml.5": "state-dir"}
        for page, must_say in pages.items():
            with self.subTest(page=page):
                done = subprocess.run(["man", "--warnings", "-l", self.staged(os.path.join(self.mandir, page))],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                      env={**os.environ, "MANWIDTH": "100", "MANPAGER": "cat", "LC_ALL": "C.UTF-8"})
                self.assertEqual(done.returncode, 0, done.stderr)
                self.assertEqual(done.stderr.strip(), "")
                self.assertIn(must_say, done.stdout)


if __name__ == "__main__":
    unittest.main()
