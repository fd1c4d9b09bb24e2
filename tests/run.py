#!/usr/bin/env python3
"""Run the end-to-end tests: python3 tests/run.py [-k PATTERN] [-j JOBS]

Builds every chapter (plain and sanitized) first, then runs each test module
in its own process, two at a time by default, and ends with one line:
    e2e: N passed, N failed, N skipped
The exit status is 0 only if nothing failed.
"""
import argparse
import concurrent.futures
import glob
import io
import os
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import harness  # noqa: E402


def run_module(name, pattern):
    """Run one module's tests in this (child) process; return a summary."""
    sys.path.insert(0, HERE)
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    suite = loader.loadTestsFromName(name)
    out = io.StringIO()
    start = time.monotonic()
    result = unittest.TextTestRunner(stream=out, verbosity=2).run(suite)
    return {
        "name": name,
        "run": result.testsRun,
        "failed": len(result.failures) + len(result.errors)
        + len(result.unexpectedSuccesses),
        "skipped": len(result.skipped),
        "seconds": time.monotonic() - start,
        "log": out.getvalue(),
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-k", dest="pattern", help="only tests whose name "
                    "contains this")
    ap.add_argument("-j", dest="jobs", type=int, default=2)
    ap.add_argument("-v", dest="verbose", action="store_true",
                    help="print every test's result, not only failures")
    args = ap.parse_args()

    for chapter in harness.chapters():
        for variant in harness.VARIANTS:
            print("e2e: building %s (%s)" % (chapter, variant), flush=True)
            harness.build(chapter, variant)

    modules = sorted(os.path.basename(p)[:-3]
                     for p in glob.glob(os.path.join(HERE, "test_*.py")))
    passed = failed = skipped = 0
    with concurrent.futures.ProcessPoolExecutor(args.jobs) as pool:
        futures = [pool.submit(run_module, m, args.pattern) for m in modules]
        for fut in futures:
            r = fut.result()
            ok = r["run"] - r["failed"] - r["skipped"]
            passed += ok
            failed += r["failed"]
            skipped += r["skipped"]
            print("e2e: %-28s %3d passed, %d failed, %d skipped (%.1f s)"
                  % (r["name"], ok, r["failed"], r["skipped"], r["seconds"]),
                  flush=True)
            if r["failed"] or args.verbose:
                print(r["log"], flush=True)
    print("e2e: %d passed, %d failed, %d skipped" % (passed, failed, skipped))
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
