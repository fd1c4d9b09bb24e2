#!/usr/bin/env python3
"""One thread holding many clients: hold N idle clients on the chapter's
echo-server, once per backend, and read its threads and memory from /proc;
then every client sends one byte at the same moment and we time how long
until all N echoes are back (one "round").

    python3 bench/bench_server.py [--csv FILE] [COUNTS...]   (default 1000 10000)

Chapter 02 ran the same count on its thread-per-connection server. The
select backend stops near FD_SETSIZE (1024): the clients past it are closed
by the server, and the table says how many were held. Loopback only.
"""
import datetime
import os
import platform
import resource
import selectors
import signal
import socket
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SERVER = os.path.join(HERE, "build", "echo-server")


def proc_status(pid):
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "Threads"):
                out[key] = int(value.split()[0])
    return out


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = max(soft, need) if hard == resource.RLIM_INFINITY else min(hard, max(soft, need))
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def hold(port, n):
    """Connect n clients as fast as we can (the server accepts them in
    batches, until EAGAIN); stop early if connecting fails."""
    socks, note = [], ""
    start = time.monotonic()
    try:
        for _ in range(n):
            socks.append(socket.create_connection(("127.0.0.1", port),
                                                  timeout=30))
    except OSError as e:
        note = "connect: %s after %d; " % (e.strerror or e, len(socks))
    return socks, time.monotonic() - start, note


def one_round(socks):
    """Every client sends a byte at once. Returns the seconds until every
    answer is in, and how many got their byte back (the others were closed
    by the server: refused)."""
    sel = selectors.DefaultSelector()
    start = time.monotonic()
    for s in socks:
        s.setblocking(False)
        try:
            s.send(b"y")
        except OSError:
            continue
        sel.register(s, selectors.EVENT_READ)
    left, echoed = len(sel.get_map()), 0
    while left:
        events = sel.select(30)
        if not events:
            break
        for key, _ in events:
            try:
                echoed += key.fileobj.recv(1) == b"y"
            except OSError:
                pass
            sel.unregister(key.fileobj)
            left -= 1
    sel.close()
    return time.monotonic() - start, echoed


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def main():
    args = sys.argv[1:]
    csv_path = None
    if args[:1] == ["--csv"]:
        csv_path, args = args[1], args[2:]
    counts = [int(a) for a in args] or [1000, 10000]
    limit = raise_nofile(max(counts) + 100)
    machine = "%s, %d CPUs, %s %s" % (cpu_model(), os.cpu_count(),
                                      platform.system(), platform.release())
    date = datetime.date.today().isoformat()
    print("single-threaded echo-server holding N idle clients")
    print("machine: %s\ndate: %s\ndescriptor limit (soft, this process): "
          "%d\n" % (machine, date, limit))
    print("%-7s %8s %8s %8s %9s %14s %10s %10s  %s" % (
        "backend", "asked", "held", "threads", "RSS MiB", "KiB RSS/client",
        "connect s", "round ms", "note"))
    rows = []
    log = open(os.path.join(HERE, "build", "bench-server.log"), "w")
    for backend in ("select", "poll", "epoll"):
        for n in counts:
            srv = subprocess.Popen([SERVER, "--port", "0", "--backend", backend],
                                   stdout=subprocess.PIPE,
                                   stderr=log)
            port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
            base = proc_status(srv.pid)
            socks, took, note = hold(port, n)
            round_s, held = one_round(socks)
            st = proc_status(srv.pid)
            per = (st["VmRSS"] - base["VmRSS"]) / max(1, held)
            if held < n:
                note += "%d refused by the server" % (len(socks) - held)
            print("%-7s %8d %8d %8d %9.1f %14.2f %10.2f %10.1f  %s" % (
                backend, n, held, st["Threads"], st["VmRSS"] / 1024,
                per, took, round_s * 1000, note))
            rows.append((backend, n, held, st["Threads"], st["VmRSS"],
                         per, took, round_s * 1000, note))
            for s in socks:
                s.close()
            srv.send_signal(signal.SIGTERM)
            try:
                srv.wait(timeout=30)
            except subprocess.TimeoutExpired:
                srv.kill()
                srv.wait()
    if csv_path:
        with open(csv_path, "w") as f:
            f.write("machine,date,backend,asked,held,threads,rss_kib,"
                    "rss_kib_per_client,connect_s,round_ms,note\n")
            for r in rows:
                f.write('"%s",%s,%s,%d,%d,%d,%d,%.2f,%.2f,%.1f,"%s"\n'
                        % ((machine, date) + r))
        print("CSV: %s" % csv_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
