"""`misdirect --version` and `misdirect version`: the version, the git revision the binary was
built from, the build type, and the DPDK and Hyperscan versions it runs with."""
import os
import re
import shutil
import subprocess
import unittest

import misdirect_e2e as e2e


def setUpModule():
    e2e.require_binary()


def project_version():
    with open(os.path.join(e2e.SOURCE, "meson.build"), encoding="utf-8") as source:
        return re.search(r"version:\s*'([^']+)'", source.read()).group(1)


def pkg_version(name):
    if shutil.which("pkg-config") is None:
        return None
    done = subprocess.run(["pkg-config", "--modversion", name], stdout=subprocess.PIPE, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


class VersionTest(unittest.TestCase):
    def version(self, *arguments):
        done = e2e.run_misdirect(list(arguments))
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stderr, b"")
        return done.stdout.decode()

    def test_flag_and_command_agree(self):
        self.assertEqual(self.version("--version"), self.version("version"))

    def test_lines(self):
        lines = self.version("--version").splitlines()
        self.assertEqual(len(lines), 4, lines)
        match = re.fullmatch(r"misdirect (\S+) \(git (\S+)\)", lines[0])
        self.assertIsNotNone(match, lines[0])
        self.assertEqual(match.group(1), project_version())
        revision = match.group(2)
        self.assertRegex(revision, r"^([0-9a-f]{7,40}|v?[\w.-]+)(-dirty)?$|^unknown$")
        self.assertRegex(lines[1], r"^build (plain|debug|debugoptimized|release|minsize|custom), assertions (on|off)$")
        self.assertRegex(lines[2], r"^DPDK \d+\.\d+")
        self.assertRegex(lines[3], r"^Hyperscan \d+\.\d+\.\d+")

    def test_libraries_are_the_installed_ones(self):
        lines = self.version("version").splitlines()
        dpdk, hyperscan = pkg_version("libdpdk"), pkg_version("libhs")
        if dpdk is None or hyperscan is None:
            self.skipTest("pkg-config does not know libdpdk and libhs here")
        self.assertEqual(lines[2], f"DPDK {dpdk}")
        self.assertTrue(lines[3].startswith(f"Hyperscan {hyperscan} "), lines[3])

    def test_revision_is_the_checkout_it_was_built_from(self):
        if not os.path.exists(os.path.join(e2e.SOURCE, ".git")) or shutil.which("git") is None:
            self.skipTest("not a git checkout")
        head = subprocess.run(["git", "-C", e2e.SOURCE, "rev-parse", "HEAD"], stdout=subprocess.PIPE,
                              text=True).stdout.strip()
        revision = re.search(r"\(git (\S+)\)", self.version("--version")).group(1)
        if revision == "unknown":
            self.skipTest("built without git")
        commit = revision.removesuffix("-dirty")
        described = re.search(r"-g([0-9a-f]+)$", commit)  # TAG-N-gHASH when the history has tags
        if described:
            commit = described.group(1)
        elif not re.fullmatch(r"[0-9a-f]{7,40}", commit):
            self.skipTest(f"built at tag {commit}")
        self.assertTrue(head.startswith(commit),
                        f"built from {revision}, checkout at {head} (rebuild after committing)")

    def test_version_takes_no_arguments(self):
        done = e2e.run_misdirect(["version", "--json"])
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"no arguments", done.stderr)


if __name__ == "__main__":
    unittest.main()
