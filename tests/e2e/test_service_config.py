"""service suite: the configuration file as the real binary reads it — `misdirect config check`
(exit 0 for the shipped example, exit 2 naming the key and line of a bad one), `replay --config`
giving the same records as the flags with a flag overriding the file, and `live --config FILE`
given the way the systemd units give it (before the EAL arguments, EAL arguments from the file).
"""
import os
import subprocess
import tempfile
import unittest

import live_e2e as live
import misdirect_e2e as e2e

EXAMPLE = os.path.join(e2e.SOURCE, "etc", "misdirect.toml.example")
CAPTURE = os.path.join(e2e.PCAPS, "kinds.pcap")


def run(args, timeout=120):
    done = subprocess.run([e2e.binary(), *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, timeout=timeout)
    return done.returncode, done.stdout, done.stderr


def comparable(lines):
    """Records without what differs per run (flow ids are salted per run; stats carry uptimes)."""
    records = []
    for record in e2e.parse_eve(lines):
        if record.get("event_type") == "stats":
            continue
        record.pop("flow_id", None)
        records.append(record)
    return records


class ConfigTest(unittest.TestCase):
    def setUp(self):
        e2e.require_binary()
        self.scratch = tempfile.TemporaryDirectory(prefix="mdr-config-")
        self.addCleanup(self.scratch.cleanup)

    def write(self, name, text):
        path = os.path.join(self.scratch.name, name)
        with open(path, "w", encoding="utf-8") as out:
            out.write(text)
        return path

    def test_the_shipped_example_checks_clean(self):
        code, out, err = run(["config", "check", EXAMPLE])
        self.assertEqual((code, err), (0, ""))
        self.assertEqual(out, f"{EXAMPLE}: ok\n")

    def test_a_bad_file_names_each_key_and_line_and_exits_2(self):
        path = self.write("bad.toml", 'protected = "p.txt"\n'
                                      'protcted = "p.txt"\n'
                                      '[live]\n'
                                      'workers = 0\n')
        code, out, err = run(["config", "check", path])
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertEqual(err.splitlines(), [
            f'misdirect config: {path}:2:1: unknown key "protcted"; did you mean "protected"?',
            f'misdirect config: {path}:4:11: live.workers: "0" is not a number from 1 to 64',
        ])

    def test_config_without_check_is_a_usage_error(self):
        code, _, err = run(["config"])
        self.assertEqual(code, 2)
        self.assertIn("usage: misdirect config check FILE", err)

    def test_replay_reads_the_file_and_a_flag_overrides_it(self):
        path = self.write("replay.toml", f'protected = "{e2e.PROTECTED}"\n'
                                         'smtp-log = "none"\n'
                                         '[replay]\n'
                                         'quiet = true\n')
        code, from_file, err = run(["replay", "--config", path, CAPTURE])
        self.assertEqual((code, err), (0, ""))
        code, from_flags, err = run(["replay", "--protected", e2e.PROTECTED, "--smtp-log", "none",
                                     "--quiet", CAPTURE])
        self.assertEqual((code, err), (0, ""))
        self.assertTrue(comparable(from_file))
        self.assertEqual(comparable(from_file), comparable(from_flags))
        self.assertEqual([r for r in comparable(from_file) if r.get("event_type") == "smtp"], [])

        # The flag wins over the file's smtp-log.
        code, overridden, err = run(["replay", "--config", path, "--smtp-log=all", CAPTURE])
        self.assertEqual((code, err), (0, ""))
        self.assertTrue([r for r in comparable(overridden) if r.get("event_type") == "smtp"])

    def test_replay_with_a_bad_file_starts_nothing(self):
        path = self.write("bad.toml", f'protected = "{e2e.PROTECTED}"\nmax-flows = 1\n')
        code, out, err = run(["replay", "--config", path, CAPTURE])
        self.assertEqual(code, 2)
        self.assertEqual(out, "")
        self.assertEqual(err, f'misdirect replay: {path}:2:13: max-flows: "1" is not a number from 16 '
                              'to 268435456\n')

    def test_live_takes_config_before_the_eal_arguments_as_the_units_do(self):
        if not os.path.exists("/var/run/dpdk") and os.geteuid() != 0:
            self.skipTest("DPDK's runtime directory needs root")
        eve = os.path.join(self.scratch.name, "eve.json")
        eal = live.eal_args() + ["--vdev", f"net_pcap0,rx_pcap={CAPTURE}"]
        eal_toml = ", ".join(f'"{arg}"' for arg in eal)
        path = self.write("live.toml", f'protected = "{e2e.PROTECTED}"\n'
                                       '[live]\n'
                                       f'eal = [{eal_toml}]\n'
                                       f'eve = "{eve}"\n'
                                       'exit-on-eof = true\n'
                                       'lossless = true\n'
                                       'stats-interval = 0\n'
                                       'mbufs = 8191\n'
                                       'max-frame = 2048\n'
                                       'rx-descriptors = 256\n'
                                       'eof-idle-ms = 300\n'
                                       f'max-flows = {live.TEST_MAX_FLOWS}\n')
        # As misdirect@.service: --config first, an EAL argument, then misdirect's own after --.
        code, _, err = run(["live", "--config", path, "--log-level", "lib.eal:warning", "--",
                            "--smtp-log", "none"], timeout=300)
        self.assertEqual(code, 0, err)
        records = live.read_records(eve)
        expected = [r for r in e2e.parse_eve(run(["replay", "--protected", e2e.PROTECTED, "--quiet",
                                                  CAPTURE])[1])]
        self.assertEqual(live.alert_keys(records), live.alert_keys(expected))
        self.assertTrue(live.alert_keys(records))
        self.assertEqual([r for r in records if r.get("event_type") == "smtp"], [])  # the flag won


if __name__ == "__main__":
    unittest.main()
