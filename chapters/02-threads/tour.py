#!/usr/bin/env python3
"""Chapter 01's part of the guided tour: run the two programs with scripted
input and show, with timestamps, what a synchronous program cannot do.

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
    say("hello, with a hello due every 0.5 s. We type nothing for 2 s, then "
        "30,\nthen wait 1 s and type exit. Watch for hellos while we wait:")
    T0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "hello"), "--interval", "0.5"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    reader = threading.Thread(target=echo_output, args=(p, "hello says"))
    reader.start()
    time.sleep(2.0)
    show("we type", "30")
    p.stdin.write(b"30\n")
    p.stdin.flush()
    time.sleep(1.0)
    show("we type", "exit")
    p.stdin.write(b"exit\n")
    p.stdin.close()
    p.wait(timeout=10)
    reader.join()
    say("Four hellos were due while we were silent; none came. The program "
        "sat in a\nblocking read, and a program in a blocking read does "
        "nothing else.")


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
    show("B", "connected and sent 'I am B' ... waiting")
    b.settimeout(1.5)
    try:
        b.recv(100)
    except socket.timeout:
        show("B", "nothing back after 1.5 s")
    a.close()
    show("A", "closes its connection")
    b.settimeout(5)
    show("B gets back", b.recv(100).decode())
    b.close()
    srv.send_signal(signal.SIGTERM)
    show("server", "SIGTERM -> exit status %d" % srv.wait(timeout=5))
    say("The kernel accepted B's connection at once (it sits in the listen "
        "backlog),\nbut the server only calls accept() again when A is "
        "done.")


def main():
    print("=" * 72)
    print("Chapter 01-sync: one thing at a time")
    print("=" * 72)
    hello_part()
    echo_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
