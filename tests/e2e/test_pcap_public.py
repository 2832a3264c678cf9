"""The public captures in pcaps/public/ (Zeek, suricata-verify, nDPI test suites; credited in
pcaps/README.md): the recipients of `misdirect replay`'s smtp records — (client, server, address,
reply code) — must equal truth.jsonl's rows for that capture as a multiset: every one found, none
invented, none twice. Captures with no rows (implicit TLS, STARTTLS, no RCPT) must yield none.
"""
import collections
import glob
import os
import unittest

import misdirect_e2e as e2e

TRUTH = os.path.join(e2e.PUBLIC, "truth.jsonl")


def setUpModule():
    e2e.require_binary()


def truth_by_capture():
    rows = collections.defaultdict(list)
    for row in e2e.load_jsonl(TRUTH):
        rows[row["pcap"]].append((e2e.normalise_endpoint(row["client"]), e2e.normalise_endpoint(row["server"]),
                                  row["rcpt_to"], row["reply_code"]))
    return rows


def public_captures():
    found = []
    for pattern in ("**/*.pcap", "**/*.pcapng"):
        found += glob.glob(os.path.join(e2e.PUBLIC, pattern), recursive=True)
    return sorted(os.path.relpath(path, e2e.PUBLIC) for path in found)


class PublicCaptureTest(unittest.TestCase):
    maxDiff = None
    truth = None

    @classmethod
    def setUpClass(cls):
        cls.truth = truth_by_capture()

    def check_capture(self, relative):
        replay = e2e.run_replay([os.path.join(e2e.PUBLIC, relative)])
        context = f"{relative}: exit {replay.returncode}, stderr: {replay.stderr.strip()[:500]}"
        for record in replay.records:
            self.assertNotIn("unparsable", record, context)
        self.assertEqual(replay.returncode, 0, context)
        for record in replay.smtp:
            e2e.check_smtp_fields(self, record)
        # No recipient in truth.jsonl is a look-alike of pcaps/protected.txt (the af.mil ones in
        # ndpi/smtp.pcap are subdomains of it), so any alert here is a false positive.
        self.assertEqual([a.get("misdirect", {}).get("recipient") for a in replay.alerts], [], relative)
        difference = e2e.multiset_difference(e2e.smtp_recipients(replay), self.truth.get(relative, []))
        self.assertEqual(difference, "", f"{relative}: smtp recipients differ from truth.jsonl\n{difference}")
        self.assertEqual(replay.records[-1].get("event_type") if replay.records else None, "stats", context)

    def test_every_truth_capture_is_present(self):
        present = set(public_captures())
        self.assertEqual(sorted(set(self.truth) - present), [])


def _make_test(relative):
    def test(self):
        self.check_capture(relative)
    return test


for _relative in public_captures():
    _name = _relative.rsplit(".", 1)[0].replace("/", "__").replace("-", "_").replace(".", "_")
    setattr(PublicCaptureTest, f"test_{_name}", _make_test(_relative))


if __name__ == "__main__":
    unittest.main()
