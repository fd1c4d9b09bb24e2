#!/usr/bin/env python3
"""make bench for chapter 04: timers and call_soon, our loop against libuv,
Python asyncio and (when installed) uvloop, in one run.

    python3 bench/run_bench.py --build build [--quick]

Prints a table with the machine, the compiler and the date, writes
BUILD/bench-loop.csv, and plots BUILD/bench-timers.png with gnuplot. The
figure CHAPTER.md shows is bench/timers.png, committed; to replace it with
yours, pass --png bench/timers.png (or copy the one from BUILD).

The sorted list is O(n) per timer, O(n^2) in all: it is run at the next N
only while its time, scaled by 100 for ten times the timers, stays under a
minute. The table says when it was skipped.
"""
import argparse
import csv
import datetime
import os
import platform
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SIZES = [1000, 10000, 100000, 1000000]
SOON_N = 1000000
LIMIT_S = 60.0


def python_with_uvloop():
    """The interpreter for the asyncio runs: one that imports uvloop if
    there is one (Debian's python3-uvloop is for /usr/bin/python3)."""
    for exe in ("/usr/bin/python3", sys.executable):
        if exe and os.path.exists(exe) and subprocess.run(
                [exe, "-c", "import uvloop"], capture_output=True).returncode == 0:
            return exe, True
    return sys.executable, False


def seconds(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("%s failed: %s" % (" ".join(cmd), out.stderr))
    return float(out.stdout.strip())


def best_of(cmd, n):
    reps = 3 if n <= 10000 else 1
    return min(seconds(cmd) for _ in range(reps))


def machine():
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    cc = subprocess.run(["cc", "--version"], capture_output=True,
                        text=True).stdout.splitlines()[0]
    return "%s, %d CPUs; %s; %s" % (model, os.cpu_count(), cc,
                                     datetime.datetime.now(
                                         datetime.timezone.utc)
                                     .strftime("%Y-%m-%d %H:%M UTC"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    ap.add_argument("--quick", action="store_true",
                    help="only N up to 10,000 (a smoke test)")
    ap.add_argument("--png", help="where the plot goes (default: "
                    "BUILD/bench-timers.png; bench/timers.png is the book's)")
    args = ap.parse_args()
    loop_bin = os.path.join(args.build, "bench-loop")
    uv_bin = os.path.join(args.build, "bench-uv")
    py, have_uvloop = python_with_uvloop()
    py_bench = os.path.join(HERE, "bench_asyncio.py")
    sizes = SIZES[:2] if args.quick else SIZES
    soon_n = 10000 if args.quick else SOON_N

    impls = [("heap", lambda n: [loop_bin, "timers", "heap", str(n)]),
             ("list", lambda n: [loop_bin, "timers", "list", str(n)]),
             ("libuv", lambda n: [uv_bin, "timers", str(n)]),
             ("asyncio", lambda n: [py, py_bench, "timers", str(n)])]
    if have_uvloop:
        impls.append(("uvloop", lambda n: [py, py_bench, "timers", str(n),
                                           "--uvloop"]))
    rows = []
    print("chapter 04 bench: %s" % machine())
    print("python for asyncio: %s (%s)%s" % (
        py, platform.python_version() if py == sys.executable else
        subprocess.run([py, "-V"], capture_output=True, text=True)
        .stdout.strip(), "" if have_uvloop else "; uvloop not installed"))
    print()
    print("1. Timers: arm N timers with random deadlines, then fire them all."
          "\n   Nanoseconds per timer (lower is better).")
    names = [name for name, _ in impls]
    print("%10s" % "N" + "".join("%11s" % n for n in names))
    last = {}
    for n in sizes:
        line = "%10d" % n
        for name, cmd in impls:
            if name == "list" and "list" in last and last["list"] * 100 > LIMIT_S:
                line += "%11s" % "skipped"
                continue
            s = best_of(cmd(n), n)
            last[name] = s
            rows.append(("timers", name, n, s, s / n * 1e9))
            line += "%11.1f" % (s / n * 1e9)
        print(line, flush=True)
    print("   list skipped where 100x its time at the previous N would pass "
          "%.0f s (it is O(n) per timer)." % LIMIT_S)
    t = {(r[1], r[2]): r[3] for r in rows}
    big = sizes[-1]
    print("   at N=%d: libuv/heap = %.2f, asyncio/heap = %.1f%s" % (
        big, t[("libuv", big)] / t[("heap", big)],
        t[("asyncio", big)] / t[("heap", big)],
        ", list/heap at N=%d = %.0f" % (sizes[-2], t[("list", sizes[-2])] /
                                        t[("heap", sizes[-2])])
        if ("list", sizes[-2]) in t else ""))

    print()
    print("2. call_soon: %d callbacks in 1,000 self-re-queuing chains.\n"
          "   Nanoseconds per callback (libuv: uv_idle handles, see "
          "bench_uv.c)." % soon_n)
    soon = [("ours", [loop_bin, "soon", str(soon_n)]),
            ("libuv", [uv_bin, "idle", str(soon_n)]),
            ("asyncio", [py, py_bench, "soon", str(soon_n)])]
    if have_uvloop:
        soon.append(("uvloop", [py, py_bench, "soon", str(soon_n),
                                "--uvloop"]))
    res = {}
    for name, cmd in soon:
        s = min(seconds(cmd) for _ in range(3))
        res[name] = s
        rows.append(("call_soon", name, soon_n, s, s / soon_n * 1e9))
        print("%10s %9.1f" % (name, s / soon_n * 1e9))
    print("   asyncio/ours = %.0f, libuv/ours = %.2f" % (
        res["asyncio"] / res["ours"], res["libuv"] / res["ours"]))

    path = os.path.join(args.build, "bench-loop.csv")
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["benchmark", "impl", "n", "seconds", "ns_per_op"])
        w.writerows(rows)
    print("\nCSV: %s" % path)
    if shutil.which("gnuplot") and not args.quick:
        dat = os.path.join(args.build, "bench-timers.dat")
        with open(dat, "w") as f:
            for name in names:
                f.write("# %s\n" % name)
                for r in rows:
                    if r[0] == "timers" and r[1] == name:
                        f.write("%d %.3f\n" % (r[2], r[4]))
                f.write("\n\n")
        png = args.png or os.path.join(args.build, "bench-timers.png")
        subprocess.run(["gnuplot", "-e", "dat='%s'; png='%s'; names='%s'"
                        % (dat, png, " ".join(names)),
                        os.path.join(HERE, "plot.gp")], check=True)
        print("plot: %s" % png)


if __name__ == "__main__":
    main()
