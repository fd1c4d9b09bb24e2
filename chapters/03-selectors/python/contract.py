"""contract.py - what every chapter's Python hello shares: the options, the
input line parser and fib, as the hello contract of the book defines them.

Copied unchanged from chapter to chapter, like src/input.c and src/fib.c on
the C side; only hello.py changes.
"""
import argparse
import sys
import time

FIB_MAX_N = 35   # fib(35) takes seconds in CPython; C's cap is 45
LINE_MAX = 80    # bytes, not counting the line end

HELP_TAIL = """\
n may be at most %d: each step up makes fib about 1.6 times slower, and
fib(%d) already takes seconds in CPython, so a larger n would freeze the
program for minutes. Lines may be at most %d bytes, not counting the line
end. Type exit, or end the input (Ctrl-D), to quit.
""" % (FIB_MAX_N, FIB_MAX_N, LINE_MAX)


def interval(text):
    """--interval: digits with at most one point, from 0.001 to 86400."""
    whole, _, frac = text.partition(".")
    digits = whole + frac
    if not (digits.isascii() and digits.isdigit()) \
            or not 0.001 <= float(text) <= 86400:
        raise argparse.ArgumentTypeError("want a decimal from 0.001 to 86400")
    return float(text)


def parse_args(chapter_note):
    """The --interval value; --help and usage errors (status 2) as argparse
    does them."""
    ap = argparse.ArgumentParser(
        prog="hello.py", epilog=HELP_TAIL + "\n" + chapter_note,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Prints '<unix-time> - Hello world!' every SECONDS and "
        "answers each input line holding a natural number n with fib(n), "
        "computed by naive recursion.")
    ap.add_argument("--interval", type=interval, default=3.0,
                    metavar="SECONDS", help="seconds between hellos "
                    "(a decimal from 0.001 to 86400, default 3)")
    return ap.parse_args().interval


def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)


def classify(line):
    """One input line (bytes, without its newline): an int n to answer,
    None to ignore, "exit", or an error message starting with "error:"."""
    if len(line) > LINE_MAX + 1 or (len(line) == LINE_MAX + 1
                                    and not line.endswith(b"\r")):
        return "error: line longer than %d bytes" % LINE_MAX
    text = line.removesuffix(b"\r").strip(b" \t")
    if not text:
        return None
    if text == b"exit":
        return "exit"
    digits = text[1:] if text.startswith(b"-") else text
    if not digits or not all(0x30 <= c <= 0x39 for c in digits):
        return "error: not a natural number (type digits 0-9, or exit)"
    if text.startswith(b"-"):
        if int(digits) == 0:
            return "error: not a natural number (type digits 0-9, or exit)"
        return "error: negative numbers are not natural numbers"
    n = int(digits)  # Python's ints have no width: only the cap applies
    if n > FIB_MAX_N:
        return "error: n is above the cap of %d (see --help)" % FIB_MAX_N
    return n


def say(text, file=sys.stdout):
    """Print one line and flush it, even into a pipe."""
    print(text, file=file, flush=True)


def answer(line, say=say):
    """Answer one input line through say(); True when it asks to exit."""
    what = classify(line)
    if what == "exit":
        return True
    if isinstance(what, str):
        say(what, file=sys.stderr)
    elif what is not None:
        start = time.perf_counter()
        value = fib(what)
        say("fib(%d) = %d (%.3f s)" % (what, value,
                                       time.perf_counter() - start))
    return False
