#!/usr/bin/env python3
"""Runs one end-to-end suite (tests/e2e/test_<suite>*.py, standard unittest) against the real
binary and writes $MISDIRECT_RESULTS/<suite>.json: {"passed": N, "failed": N, "skipped": N}.

Environment: MISDIRECT (the built binary), MISDIRECT_SOURCE (the checkout), MISDIRECT_RESULTS.
"""
import json
import os
import sys
import unittest


def main() -> int:
    suite_name = sys.argv[1]
    here = os.path.dirname(os.path.abspath(__file__))
    sys.path.insert(0, here)
    loader = unittest.TestLoader()
    suite = loader.discover(here, pattern=f"test_{suite_name}*.py", top_level_dir=here)
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stdout).run(suite)
    # Count test methods: a failing or skipped subTest belongs to its test method, which fails
    # if any of its subtests failed and is skipped only when the method itself was skipped.
    def method_id(test):
        return getattr(test, "test_case", test).id()

    failed_ids = {method_id(t) for t, _ in result.failures + result.errors}
    failed_ids |= {method_id(t) for t in result.unexpectedSuccesses}
    skipped_ids = {t.id() for t, _ in result.skipped
                   if not isinstance(t, unittest.case._SubTest)} - failed_ids
    failed = len(failed_ids)
    skipped = len(skipped_ids)
    passed = result.testsRun - failed - skipped
    results_dir = os.environ.get("MISDIRECT_RESULTS")
    if results_dir:
        os.makedirs(results_dir, exist_ok=True)
        with open(os.path.join(results_dir, f"{suite_name}.json"), "w") as out:
            json.dump({"passed": passed, "failed": failed, "skipped": skipped,
                       "skipped_reasons": [reason for _, reason in result.skipped]}, out)
    if result.testsRun == 0:
        print(f"suite {suite_name}: no tests found", file=sys.stderr)
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
