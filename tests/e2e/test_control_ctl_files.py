"""control suite: `misdirect-ctl push` names a list file it cannot use by FILE or FILE:LINE, before
it ever talks to a sensor (so no sensor, root or socket is needed here, and the socket path never
stands in front of the file's problem).
"""
import os
import subprocess
import sys
import tempfile
import unittest

SOURCE = os.environ.get("MISDIRECT_SOURCE",
                        os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CTL = os.path.join(SOURCE, "scripts", "misdirect-ctl")


class PushFileErrorsTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.addCleanup(self.scratch.cleanup)
        self.socket = os.path.join(self.scratch.name, "no-sensor.sock")

    def push(self, *args):
        return subprocess.run([sys.executable, CTL, "--socket", self.socket, "push", *args],
                              capture_output=True, text=True, timeout=30)

    def test_missing_list_file_is_named_alone(self):
        missing = os.path.join(self.scratch.name, "missing.txt")
        result = self.push("--protected", missing)
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.startswith(f"misdirect-ctl: {missing}: "), result.stderr)
        self.assertNotIn(self.socket, result.stderr)

    def test_non_utf8_list_file_is_named_with_its_line(self):
        path = os.path.join(self.scratch.name, "latin1.txt")
        with open(path, "wb") as out:
            out.write(b"army.mil\nn\xe4vy.mil\n")
        result = self.push("--protected", path)
        self.assertEqual(result.returncode, 2)
        self.assertEqual(result.stderr.strip(), f"misdirect-ctl: {path}:2: not UTF-8")

    def test_bad_allow_file_is_named_too(self):
        protected = os.path.join(self.scratch.name, "protected.txt")
        with open(protected, "w", encoding="utf-8") as out:
            out.write("army.mil\n")
        missing = os.path.join(self.scratch.name, "allow-missing.txt")
        result = self.push("--protected", protected, "--allow", missing)
        self.assertEqual(result.returncode, 2)
        self.assertTrue(result.stderr.startswith(f"misdirect-ctl: {missing}: "), result.stderr)


if __name__ == "__main__":
    unittest.main()
