"""Error cases of `misdirect replay`: each gives a clear message on stderr that names the problem
(the file, the line, the link type) and a non-zero exit; what is readable is still processed.
"""
import os
import tempfile
import unittest

import misdirect_e2e as e2e

ERRORS = os.path.join(e2e.PCAPS, "errors")
PLAIN = os.path.join(e2e.PCAPS, "plain-session.pcap")
PLAIN_ALERTS = 4  # pcaps/plain-session.expected.jsonl


def setUpModule():
    e2e.require_binary()


class ReplayErrorTest(unittest.TestCase):
    def setUp(self):
        self.scratch = tempfile.TemporaryDirectory()
        self.addCleanup(self.scratch.cleanup)

    def write(self, name, text):
        path = os.path.join(self.scratch.name, name)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        return path

    def test_missing_capture(self):
        missing = os.path.join(self.scratch.name, "no-such-capture.pcap")
        replay = e2e.run_replay([missing])
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(missing, replay.stderr)
        self.assertEqual(replay.alerts, [])

    def test_missing_capture_does_not_stop_the_others(self):
        missing = os.path.join(self.scratch.name, "no-such-capture.pcap")
        replay = e2e.run_replay([missing, PLAIN])
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(missing, replay.stderr)
        self.assertEqual(len(replay.alerts), PLAIN_ALERTS)
        self.assertEqual(replay.records[-1].get("event_type"), "stats")

    def test_corrupt_capture(self):
        path = os.path.join(ERRORS, "corrupt.pcap")
        replay = e2e.run_replay([path])
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(path, replay.stderr)
        self.assertEqual(replay.alerts, [])

    def test_unknown_link_type(self):
        path = os.path.join(ERRORS, "unknown-linktype.pcap")
        replay = e2e.run_replay([path])
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(path, replay.stderr)
        self.assertIn("link", replay.stderr.lower())
        self.assertIn("147", replay.stderr, "the message should name the link type (147, USER0)")

    def test_file_cut_mid_record(self):
        # pcaps/truncated-file.pcap holds 20 whole records, then half of the 21st.
        path = os.path.join(e2e.PCAPS, "truncated-file.pcap")
        self.assertEqual(e2e.count_packets(path), 20)
        replay = e2e.run_replay([path])
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(path, replay.stderr)
        self.assertRegex(replay.stderr, r"\b20\b", "stderr should say where reading stopped (after packet 20)")
        self.assertEqual(sorted(a["misdirect"]["recipient"] for a in replay.alerts), ["cut1@army.ml", "cut2@amry.mil"])
        self.assertEqual(replay.records[-1].get("event_type"), "stats")

    def test_bad_protected_list_line(self):
        bad = self.write("protected.txt", "# protected\narmy.mil\nar my.mil\nnavy.mil\n")
        replay = e2e.run_replay([PLAIN], protected=bad)
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(f"{bad}:3", replay.stderr)
        self.assertIn("ar my.mil", replay.stderr)
        self.assertEqual(replay.records, [], "nothing may be replayed with a bad list")

    def test_bad_allow_list_line(self):
        bad = self.write("allow.txt", "examplebank.co\n\nexample..com\n")
        replay = e2e.run_replay([PLAIN], allow=bad)
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(f"{bad}:3", replay.stderr)
        self.assertIn("example..com", replay.stderr)
        self.assertEqual(replay.records, [])

    def test_empty_protected_list_is_refused(self):
        for text in ("", "# only comments\n\n   # and blanks\n"):
            empty = self.write("protected.txt", text)
            replay = e2e.run_replay([PLAIN], protected=empty)
            self.assertEqual(replay.returncode, 2, replay.stderr)
            self.assertIn(f"{empty}: no protected domains", replay.stderr)
            self.assertEqual(replay.records, [])

    def test_unknown_matcher_engine(self):
        replay = e2e.run_replay([PLAIN], extra=["--matcher-engine", "regex"])
        self.assertEqual(replay.returncode, 2)
        self.assertIn('--matcher-engine: "regex" is not hash or hyperscan', replay.stderr)
        self.assertEqual(replay.records, [])

    def test_missing_protected_list(self):
        missing = os.path.join(self.scratch.name, "no-such-list.txt")
        replay = e2e.run_replay([PLAIN], protected=missing)
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(missing, replay.stderr)
        self.assertEqual(replay.records, [])


    def test_unwritable_eve_output_fails_naming_the_path(self):
        # /dev/full: every write fails with ENOSPC. The replay still reads the whole capture,
        # then exits 1 naming the path (it used to exit 0).
        replay = e2e.run_replay([PLAIN], extra=["--eve", "/dev/full"])
        self.assertEqual(replay.returncode, 1, replay.stderr)
        self.assertIn("/dev/full", replay.stderr)
        self.assertIn("No space left on device", replay.stderr)
        self.assertEqual(replay.records, [])

    def test_a_libpcap_error_stops_the_replay_where_it_happened(self):
        # Three good records, one whose captured length libpcap refuses, then more good ones
        # (with alerts) that must not be read: after an error the file position means nothing.
        good = open(PLAIN, "rb").read()
        header, body = good[:24], good[24:]
        records = []
        while body:
            caplen = int.from_bytes(body[8:12], "little")
            records.append(body[:16 + caplen])
            body = body[16 + caplen:]
        bad = records[2][:8] + (0x7FFFFF00).to_bytes(4, "little") + records[2][12:16]
        path = os.path.join(self.scratch.name, "bad-record.pcap")
        with open(path, "wb") as out:
            out.write(header + b"".join(records[:2]) + bad + b"".join(records[3:]))
        replay = e2e.run_replay([path])
        self.assertNotEqual(replay.returncode, 0)
        self.assertIn(f"{path}: stopped after packet 2 (reading packet 3)", replay.stderr)
        stats = replay.records[-1]
        self.assertEqual(stats.get("event_type"), "stats")
        self.assertEqual(stats["misdirect"]["worker"]["packets"], 2)


if __name__ == "__main__":
    unittest.main()
