"""What an analyst does with the records: from an alert, find the smtp record of its transaction
(same flow_id and tx_id, docs/records.md) and read the message's identity there — the Subject to
tell the user which mail went astray, the Message-ID to find it in the mail server's logs."""
import os
import unittest

import misdirect_e2e as e2e

CAPTURE = os.path.join(e2e.PCAPS, "message-identity.pcap")


def setUpModule():
    e2e.require_binary()


def joined(replay, alert):
    """The smtp records of the alert's transaction."""
    return [r for r in replay.smtp if r.get("flow_id") == alert["flow_id"] and r.get("tx_id") == alert["tx_id"]]


class MessageIdentityTest(unittest.TestCase):
    maxDiff = None

    @classmethod
    def setUpClass(cls):
        cls.replay = e2e.run_replay([CAPTURE])

    def test_each_alert_joins_to_one_smtp_record_with_the_message(self):
        self.assertEqual(self.replay.returncode, 0, self.replay.stderr)
        found = {}
        for alert in self.replay.alerts:
            records = joined(self.replay, alert)
            self.assertEqual(len(records), 1, f"alert {alert['misdirect']['recipient']}: {len(records)} smtp records")
            record = records[0]
            self.assertIn(alert["misdirect"]["recipient"], record["smtp"]["rcpt_to"])
            self.assertEqual(record["community_id"], alert["community_id"])
            found[alert["misdirect"]["recipient"]] = (record["email"].get("subject"), record["email"].get("message_id"),
                                                     record["email"]["status"])
        self.assertEqual(found, {
            # DATA: the encoded-word Subject decoded to UTF-8, its folded line joined.
            "bob@army.ml": ("Quarterly figures \u2013 Q4 draft", "<20260115090000.4F2A1@client.example.org>",
                            "delivered"),
            # BDAT: the Subject line split across two chunks.
            "dave@amry.mil": ("Second message", "<second@client.example.org>", "delivered"),
        })

    def test_the_email_object_holds_the_header_block(self):
        first = [r for r in self.replay.smtp if r["tx_id"] == 0]
        self.assertEqual(len(first), 1)
        email = first[0]["email"]
        self.assertEqual(email["from"], "Alice Exampl\u00e9 <alice@example.org>")
        self.assertEqual(email["to"], ["Bob <bob@army.ml>", "\"Ops, Team\" <ops@example.org>"])
        self.assertEqual(email["cc"], ["carol@example.org"])
        self.assertEqual(email["date"], "Thu, 15 Jan 2026 09:00:00 +0000")
        self.assertEqual(email["x_mailer"], "Example Mail 7.1")
        self.assertEqual(first[0]["misdirect"]["headers"]["end"], "blank_line")
        self.assertFalse(first[0]["misdirect"]["headers"]["truncated"])

    def test_transactions_without_content_have_no_email_object(self):
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "rset.pcap")])
        self.assertTrue(replay.smtp)
        without_content = [r for r in replay.smtp if r["misdirect"]["end"] != "data_accepted"]
        self.assertTrue(without_content)
        for record in without_content:
            self.assertNotIn("email", record)

    def test_the_docs_jq_join_works(self):
        # docs/records.md shows this jq program; it must find the Subject of each alert.
        import shutil
        import subprocess
        import tempfile
        if shutil.which("jq") is None:
            self.skipTest("jq is not installed")
        with tempfile.TemporaryDirectory() as scratch:
            eve = os.path.join(scratch, "eve.json")
            done = e2e.run_replay([CAPTURE], extra=["--eve", eve])
            self.assertEqual(done.returncode, 0, done.stderr)
            program = ('[.[] | select(.event_type == "smtp")] as $smtp | .[] | select(.event_type == "alert") | '
                       '. as $a | ($smtp[] | select(.flow_id == $a.flow_id and .tx_id == $a.tx_id)) | '
                       '[$a.misdirect.recipient, .email.subject, .email.message_id] | @tsv')
            out = subprocess.run(["jq", "-rs", program, eve], stdout=subprocess.PIPE, check=True).stdout.decode()
        self.assertEqual(sorted(out.splitlines()), [
            "bob@army.ml\tQuarterly figures \u2013 Q4 draft\t<20260115090000.4F2A1@client.example.org>",
            "dave@amry.mil\tSecond message\t<second@client.example.org>",
        ])


if __name__ == "__main__":
    unittest.main()
