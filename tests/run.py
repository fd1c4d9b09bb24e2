#!/usr/bin/env python3
"""Run the end-to-end tests: python3 tests/run.py [-k PATTERN] [-j JOBS]

Builds what the selected tests run (each chapter's plain or sanitized build
only if a selected test needs it), then runs each test module that has
selected tests in its own process, two at a time by default, and ends with
one line:
    e2e: N passed, N failed, N skipped
The exit status is 0 only if nothing failed.

A test class says what it needs built: a ProgramTest by its CHAPTER and
VARIANT, any other class by a BUILDS list of (chapter, variant) pairs
(classes that build for themselves need neither).
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


def load(name, pattern):
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = ["*%s*" % pattern]
    return loader.loadTestsFromName(name)


def tests_in(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from tests_in(item)
        else:
            yield item


def builds_needed(test):
    """The (chapter, variant) builds one test runs."""
    cls = type(test)
    if hasattr(cls, "BUILDS"):
        return set(cls.BUILDS)
    chapter = getattr(cls, "CHAPTER", None)
    variant = getattr(cls, "VARIANT", None)
    if chapter in harness.chapters() and variant in harness.VARIANTS:
        return {(chapter, variant)}
    return set()


def run_module(name, pattern):
    """Run one module's tests in this (child) process; return a summary."""
    sys.path.insert(0, HERE)
    suite = load(name, pattern)
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

    modules, builds = [], set()
    for m in sorted(os.path.basename(p)[:-3]
                    for p in glob.glob(os.path.join(HERE, "test_*.py"))):
        tests = list(tests_in(load(m, args.pattern)))
        if tests:
            modules.append(m)
        for t in tests:
            builds |= builds_needed(t)
    if not modules:
        print("e2e: no test name contains %r" % args.pattern)
        return 1
    for chapter in harness.chapters():
        for variant in harness.VARIANTS:
            if (chapter, variant) in builds:
                print("e2e: building %s (%s)" % (chapter, variant),
                      flush=True)
                harness.build(chapter, variant)

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
