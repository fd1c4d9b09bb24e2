#!/usr/bin/env python3
"""hello.py - chapter 02 in Python: the hellos come from a second thread.

Python's threading version of build/hello, same contract (--help). The
main thread reads lines and computes fib; a ticker thread prints the
hellos. One lock keeps every line whole, and an Event stops the ticker at
once instead of after its sleep. CPython runs one thread's bytecode at a
time (the GIL) but switches every few milliseconds, so the hellos keep
coming while fib runs: concurrency, not parallelism.
"""
import signal
import sys
import threading
import time

from contract import LINE_MAX, answer, parse_args
from contract import say as say_unlocked

# [threads]
print_lock = threading.Lock()


def say(text, file=sys.stdout):
    with print_lock:  # one whole line at a time, whichever thread prints
        say_unlocked(text, file)


def ticker(interval_s, stopping):
    """The second thread: a hello at once, then one per interval until
    stopping is set (wait() returns True as soon as it is)."""
    while True:
        say("%d - Hello world!" % time.time())
        if stopping.wait(interval_s):
            return


def main():
    interval_s = parse_args("Chapter 02 in Python (threading): a second "
                            "thread prints the hellos.")
    stopping = threading.Event()
    hellos = threading.Thread(target=ticker, args=(interval_s, stopping))
    hellos.start()
    try:
        for line in lines(sys.stdin.buffer):
            if answer(line, say):
                break
    finally:
        stopping.set()  # wake the ticker, then wait for it to end
        hellos.join()
    return 0
# [threads]


def lines(stdin):
    """Each input line without its newline; a line longer than LINE_MAX + 1
    bytes is cut there (it is refused anyway) and its rest skipped."""
    while True:
        line = stdin.readline(LINE_MAX + 2)
        if not line:
            return
        if len(line) == LINE_MAX + 2 and not line.endswith(b"\n"):
            rest = stdin.readline(4096)
            while rest and not rest.endswith(b"\n"):
                rest = stdin.readline(4096)
        yield line.removesuffix(b"\n")


if __name__ == "__main__":
    # Ctrl-C, or a closed stdout, ends the program as it ends the C one:
    # by the signal, without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
