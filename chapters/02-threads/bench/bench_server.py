#!/usr/bin/env python3
"""What thread-per-connection costs at scale: hold N idle clients on the
chapter's echo-server and read its thread count and memory from /proc.

    python3 bench/bench_server.py [--csv FILE] [COUNTS...]   (default 1000 10000)

Each client connects and gets one byte echoed, so its thread surely exists,
then stays connected and silent. If the server or this process runs out of
something (descriptors, threads), the count reached is reported as the
limit, not hidden. Loopback only; every client is closed before the next
count.
"""
import datetime
import os
import platform
import resource
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
            if key in ("VmRSS", "VmSize", "Threads"):
                out[key] = int(value.split()[0])
    return out


def raise_nofile(need):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, max(soft, need)) if hard != resource.RLIM_INFINITY else max(soft, need)
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def hold(port, n):
    socks, error = [], None
    start = time.monotonic()
    try:
        for i in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            socks.append(s)
            s.sendall(b"x")
            if s.recv(1) != b"x":
                raise ConnectionError("no echo for client %d" % i)
    except OSError as e:
        error = "%s after %d clients" % (e, len(socks))
    return socks, time.monotonic() - start, error


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
    print("thread-per-connection echo-server holding N idle clients")
    print("machine: %s\ndate: %s\ndescriptor limit (soft, both processes): "
          "%d\n" % (machine, date, limit))
    print("%8s %8s %10s %12s %14s %9s  %s" % ("clients", "threads", "RSS MiB",
          "virtual GiB", "KiB RSS/client", "connect s", "limit hit"))
    rows = []
    for n in counts:
        srv = subprocess.Popen([SERVER, "--port", "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL)
        port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
        base = proc_status(srv.pid)
        socks, took, error = hold(port, n)
        time.sleep(0.5)
        st = proc_status(srv.pid)
        per = (st["VmRSS"] - base["VmRSS"]) / max(1, len(socks))
        print("%8d %8d %10.1f %12.1f %14.1f %9.2f  %s" % (
            len(socks), st["Threads"], st["VmRSS"] / 1024,
            st["VmSize"] / 1024 / 1024, per, took, error or "no"))
        rows.append((n, len(socks), st["Threads"], st["VmRSS"], st["VmSize"],
                     per, took, error or ""))
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
            f.write("machine,date,asked,clients,threads,rss_kib,virtual_kib,"
                    "rss_kib_per_client,connect_s,limit\n")
            for r in rows:
                f.write('"%s",%s,%d,%d,%d,%d,%d,%.1f,%.2f,"%s"\n'
                        % ((machine, date) + r))
        print("CSV: %s" % csv_path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
