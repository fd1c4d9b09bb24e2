#!/usr/bin/env python3
"""hello.py - chapter 04 in Python: the hello as callbacks on an event loop.

The same program as build/hello, same contract (--help), on the small loop
of eventloop.py: the hello is a timer callback that re-arms itself, input
is a reader callback, and `exit` or end of input stops the loop.
"""
import os
import selectors
import signal
import time

from contract import answer, parse_args, say
from eventloop import EventLoop
from linebuf import LineBuffer


# [hello]
class Hello:
    def __init__(self, loop, interval_s):
        self.loop, self.interval_s = loop, interval_s
        self.lines = LineBuffer()

    def say_hello(self):
        say("%d - Hello world!" % time.time())
        self.loop.call_later(self.interval_s, self.say_hello)  # re-arm

    def on_input(self):
        try:
            self.lines.feed(os.read(0, 4096))  # one read() per readiness
        except BlockingIOError:  # someone else took the bytes: wait again
            return
        self.loop.remove_reader(0)         # until this read is answered
        self.answer_next()

    def answer_next(self):
        """One buffered line per iteration, so that due hellos go between
        them; then watch stdin again, or stop at the end of input."""
        line = self.lines.next_line()
        if line is not None:
            if answer(line):
                self.loop.stop()
            else:  # a timer due now sorts after a hello already due
                self.loop.call_later(0, self.answer_next)
        elif self.lines.eof:
            self.loop.stop()
        else:
            self.loop.add_reader(0, self.on_input)
# [hello]


def stdin_loop():
    """A loop whose selector can watch stdin: epoll refuses regular files
    (hello.py < numbers.txt), poll takes them."""
    sel = selectors.DefaultSelector()
    try:
        sel.register(0, selectors.EVENT_READ)
        sel.unregister(0)
    except PermissionError:
        sel.close()
        sel = selectors.PollSelector()
    return EventLoop(sel)


if __name__ == "__main__":
    # Ctrl-C, or a closed stdout, ends the program as it ends the C one:
    # by the signal, without a traceback.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    interval_s = parse_args("Chapter 04 in Python (callbacks): the hello is "
                            "a timer that re-arms itself, input a reader.")
    loop = stdin_loop()
    hello = Hello(loop, interval_s)
    loop.call_later(0, hello.say_hello)  # the first hello at once
    loop.add_reader(0, hello.on_input)
    loop.run_forever()
