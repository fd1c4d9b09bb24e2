#!/usr/bin/env python3
"""make bench: chapter 05's tasks against CPython asyncio and uvloop, in one
run, with three reference points. Prints a table (machine, compiler, date),
writes BUILD/bench-coro.csv and, if gnuplot is there, bench/bench-coro.png.

    python3 bench/run_bench.py --build build
"""
import argparse
import datetime
import os
import platform
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = [
    ("call", "same-thread function call (reference)", "ns"),
    ("swapcontext", "swapcontext round trip (stackful switch)", "ns"),
    ("pthread", "pthread ping-pong round trip", "ns"),
    ("one_task", "(1) one task, sleep(0) in a loop: per step", "ns"),
    ("many_tasks", "(2) 10,000 tasks x 100 sleep(0): per step", "ns"),
    ("gather", "(3) create + gather 100,000 tasks: per task", "ns"),
    ("bytes", "(4) memory per suspended task", "B"),
]


def parse(text):
    out = {}
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3:
            out[parts[0]] = float(parts[1])
    return out


def python_with_uvloop():
    for exe in ("/usr/bin/python3", shutil.which("python3") or ""):
        if exe and subprocess.run([exe, "-c", "import uvloop"],
                                  capture_output=True).returncode == 0:
            return exe
    return None


def machine():
    model = platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%s, %d CPUs, %s" % (model, os.cpu_count() or 0, platform.system())


def compiler():
    cc = os.environ.get("CC", "cc")
    try:
        return subprocess.run([cc, "--version"], capture_output=True,
                              text=True).stdout.splitlines()[0]
    except (OSError, IndexError):
        return cc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default="build")
    args = ap.parse_args()

    ours = parse(subprocess.run([os.path.join(args.build, "bench-coro")],
                                capture_output=True, text=True,
                                check=True).stdout)
    py = python_with_uvloop()
    peers = {}
    for name in ("asyncio", "uvloop"):
        exe = py or sys.executable
        r = subprocess.run([exe, os.path.join(HERE, "bench_asyncio.py"),
                            name], capture_output=True, text=True)
        peers[name] = parse(r.stdout) if r.returncode == 0 else {}
        if r.returncode != 0:
            print("(%s not measured: %s)" % (name, r.stderr.strip()[-200:]))

    print("chapter 05 benchmark, %s" %
          datetime.datetime.now().strftime("%Y-%m-%d %H:%M"))
    print("machine:  %s" % machine())
    print("compiler: %s; python: %s" % (compiler(), py or sys.executable))
    print()
    head = "%-45s %10s %10s %10s %9s %9s" % (
        "measurement", "C tasks", "asyncio", "uvloop", "x asyncio", "x uvloop")
    print(head)
    print("-" * len(head))
    rows = []
    for key, label, unit in ROWS:
        c = ours.get(key)
        a = peers["asyncio"].get(key)
        u = peers["uvloop"].get(key)

        def fmt(v):
            return "%.1f %s" % (v, unit) if v is not None else "-"

        def ratio(v):
            return "%.0f" % (v / c) if v and c else "-"
        print("%-45s %10s %10s %10s %9s %9s" % (label, fmt(c), fmt(a),
                                                fmt(u), ratio(a), ratio(u)))
        rows.append((key, unit, c, a, u))
    print()
    print("frame of a suspended task (its own locals): %.0f B"
          % ours.get("frame", 0))

    csv = os.path.join(args.build, "bench-coro.csv")
    with open(csv, "w") as f:
        f.write("measurement,unit,c_tasks,asyncio,uvloop\n")
        for key, unit, c, a, u in rows:
            f.write("%s,%s,%s,%s,%s\n" % (key, unit, c or "", a or "",
                                          u or ""))
    print("CSV: %s" % csv)
    plot(csv, os.path.join(HERE, "bench-coro.png"))


def plot(csv, png):
    if not shutil.which("gnuplot"):
        print("(gnuplot not found: no plot)")
        return
    script = """
set terminal pngcairo size 900,480 noenhanced
set output '%s'
set datafile separator ','
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set yrange [1:*]
set ylabel 'nanoseconds (log scale)'
set title 'Cost per task step / per task: C coroutines vs asyncio vs uvloop'
set key top left
set xtics rotate by -20
plot '< head -n 7 %s' using 3:xtic(1) every ::1 title 'C tasks', \\
     '' using 4 every ::1 title 'asyncio', \\
     '' using 5 every ::1 title 'uvloop'
""" % (png, csv)
    r = subprocess.run(["gnuplot"], input=script, text=True,
                       capture_output=True)
    if r.returncode != 0:
        print("(gnuplot failed: %s)" % r.stderr.strip()[-300:])
    else:
        print("plot: %s" % png)


if __name__ == "__main__":
    main()
