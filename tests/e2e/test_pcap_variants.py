"""`misdirect variants`: counts, --list, --format json|csv, --kinds, --protected FILE."""
import csv
import io
import json
import unittest

import misdirect_e2e as e2e


def setUpModule():
    e2e.require_binary()


def variants(*arguments):
    done = e2e.run_misdirect(["variants"] + list(arguments))
    return done.returncode, done.stdout.decode(), done.stderr.decode()


class VariantsCommandTest(unittest.TestCase):
    def test_json_csv_and_list_hold_the_same_lookalikes(self):
        code, listed, _ = variants("--list", "army.mil")
        self.assertEqual(code, 0)
        # An xn-- line ends with its Unicode form: compare the name and the kind.
        from_list = sorted(tuple(line.split(" ")[:2][::-1]) for line in listed.splitlines())
        code, text, _ = variants("--format", "json", "army.mil")
        self.assertEqual(code, 0)
        rows = json.loads(text)
        self.assertEqual({row["protected"] for row in rows}, {"army.mil"})
        self.assertEqual(sorted((row["kind"], row["domain"]) for row in rows), from_list)
        self.assertIn({"protected": "army.mil", "kind": "tld-swap", "domain": "army.ml"}, rows)
        code, text, _ = variants("--format", "csv", "army.mil")
        self.assertEqual(code, 0)
        table = list(csv.DictReader(io.StringIO(text)))
        self.assertEqual(sorted((row["kind"], row["domain"]) for row in table), from_list)
        # The counts agree with the listing.
        code, counts, _ = variants("army.mil")
        total = [line.split()[-1] for line in counts.splitlines() if line.strip().startswith("total")]
        self.assertEqual(total, [str(len(from_list))])

    def test_kinds_filter(self):
        code, text, _ = variants("--format", "json", "--kinds", "tld-swap,omission", "army.mil")
        self.assertEqual(code, 0)
        rows = json.loads(text)
        self.assertTrue(rows)
        self.assertEqual({row["kind"] for row in rows}, {"tld-swap", "omission"})
        code, counts, _ = variants("--kinds", "omission", "army.mil")
        self.assertEqual([line.split()[0] for line in counts.splitlines()[1:]], ["omission", "total"])

    def test_protected_file(self):
        code, text, _ = variants("--format", "json", "--kinds", "tld-swap", "--protected", e2e.PROTECTED)
        self.assertEqual(code, 0)
        with open(e2e.PROTECTED, encoding="utf-8") as source:
            protected = {line.strip() for line in source if line.strip() and not line.startswith("#")}
        self.assertEqual({row["protected"] for row in json.loads(text)}, protected)

    def test_bad_values_are_refused(self):
        for arguments in (["--format", "xml", "army.mil"], ["--kinds", "nonsense", "army.mil"],
                          ["--protected", "/nonexistent/list"]):
            with self.subTest(arguments=arguments):
                code, out, err = variants(*arguments)
                self.assertEqual(code, 2)
                self.assertEqual(out, "")
                self.assertTrue(err)


if __name__ == "__main__":
    unittest.main()
