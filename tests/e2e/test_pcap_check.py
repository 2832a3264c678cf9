"""`misdirect check`: the verdict the sensor would give an address or domain, and why not."""
import json
import os
import unittest

import misdirect_e2e as e2e


def setUpModule():
    e2e.require_binary()


def check(*arguments):
    done = e2e.run_misdirect(["check", "--protected", e2e.PROTECTED, "--allow", e2e.ALLOW] + list(arguments))
    return done.returncode, done.stdout.decode(), done.stderr.decode()


class CheckCommandTest(unittest.TestCase):
    def test_lookalikes_are_named_with_kind_protected_domain_and_variant(self):
        code, out, _ = check("bob@army.ml", "hq.amry.mil")
        self.assertEqual(code, 1)
        self.assertEqual(out.splitlines(), [
            "bob@army.ml: look-alike of army.mil (tld-swap, army.ml)",
            "hq.amry.mil: look-alike of army.mil (transposition, amry.mil)",
        ])

    def test_a_no_says_why(self):
        code, out, _ = check("army.mil", "x@hq.navy.mil", "ivan@examplebank.co", "example.org", "not a domain")
        self.assertEqual(code, 0)
        self.assertEqual(out.splitlines(), [
            "army.mil: not a look-alike: army.mil is protected",
            "x@hq.navy.mil: not a look-alike: under the protected domain navy.mil",
            "ivan@examplebank.co: not a look-alike: allowed by the allow list (examplebank.co)",
            "example.org: not a look-alike: no look-alike of a protected domain",
            "not a domain: not a look-alike: not a valid domain: invalid character",
        ])

    def test_json_lines(self):
        code, out, _ = check("--json", "Bob@ARMY.ML", "army.mil")
        self.assertEqual(code, 1)
        rows = [json.loads(line) for line in out.splitlines()]
        self.assertEqual(rows[0], {"input": "Bob@ARMY.ML", "domain": "army.ml", "lookalike": True,
                                   "protected": "army.mil", "kind": "tld-swap", "variant": "army.ml"})
        self.assertEqual(rows[1], {"input": "army.mil", "domain": "army.mil", "lookalike": False,
                                   "reason": "army.mil is protected"})

    def test_agrees_with_replay(self):
        # Every alerted recipient of a capture is a look-alike to `check`, with the same verdict.
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "kinds.pcap")])
        self.assertTrue(replay.alerts)
        for alert in replay.alerts:
            md = alert["misdirect"]
            code, out, _ = check("--json", md["recipient"])
            answer = json.loads(out)
            self.assertEqual((answer["lookalike"], answer["protected"], answer["kind"], answer["variant"]),
                             (True, md["protected"], md["kind"], md["variant"]), md["recipient"])

    def test_the_percent_hack_next_hop_is_judged_as_replay_judges_it(self):
        code, out, _ = check("user%army.ml@relay.example", "ops%army.mil@relay.example")
        self.assertEqual(code, 1)
        self.assertEqual(out.splitlines(), [
            "user%army.ml@relay.example: look-alike of army.mil (tld-swap, army.ml) via the percent hack: "
            "relay.example sends it on to army.ml",
            "ops%army.mil@relay.example: not a look-alike: no look-alike of a protected domain; "
            "its percent-hack next hop army.mil: army.mil is protected",
        ])
        replay = e2e.run_replay([os.path.join(e2e.PCAPS, "percent-hack.pcap")])
        judged = [alert["misdirect"] for alert in replay.alerts if "judged" in alert["misdirect"]]
        self.assertEqual(len(judged), 3)
        for md in judged:
            code, out, _ = check("--json", md["recipient"])
            answer = json.loads(out)
            self.assertEqual((answer["domain"], answer["protected"], answer["kind"], answer["variant"],
                              answer["judged"]),
                             (md["domain"], md["protected"], md["kind"], md["variant"], md["judged"]),
                             md["recipient"])

    def test_bad_use_is_refused(self):
        done = e2e.run_misdirect(["check", "army.ml"])
        self.assertEqual(done.returncode, 2)
        self.assertIn(b"--protected", done.stderr)
        done = e2e.run_misdirect(["check", "--protected", "/nonexistent/list", "army.ml"])
        self.assertEqual(done.returncode, 2)
        self.assertEqual(done.stdout, b"")


if __name__ == "__main__":
    unittest.main()
