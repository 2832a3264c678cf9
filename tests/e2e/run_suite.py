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
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
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
