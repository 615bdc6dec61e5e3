#!/usr/bin/env python3
"""Prints "jvm: N passed, M failed" from Maven Surefire's XML reports (Maven -q prints no
counts), so the root test summary can add the JVM suite up like the others.
Usage: surefire-count.py REPORTS_DIR"""
import pathlib
import sys
import xml.etree.ElementTree as ET

passed = failed = 0
for report in sorted(pathlib.Path(sys.argv[1]).glob("TEST-*.xml")):
    suite = ET.parse(report).getroot()
    total = int(suite.get("tests", 0))
    bad = int(suite.get("failures", 0)) + int(suite.get("errors", 0))
    skipped = int(suite.get("skipped", 0))
    passed += total - bad - skipped
    failed += bad
print(f"jvm: {passed} passed, {failed} failed")
sys.exit(1 if failed or not passed else 0)
