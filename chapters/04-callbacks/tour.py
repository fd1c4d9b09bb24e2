#!/usr/bin/env python3
"""Chapter 04's part of the guided tour: the programs as callbacks on an
event loop, with the loop's own trace (LOOP_TRACE) shown next to what they
print.

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
LOCK = threading.Lock()  # two reader threads print: one line at a time


def say(text):
    print("\n" + text, flush=True)


def show(who, text):
    with LOCK:
        sys.stdout.write("  %6.2f s  %-12s %s\n"
                         % (time.monotonic() - T0, who, text))
        sys.stdout.flush()


def pump(stream, who):
    """Show each line; who=None labels hello's merged output by its look."""
    for raw in stream:
        line = raw.decode().rstrip("\n")
        label = who or ("loop trace" if line.startswith("[loop #")
                        else "hello says")
        show(label, line)


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hello_part():
    global T0
    say("hello with LOOP_TRACE=1: every loop iteration prints one line (on "
        "stderr) before\nits callbacks run. A hello is due every 0.5 s; we "
        "type 7, then 42 (fib takes a\nwhile), then exit:")
    T0 = time.monotonic()
    # stdout and stderr share one pipe, so the lines keep the order they
    # were written in (both streams are flushed line by line).
    p = subprocess.Popen([os.path.join(BUILD, "hello"), "--interval", "0.5"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT,
                         env=dict(os.environ, LOOP_TRACE="1"))
    readers = [threading.Thread(target=pump, args=(p.stdout, None))]
    for r in readers:
        r.start()
    time.sleep(0.7)
    show("we type", "7")
    p.stdin.write(b"7\n")
    p.stdin.flush()
    # 42 goes in at 0.8 s, well before the hello due at 1.0 s (0.2 s of
    # margin, more than a loaded machine's scheduling jitter), so the reader
    # runs first, in an iteration of its own, and that hello falls due while
    # fib(42) runs (half a second or more). Typed by hand, either may come
    # first.
    time.sleep(0.1)
    show("we type", "42")
    p.stdin.write(b"42\n")
    p.stdin.flush()
    time.sleep(1.7)
    show("we type", "exit")
    p.stdin.write(b"exit\n")
    p.stdin.close()
    p.wait(timeout=120)
    for r in readers:
        r.join()
    say("Each line of trace is one iteration: the wait (its timeout is the "
        "time left to the\nnext hello), what was ready, the timers that fell "
        "due, the callbacks run. While\nfib(42) ran inside the reader "
        "callback, no iteration happened at all: the hello\nthat fell due "
        "meanwhile waited, then came at once. Callbacks share one thread; a slow one\n"
        "holds up all the others.")


def echo_part():
    global T0
    say("echo-server, written as an asyncio protocol. Two clients talk; a "
        "third sends\nall it can and never reads its echo. Watch the server's "
        "memory:")
    T0 = time.monotonic()
    srv = subprocess.Popen([os.path.join(BUILD, "echo-server"), "--port",
                            "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    line = srv.stdout.readline().decode().strip()
    show("server says", line)
    port = int(line.rsplit(":", 1)[1])
    a = socket.create_connection(("127.0.0.1", port), timeout=5)
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    a.sendall(b"I am A")
    b.sendall(b"I am B")
    show("A gets back", a.recv(100).decode())
    show("B gets back", b.recv(100).decode())
    show("server", "resident memory %d KiB" % rss_kib(srv.pid))
    hog = socket.create_connection(("127.0.0.1", port), timeout=5)
    hog.setblocking(False)
    sent, data, stuck = 0, b"x" * 65536, None
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            sent += hog.send(data)
            stuck = None
        except BlockingIOError:
            stuck = stuck or time.monotonic()
            if time.monotonic() - stuck > 0.5:
                break
            time.sleep(0.01)
    show("C", "sent %.1f MiB without reading, then send() blocked for 0.5 s"
         % (sent / 1048576))
    a.sendall(b"A again")
    show("A gets back", a.recv(100).decode())
    show("server", "resident memory %d KiB" % rss_kib(srv.pid))
    srv.send_signal(signal.SIGTERM)
    show("server", "SIGTERM -> exit status %d" % srv.wait(timeout=5))
    for s in (a, b, hog):
        s.close()
    say("The transport buffered C's echo up to its high-water mark (64 KiB), "
        "then the\nprotocol paused reading: the rest stayed in the kernel, "
        "and TCP stopped C.\nA was served as if nothing happened. SIGTERM "
        "arrived as a loop callback that\nclosed the server and stopped "
        "the loop.")


def main():
    print("=" * 72)
    print("Chapter 04-callbacks: an event loop with timers")
    print("=" * 72)
    hello_part()
    echo_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
