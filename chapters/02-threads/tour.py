#!/usr/bin/env python3
"""Chapter 02's part of the guided tour: run the two programs with scripted
input and show, with timestamps, what a second thread buys.

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


def echo_output(proc, who, answered=None):
    for raw in proc.stdout:
        line = raw.decode().rstrip("\n")
        show(who, line)
        if answered is not None and line.startswith("fib("):
            answered.set()


def hello_part():
    global T0
    say("hello, with a hello due every 0.2 s. We type nothing for 1 s, then "
        "42 (half a\nsecond or so of fib on a quiet machine), and once it "
        "is answered we wait 0.5 s\nand type exit. Watch the hellos:")
    T0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "hello"), "--interval", "0.2"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    answered = threading.Event()
    reader = threading.Thread(target=echo_output,
                              args=(p, "hello says", answered))
    reader.start()
    time.sleep(1.0)
    show("we type", "42")
    p.stdin.write(b"42\n")
    p.stdin.flush()
    # Wait for the answer, however busy the machine, so that "exit" is read
    # at once: typed during fib, it would wait for fib like any other line.
    answered.wait(timeout=120)
    time.sleep(0.5)
    show("we type", "exit")
    p.stdin.write(b"exit\n")
    p.stdin.close()
    p.wait(timeout=120)
    reader.join()
    say("The hellos kept coming while we were silent and while the main "
        "thread computed\nfib(42): the hello thread is scheduled by the "
        "operating system, whatever the\nmain thread is doing. exit ended "
        "both threads at once: ticker_stop() woke the\nhello thread.")


def echo_part():
    global T0
    say("echo-server, and two clients. A connects and stays; B connects "
        "while A is\nstill there:")
    T0 = time.monotonic()
    srv = subprocess.Popen([os.path.join(BUILD, "echo-server"), "--port",
                            "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    line = srv.stdout.readline().decode().strip()
    show("server says", line)
    port = int(line.rsplit(":", 1)[1])

    a = socket.create_connection(("127.0.0.1", port), timeout=5)
    a.sendall(b"I am A")
    show("A gets back", a.recv(100).decode())
    b = socket.create_connection(("127.0.0.1", port), timeout=5)
    b.sendall(b"I am B")
    show("B gets back", b.recv(100).decode())
    a.sendall(b"A again")
    show("A gets back", a.recv(100).decode())
    srv.send_signal(signal.SIGTERM)
    show("server", "SIGTERM -> exit status %d" % srv.wait(timeout=5))
    show("A", "reads %r: the server closed it" % a.recv(100))
    a.close()
    b.close()
    say("Each client has its own thread, so B is served while A is still "
        "connected.\nOn SIGTERM the server shut down both sockets, waited "
        "for both threads, exited.")


def main():
    print("=" * 72)
    print("Chapter 02-threads: one thread per task")
    print("=" * 72)
    hello_part()
    echo_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
