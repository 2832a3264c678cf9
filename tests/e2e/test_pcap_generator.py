"""The capture generator (tests/pcapgen): it reproduces the committed files in pcaps/ byte for byte,
no committed generated file is stale, and every expected-alerts file is well formed. Needs no
misdirect binary.
"""
import glob
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

import misdirect_e2e as e2e

GENERATOR = os.path.join(e2e.SOURCE, "tests", "pcapgen")


def committed_generated_files():
    """Files under pcaps/ that the generator owns (everything except the lists and public/)."""
    owned = []
    for pattern in ("*.pcap", "*.pcapng", "*.expected.jsonl", "GENERATED.md", "errors/*", "demo/*"):
        owned += glob.glob(os.path.join(e2e.PCAPS, pattern))
    return sorted(os.path.relpath(path, e2e.PCAPS) for path in owned)


class GeneratorTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.scratch = tempfile.TemporaryDirectory()
        done = subprocess.run([sys.executable, GENERATOR, cls.scratch.name], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=300)
        cls.returncode = done.returncode
        cls.stderr = done.stderr.decode()
        cls.written = sorted(done.stdout.decode().split())

    @classmethod
    def tearDownClass(cls):
        cls.scratch.cleanup()

    def test_generator_runs(self):
        self.assertEqual(self.returncode, 0, self.stderr)
        self.assertGreater(len(self.written), 60)

    def test_regeneration_reproduces_committed_bytes(self):
        differing = []
        for relative in self.written:
            committed = os.path.join(e2e.PCAPS, relative)
            with open(os.path.join(self.scratch.name, relative), "rb") as fresh:
                fresh_bytes = fresh.read()
            if not os.path.exists(committed):
                differing.append(f"{relative}: not committed")
                continue
            with open(committed, "rb") as old:
                if old.read() != fresh_bytes:
                    differing.append(f"{relative}: differs (run scripts/make-pcaps and commit)")
        self.assertEqual(differing, [])

    def test_no_stale_generated_files(self):
        self.assertEqual(sorted(set(committed_generated_files()) - set(self.written)), [])

    def test_generation_is_deterministic(self):
        with tempfile.TemporaryDirectory() as second:
            subprocess.run([sys.executable, GENERATOR, second], stdout=subprocess.DEVNULL, check=True, timeout=300)
            for relative in self.written:
                with open(os.path.join(second, relative), "rb") as a, \
                        open(os.path.join(self.scratch.name, relative), "rb") as b:
                    self.assertEqual(a.read(), b.read(), relative)

    def test_every_capture_has_an_expected_file(self):
        for path in glob.glob(os.path.join(e2e.PCAPS, "*.pcap")) + glob.glob(os.path.join(e2e.PCAPS, "*.pcapng")):
            stem = os.path.basename(path).rsplit(".", 1)[0]
            self.assertTrue(os.path.exists(os.path.join(e2e.PCAPS, stem + ".expected.jsonl")), stem)

    def test_expected_files_are_well_formed(self):
        for path in glob.glob(os.path.join(e2e.PCAPS, "*.expected.jsonl")) + \
                glob.glob(os.path.join(e2e.PCAPS, "demo", "*.expected.jsonl")):
            seen = set()
            with open(path, encoding="utf-8") as source:
                for number, line in enumerate(source, 1):
                    where = f"{path}:{number}"
                    row = json.loads(line)
                    self.assertIn(row["kind"], e2e.KIND_NAMES, where)
                    fields = sorted(name for name in row if name != "tunnel")
                    if "tunnel" in row:
                        # The tunnel identity that keys the flow: "vxlan:100".
                        tunnel_kind, _, tunnel_id = row["tunnel"].partition(":")
                        self.assertIn(tunnel_kind, ("vxlan", "geneve", "gre", "erspan"), where)
                        self.assertTrue(tunnel_id.isdigit(), where)
                    if "recipient" in row:
                        # LMTP rows add `delivered` (the recipient's own reply after the content);
                        # percent-hack rows `judged` (the next hop judged, why, and the relay).
                        optional = [key for key in ("delivered", "judged") if key in row]
                        self.assertEqual(fields, sorted(["accepted", "flow", "kind", "recipient"] + optional), where)
                        self.assertIn(row["accepted"], (True, False, None), where)
                        self.assertIn(row.get("delivered"), (True, False, None), where)
                        self.assertIn("@", row["recipient"], where)
                    else:
                        # Another role: the look-alike domain; dns-query rows carry the response code.
                        wanted = ["domain", "flow", "kind", "role"] + (["rcode"] if row.get("role") == "dns-query" else [])
                        self.assertEqual(fields, sorted(wanted), where)
                        self.assertIn(row["role"], e2e.ROLE_NAMES - {"recipient"}, where)
                        self.assertNotIn("@", row["domain"], where)
                    key = e2e.expected_key(row)
                    self.assertEqual(key[0].split(" ")[0], row["flow"], f"{where}: flow not in canonical form")
                    self.assertNotIn((key[0], key[1]), seen, f"{where}: duplicate")
                    seen.add((key[0], key[1]))

    @unittest.skipUnless(shutil.which("tshark"), "tshark is not installed")
    def test_captures_decode_cleanly_in_tshark(self):
        # Every generated capture is well-formed to an independent dissector (no Malformed or
        # other error-level expert info); truncated-file.pcap is cut short on purpose.
        for relative in self.written:
            if not relative.endswith((".pcap", ".pcapng")) or relative.startswith("errors/") or \
                    relative == "truncated-file.pcap":
                continue
            # tunnel-mpls.pcap's Ethernet pseudowires: tshark needs telling which labels carry them.
            pseudowires = ["-d", "mpls.label==3000,pwethcw", "-d", "mpls.label==4000,pwethcw",
                           "-d", "mpls.label==3001,pwethnocw", "-d", "mpls.label==4001,pwethnocw"]
            done = subprocess.run(["tshark", "-r", os.path.join(self.scratch.name, relative), *pseudowires,
                                   "-q", "-z", "expert,error"],
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
            self.assertEqual(done.returncode, 0, f"{relative}: {done.stderr.decode()[-300:]}")
            self.assertNotIn("Errors (", done.stdout.decode(), f"{relative}: {done.stdout.decode()}")

    def test_captures_are_small(self):
        for relative in self.written:
            self.assertLess(os.path.getsize(os.path.join(self.scratch.name, relative)), 256 * 1024, relative)


if __name__ == "__main__":
    unittest.main()
