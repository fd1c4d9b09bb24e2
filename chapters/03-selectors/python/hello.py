#!/usr/bin/env python3
"""hello.py - chapter 03 in Python: one thread, a selector with a timeout.

Python's selectors version of build/hello, same contract (--help). The
selector waits for standard input, but never past the next hello: the
wait's timeout is the time left until then. While fib runs, nothing else
does, and the hello that falls due meanwhile comes late.
"""
import os
import selectors
import signal
import time

from contract import answer, parse_args, say
from linebuf import LineBuffer


def stdin_selector():
    """The default selector (epoll on Linux) watching stdin; epoll refuses
    regular files (hello.py < numbers.txt), poll takes them."""
    sel = selectors.DefaultSelector()
    try:
        sel.register(0, selectors.EVENT_READ)
    except PermissionError:
        sel.close()
        sel = selectors.PollSelector()
        sel.register(0, selectors.EVENT_READ)
    return sel


# [loop]
def run(sel, interval_s):
    lines = LineBuffer()
    next_hello = time.monotonic()  # the first one at once
    lines_waiting = False          # the buffer may hold complete lines
    while True:
        now = time.monotonic()
        if now >= next_hello:
            say("%d - Hello world!" % time.time())
            next_hello += interval_s
            if next_hello <= now:  # late (fib ran): skip what was missed
                next_hello = now + interval_s
        # Wait for input until the next hello is due; while lines wait in
        # the buffer, only look (timeout 0).
        ready = sel.select(0 if lines_waiting else next_hello - now)
        if ready and not lines_waiting:
            # One os.read() per readiness; stdin stays blocking, as in C.
            try:
                lines.feed(os.read(0, 4096))
            except BlockingIOError:  # another reader made it non-blocking
                continue             # and took the bytes: wait again
            lines_waiting = True
        if lines_waiting:
            # One line per turn: a due hello goes before the next line.
            line = lines.next_line()
            if line is None:
                lines_waiting = False
                if lines.eof:
                    return
            elif answer(line):
                return
# [loop]


if __name__ == "__main__":
    # Ctrl-C, or a closed stdout, ends the program as it ends the C one:
    # by the signal, without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    interval_s = parse_args("Chapter 03 in Python (selectors): one thread "
                            "waits with a timeout; while fib runs, the "
                            "hellos wait.")
    run(stdin_selector(), interval_s)
