#!/usr/bin/env python3
"""Adds up the pass/fail counts in test logs and prints one closing line.

Understands cargo test ("test result: ok. N passed; M failed"), pytest ("N passed, M failed"),
node --test ("# pass N" / "# fail N"), go test -v ("--- PASS" / "--- FAIL") and ctest
("N tests failed out of T") and plain "N passed, M failed" lines. Exits non-zero when anything failed or nothing ran.
Usage: summarize-tests.py LOG...
"""
import re
import sys

PATTERNS = [
    # cargo test
    (re.compile(r"^test result: \w+\. (\d+) passed; (\d+) failed"), lambda m: (int(m[1]), int(m[2]))),
    # node --test
    (re.compile(r"^# pass (\d+)$"), lambda m: (int(m[1]), 0)),
    (re.compile(r"^# fail (\d+)$"), lambda m: (0, int(m[1]))),
    # go test -v
    (re.compile(r"^\s*--- PASS: "), lambda m: (1, 0)),
    (re.compile(r"^\s*--- FAIL: "), lambda m: (0, 1)),
    # plain closing line of the C, C++ and shell suites: "N passed, M failed"
    (re.compile(r"^(?:\w+: )?(\d+) passed, (\d+) failed$"), lambda m: (int(m[1]), int(m[2]))),
    # ctest
    (re.compile(r"tests passed, (\d+) tests failed out of (\d+)"), lambda m: (int(m[2]) - int(m[1]), int(m[1]))),
]
PYTEST = re.compile(r"^=* ?(\d+ (?:passed|failed|errors?)\b.*) in [\d.]+s\b")


def count(path):
    passed = failed = 0
    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            m = PYTEST.match(line)
            if m:
                for n, word in re.findall(r"(\d+) (passed|failed|error|errors)", m[1]):
                    if word == "passed":
                        passed += int(n)
                    else:
                        failed += int(n)
                continue
            for pattern, counts in PATTERNS:
                m = pattern.search(line)
                if m:
                    p, f_ = counts(m)
                    passed += p
                    failed += f_
                    break
    return passed, failed


def main():
    total_p = total_f = 0
    for path in sys.argv[1:]:
        p, f = count(path)
        print(f"{path}: {p} passed, {f} failed")
        total_p += p
        total_f += f
    print(f"all: {total_p} passed, {total_f} failed")
    return 1 if total_f or not total_p else 0


if __name__ == "__main__":
    sys.exit(main())
