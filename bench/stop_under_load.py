#!/usr/bin/env python3
"""How long an echo server takes to stop while a client keeps it busy.

    python3 bench/stop_under_load.py [--runs N] [--busy S] SERVER...

Each SERVER is the path of an echo-server (the book's contract: --port 0,
'listening on HOST:PORT' on stdout, SIGTERM stops it with status 0). For
each run: start the server, connect one client that sends 1 MiB blocks
and reads the echo as fast as it can, from two threads, so that the
server's reads and writes never have to wait; after S seconds (default
0.5) send SIGTERM and time how long the server takes to exit. A server
that does not exit within 10 s is killed and counted as failed.

Output: one line per server with the runs' minimum, median and maximum,
in milliseconds. Exit status 0 when every run stopped with status 0, 1
otherwise, 2 on a bad command line. Everything stays on 127.0.0.1.
"""
import argparse
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

BLOCK = 1 << 20


def busy_client(port, stop):
    """Connect, then send and read without pause until stop is set."""
    sock = socket.create_connection(("127.0.0.1", port))
    block = os.urandom(BLOCK)

    def send():
        try:
            while not stop.is_set():
                sock.sendall(block)
        except OSError:
            pass

    def recv():
        try:
            while not stop.is_set() and sock.recv(BLOCK):
                pass
        except OSError:
            pass

    threads = [threading.Thread(target=send, daemon=True),
               threading.Thread(target=recv, daemon=True)]
    for t in threads:
        t.start()
    return sock, threads


def one_stop(path, busy_s):
    """One run: (seconds from SIGTERM to exit, exit status or None)."""
    srv = subprocess.Popen([path, "--port", "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    try:
        line = srv.stdout.readline().decode()
        m = re.search(r":(\d+)\s*$", line)
        if m is None:
            raise RuntimeError("%s: no 'listening on' line (got %r)"
                               % (path, line))
        stop = threading.Event()
        sock, threads = busy_client(int(m.group(1)), stop)
        time.sleep(busy_s)
        start = time.monotonic()
        srv.send_signal(signal.SIGTERM)
        try:
            status = srv.wait(10)
        except subprocess.TimeoutExpired:
            status = None
        took = time.monotonic() - start
        stop.set()
        sock.close()
        for t in threads:
            t.join(10)
        return took, status
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()


def main():
    ap = argparse.ArgumentParser(
        description="Time an echo server's stop under a busy client.")
    ap.add_argument("servers", nargs="+", metavar="SERVER")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--busy", type=float, default=0.5, metavar="S")
    args = ap.parse_args()
    if args.runs < 1 or args.busy < 0:
        ap.error("--runs must be at least 1 and --busy not negative")
    ok = True
    for path in args.servers:
        if not os.access(path, os.X_OK):
            print("%s: not an executable file" % path, file=sys.stderr)
            return 2
        times, failed = [], 0
        for _ in range(args.runs):
            took, status = one_stop(path, args.busy)
            times.append(took * 1000)
            failed += status != 0
        ok = ok and failed == 0
        print("%s: %d runs, stop took %.1f / %.1f / %.1f ms "
              "(min / median / max)%s"
              % (path, args.runs, min(times), statistics.median(times),
                 max(times), ", %d did not exit 0" % failed if failed else ""))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
