#!/usr/bin/env python3
"""hello.py - chapter 01's hello in Python, to read next to hello.c.

The same synchronous loop: print a hello if one is due, then block in
input() until a line comes, then answer it. It checks less than the C
version (int() accepts "+5" and "1_000", and there is no length limit),
and its cap on n is 35, not 45 (see FIB_MAX_N); the point is the shape of
the loop, which hello.c translates.

    python3 examples/hello.py [--interval SECONDS]
"""
import argparse
import sys
import time

# CPython's naive fib is about a hundred times slower than the C one (make
# bench), so the cap that keeps one answer to seconds is lower than C's 45:
# fib(35) already takes seconds, fib(45) would take many minutes.
FIB_MAX_N = 35


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def answer(line):
    """Answer one input line; return True if it asks to stop."""
    line = line.strip()
    if line == "exit":
        return True
    if line == "":
        return False
    try:
        n = int(line)
    except ValueError:
        n = -1
    if n < 0:
        print("error: not a natural number (type digits 0-9, or exit)",
              file=sys.stderr)
        return False
    if n > FIB_MAX_N:
        print("error: n is above the cap of %d" % FIB_MAX_N, file=sys.stderr)
        return False
    start = time.monotonic()
    value = fib(n)
    print("fib(%d) = %d (%.3f s)" % (n, value, time.monotonic() - start))
    return False


def main():
    parser = argparse.ArgumentParser(description="chapter 01's hello")
    parser.add_argument("--interval", type=float, default=3.0)
    interval_s = parser.parse_args().interval
    sys.stdout.reconfigure(line_buffering=True)  # as setvbuf(_IOLBF)

    # [py-loop]
    last_hello = None
    while True:
        now = time.monotonic()
        if last_hello is None or now - last_hello >= interval_s:
            print("%d - Hello world!" % time.time())
            last_hello = now
        try:
            line = input()  # blocks here
        except EOFError:
            break
        if answer(line):
            break
    # [py-loop]


if __name__ == "__main__":
    main()
