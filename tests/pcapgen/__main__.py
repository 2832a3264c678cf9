"""pcapgen: writes misdirect's generated captures, their expected alerts and the error-case files.

    python3 tests/pcapgen OUTDIR        (scripts/make-pcaps runs it on pcaps/)

Deterministic: no clock, no randomness; the same source gives the same bytes.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from generate import generate  # noqa: E402


def main():
    if len(sys.argv) != 2:
        print("usage: python3 tests/pcapgen OUTDIR", file=sys.stderr)
        return 2
    for path in generate(sys.argv[1]):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
