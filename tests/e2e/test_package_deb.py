"""package suite: `scripts/package` builds the Debian package, and what it holds works when
unpacked into a scratch root (`dpkg -x`, no container): the binary runs `--version` and checks the
shipped example configuration, misdirect-ctl answers `--help`, the units and the example are in
place and marked as configuration, the service is enabled by the maintainer scripts, and the
dependencies name the shared libraries the binary links.

Slow (a full build), so it is a suite of its own. MISDIRECT_DEB=PATH tests a .deb already built.
"""
import os
import shutil
import subprocess
import tempfile
import unittest

import misdirect_e2e as e2e


def run(args, **kwargs):
    return subprocess.run(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kwargs)


class DebianPackageTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("dpkg-deb", "dpkg-buildpackage"):
            if shutil.which(tool) is None:
                raise unittest.SkipTest(f"{tool} is not installed (scripts/setup installs dpkg-dev)")
        cls.scratch = tempfile.mkdtemp(prefix="mdr-package-")
        cls.deb = os.environ.get("MISDIRECT_DEB")
        if not cls.deb:
            built = run([os.path.join(e2e.SOURCE, "scripts", "package"), "--output", cls.scratch],
                        cwd=e2e.SOURCE, timeout=3600)
            if built.returncode != 0:
                shutil.rmtree(cls.scratch, ignore_errors=True)
                raise AssertionError(f"scripts/package failed:\n{built.stderr}")
            cls.deb = built.stdout.strip().splitlines()[-1]
        cls.root = os.path.join(cls.scratch, "root")
        unpacked = run(["dpkg-deb", "-x", cls.deb, cls.root])
        control = os.path.join(cls.scratch, "DEBIAN")
        control_unpacked = run(["dpkg-deb", "-e", cls.deb, control])
        if unpacked.returncode != 0 or control_unpacked.returncode != 0:
            raise AssertionError(unpacked.stderr + control_unpacked.stderr)
        cls.control = control

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.scratch, ignore_errors=True)

    def path(self, installed):
        return os.path.join(self.root, installed.lstrip("/"))

    def field(self, name):
        return run(["dpkg-deb", "-f", self.deb, name]).stdout.strip()

    def test_the_package_is_named_and_versioned_from_debian_changelog(self):
        version = run(["dpkg-parsechangelog", "-S", "Version"], cwd=e2e.SOURCE).stdout.strip()
        self.assertEqual(self.field("Package"), "misdirect")
        self.assertEqual(self.field("Version"), version)
        self.assertEqual(self.field("Architecture"), "amd64")
        self.assertEqual(os.path.basename(self.deb), f"misdirect_{version}_amd64.deb")

    def test_the_dependencies_name_the_linked_libraries(self):
        depends = self.field("Depends")
        for package in ("python3", "publicsuffix", "libpcap0.8", "libhyperscan5", "libtomlplusplus3",
                        "libsystemd0"):
            self.assertIn(package, depends)
        self.assertIn("librte-", depends)  # DPDK's libraries, found by dpkg-shlibdeps

    def test_every_file_is_in_place(self):
        for installed in ("/usr/bin/misdirect", "/usr/bin/misdirect-ctl",
                          "/lib/systemd/system/misdirect.service", "/lib/systemd/system/misdirect@.service",
                          "/etc/misdirect/misdirect.toml.example", "/etc/logrotate.d/misdirect",
                          "/usr/share/man/man8/misdirect.8.gz", "/usr/share/man/man8/misdirect-ctl.8.gz",
                          "/usr/share/man/man5/misdirect.toml.5.gz"):
            with self.subTest(installed=installed):
                self.assertTrue(os.path.isfile(self.path(installed)), installed)
        self.assertFalse(os.path.exists(self.path("/etc/misdirect/misdirect.toml")),
                         "the service must wait for the operator's own configuration")
        self.assertFalse(os.path.exists(self.path("/usr/bin/misdirect_tests")))

    def test_the_installed_binary_runs(self):
        binary = self.path("/usr/bin/misdirect")
        done = run([binary, "--version"])
        self.assertEqual(done.returncode, 0, done.stderr)
        version = self.field("Version")
        self.assertTrue(done.stdout.startswith(f"misdirect {version}"), done.stdout)
        if os.path.isdir(os.path.join(e2e.SOURCE, ".git")) or os.path.isfile(os.path.join(e2e.SOURCE, ".git")):
            self.assertNotIn("unknown", done.stdout.splitlines()[0] + done.stdout,
                             "the git revision was not handed to the package build")
        example = self.path("/etc/misdirect/misdirect.toml.example")
        done = run([binary, "config", "check", example])
        self.assertEqual((done.returncode, done.stderr), (0, ""))
        done = run(["python3", self.path("/usr/bin/misdirect-ctl"), "--help"])
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertIn("usage: misdirect-ctl", done.stdout)

    def test_the_units_run_the_installed_binary_with_the_installed_configuration(self):
        with open(self.path("/lib/systemd/system/misdirect.service"), encoding="utf-8") as unit:
            text = unit.read()
        self.assertIn("ExecStart=/usr/bin/misdirect live --config /etc/misdirect/misdirect.toml\n", text)
        self.assertIn("ConditionPathExists=/etc/misdirect/misdirect.toml\n", text)
        if shutil.which("systemd-analyze") is not None:
            # The scratch root is no system to verify in; the shipped unit, pointed at the
            # unpacked binary, is verified on this one (any warning fails, as in the service suite).
            unit_path = os.path.join(self.scratch, "misdirect.service")
            with open(unit_path, "w", encoding="utf-8") as unit:
                unit.write(text.replace("/usr/bin/misdirect", self.path("/usr/bin/misdirect")))
            done = run(["systemd-analyze", "verify", "--man=no", unit_path], cwd=self.scratch)
            self.assertEqual((done.returncode, (done.stdout + done.stderr).strip()), (0, ""))

    def test_configuration_files_are_conffiles_and_the_service_is_enabled(self):
        with open(os.path.join(self.control, "conffiles"), encoding="utf-8") as conffiles:
            listed = conffiles.read().split()
        self.assertIn("/etc/misdirect/misdirect.toml.example", listed)
        self.assertIn("/etc/logrotate.d/misdirect", listed)
        with open(os.path.join(self.control, "postinst"), encoding="utf-8") as postinst:
            script = postinst.read()
        self.assertIn("deb-systemd-helper", script)
        self.assertIn("misdirect.service", script)


if __name__ == "__main__":
    unittest.main()
