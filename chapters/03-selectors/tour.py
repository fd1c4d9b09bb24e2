#!/usr/bin/env python3
"""Chapter 03's part of the guided tour: run the two programs with scripted
input and show, with timestamps, what one thread with a selector does, and
what it cannot do.

    python3 tour.py        (make tour builds first, then runs this)
"""
import os
import signal
import socket
import subprocess
import sys
import threading
import time

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build")
T0 = time.monotonic()


def say(text):
    print("\n" + text, flush=True)


def show(who, text):
    print("  %6.2f s  %-12s %s" % (time.monotonic() - T0, who, text),
          flush=True)


def echo_output(proc, who):
    for raw in proc.stdout:
        show(who, raw.decode().rstrip("\n"))


def hello_part():
    global T0
    say("hello, one thread, a hello due every 0.2 s. We type nothing for "
        "1 s, then 44\n(a second or so of fib), then two lines in one "
        "write, then exit:")
    T0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "hello"), "--interval", "0.2"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader = threading.Thread(target=echo_output, args=(p, "hello says"))
    reader.start()
    time.sleep(1.0)
    show("we type", "44")
    p.stdin.write(b"44\n")
    p.stdin.flush()
    time.sleep(2.0)
    show("we write", "'5\\n6\\n' in one write()")
    p.stdin.write(b"5\n6\n")
    p.stdin.flush()
    time.sleep(0.5)
    show("we type", "exit")
    p.stdin.write(b"exit\n")
    p.stdin.close()
    p.wait(timeout=120)
    reader.join()
    say("While idle, the hellos came from the selector's timeout. While "
        "fib(44) ran they\nstopped: the only thread was busy, and nothing "
        "can interrupt it (cooperative\nscheduling). Both lines of the one "
        "write were answered at once: the program\nreads into its own "
        "buffer, so no line hides in stdio where the selector cannot\nsee "
        "it.")


def echo_part():
    global T0
    say("echo-server --backend epoll. A client that sends a lot and never "
        "reads, and\nmeanwhile a normal client:")
    T0 = time.monotonic()
    srv = subprocess.Popen([os.path.join(BUILD, "echo-server"), "--port",
                            "0", "--backend", "epoll"],
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = srv.stdout.readline().decode().strip()
    show("server says", line)
    port = int(line.rsplit(":", 1)[1])

    hog = socket.create_connection(("127.0.0.1", port), timeout=5)
    hog.setblocking(False)
    pushed, end = 0, time.monotonic() + 1.0
    while time.monotonic() < end:
        try:
            pushed += hog.send(b"x" * 65536)
        except BlockingIOError:
            time.sleep(0.01)
    show("hog", "pushed %.1f MiB, then everything filled up" % (pushed / 2**20))
    with open("/proc/%d/status" % srv.pid) as f:
        rss = [l.split()[1] for l in f if l.startswith("VmRSS")][0]
    show("server", "resident memory %s KiB, one thread" % rss)
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    b.sendall(b"I am B")
    show("B gets back", b.recv(100).decode())
    srv.send_signal(signal.SIGTERM)
    show("server", "SIGTERM -> exit status %d" % srv.wait(timeout=5))
    hog.close()
    b.close()
    say("The server stopped reading the hog once 64 KiB of its echo were "
        "waiting: the\nrest sits in kernel buffers and TCP's flow control "
        "holds the hog back. B was\nserved at once by the same thread. "
        "SIGTERM reached the loop through a self-pipe.")


def main():
    print("=" * 72)
    print("Chapter 03-selectors: one thread, many descriptors")
    print("=" * 72)
    hello_part()
    echo_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
