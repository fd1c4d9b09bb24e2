#!/usr/bin/env python3
"""The C10K comparison: every chapter's echo-server against the peers a
reader would otherwise use (libuv, asyncio streams and protocol, uvloop,
Node's net), under the same workloads, in one run.

    python3 bench/c10k.py [--quick | --smoke] [--only NAME,...] [--out DIR]
                          [--workloads W,...]
    python3 bench/c10k.py --ab A,B [--rounds N] [--workloads W,...] ...

For every workload and server (workload by workload, each server in turn)
it starts a fresh server on port 0, warms it up with a short unmeasured
burst, then runs build/loadgen against it (which checks every byte; three
times for timed workloads, medians reported) and reads the server's CPU
time and memory from /proc. The server and the load client are pinned to
two different CPUs. Workloads: 1, 100 and 1,000 connections exchanging
64 B and 16 KiB messages for a fixed time, and the hold test: 10,000
connections open at once, each echoing three 64 B messages.

Output: a Markdown report on stdout (machine, kernel, compiler, date, then
the tables and the goals of issue 7) also written to OUT/c10k.md, one CSV row
per run in OUT/c10k.csv, and a plot OUT/c10k.png (gnuplot). A server that
cannot run (a missing package, a failed build) is listed with the reason;
the others still run.

A/B mode (--ab A,B): two servers only, for a comparison a reader can
trust on a shared machine, where one run of each cannot tell a few per
cent apart. For each workload (the timed ones with more than one
connection, or those --workloads names), N rounds (--rounds, default 10);
each round runs A and B, each on a fresh server with the same warm-up and
loadgen runs as above, A first in odd rounds and B first in even ones, so
that both meet the machine's load of the same minutes and neither always
runs first. Per round, the ratio A / B of CPU per echo; per workload, the
median ratio, its interquartile range, min-max, the rounds at or under 1,
and a distribution-free 95% interval for the median (the sign test's:
order statistics of the ratios), which gives the verdict: A at or under
B when the interval lies at or under 1, above when it lies above, not
told apart otherwise. Output: OUT/c10k-ab.md and OUT/c10k-ab.csv (one row
per run, with the load average when it started). Names are as the report
gives them; a chapter's name alone ("05-coroutines", "05") means its
epoll backend.

Chapters join by themselves: every chapters/NN-*/ whose `make all` produces
build/echo-server is measured; when its --help mentions --backend, each
backend named there (select, poll, epoll) is measured on its own. The
chapter-01 server (one client at a time) runs the one-connection workloads
only. A server that exits at once instead of listening (chapter 06's where
io_uring is refused, or on a backend its proactor cannot use) is listed
with its own one-line reason and not measured.

Exit status: 0 when every server that could run passed every workload it
was meant to pass; 1 otherwise (the report says which and why); 2 on a bad
command line. The hold test is allowed to fail (a server that cannot hold
10,000 connections is a result, not a harness failure); a byte lost or
changed never is. A select backend that holds just under FD_SETSIZE (1,024)
connections and closes the rest before their first message is reported as
"refused past FD_SETSIZE (expected for select)", not as FAILED: select()
cannot watch a higher descriptor, and the chapters say so.
"""
import argparse
import csv
import datetime
import math
import os
import platform
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH)
LOADGEN = os.path.join(BENCH, "build", "loadgen")

# Servers that serve one client at a time, measured at one connection only:
# with N > 1 connections held open, the second waits until the first closes,
# which no workload here does until the end, so it could only time out.
ONE_AT_A_TIME = {"01-sync"}

# select() watches descriptors below FD_SETSIZE only (1024 in glibc), so a
# select backend has to close every client whose descriptor is at or past
# it. Its own descriptors (the standard streams, the listening socket, the
# loop's) come first, so it holds a little under FD_SETSIZE clients.
FD_SETSIZE = 1024
OWN_FDS_AT_MOST = 32
# How loadgen words a connection that the server closed (or reset) before
# its first message was echoed: the refusal a select backend makes.
REFUSED = re.compile(r"^connection \d+, message 0: (server closed before "
                     r"any message|(send|recv): (Connection reset by peer|"
                     r"Broken pipe))$")

# ---- workloads ---------------------------------------------------------------


class Workload:
    def __init__(self, name, connections, size, messages, duration=None,
                 hold=False, repeats=1):
        self.name = name
        self.repeats = repeats
        self.connections = connections
        self.size = size
        self.messages = messages
        self.duration = duration
        self.hold = hold


def workloads(mode):
    """The workloads of a run: (list, timeout per run in seconds)."""
    if mode == "smoke":  # the test suite: seconds, small counts
        return [Workload("1x64B", 1, 64, 50),
                Workload("10x16KiB", 10, 16384, 10),
                Workload("hold 50", 50, 64, 3, hold=True)], 30
    secs, repeats = (0.25, 1) if mode == "quick" else (0.4, 3)
    hold = 2000 if mode == "quick" else 10000
    out = []
    for n in (1, 100, 1000):
        for size, label in ((64, "64B"), (16384, "16KiB")):
            # The count bounds the run; the duration ends it sooner.
            out.append(Workload("%dx%s" % (n, label), n, size,
                                max(10, 2000000 // n), duration=secs,
                                repeats=repeats))
    out.append(Workload("hold %d" % hold, hold, 64, 3, hold=True))
    return out, 60


# ---- servers -------------------------------------------------------------------


class Server:
    """A server to measure: how to start it, or why it cannot be."""

    def __init__(self, name, argv, kind, problem=None, one_at_a_time=False,
                 backend=None, chapter=None):
        self.name = name
        self.argv = argv
        self.kind = kind  # "chapter" or "peer"
        self.problem = problem
        self.one_at_a_time = one_at_a_time
        self.backend = backend
        self.chapter = chapter


def run_quiet(argv, timeout=600, **kw):
    return subprocess.run(argv, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, timeout=timeout, **kw)


def chapter_servers(chapters_dir, build):
    """One Server per chapter (and per backend, where it has --backend)."""
    servers = []
    for chapter in sorted(os.listdir(chapters_dir)):
        folder = os.path.join(chapters_dir, chapter)
        if not os.path.isfile(os.path.join(folder, "Makefile")):
            continue
        program = os.path.join(folder, "build", "echo-server")
        if build:
            r = run_quiet(["make", "-s", "-C", folder, "all"])
            if r.returncode != 0:
                last = r.stdout.decode(errors="replace").strip()
                last = last.splitlines()[-1] if last else ""
                servers.append(Server(chapter, None, "chapter", chapter=chapter,
                                      problem="make all failed: " + last))
                continue
        if not os.access(program, os.X_OK):
            servers.append(Server(chapter, None, "chapter", chapter=chapter,
                                  problem="no build/echo-server"))
            continue
        backends = detect_backends(program)
        one = chapter in ONE_AT_A_TIME
        mine = []
        if not backends:
            mine.append(Server(chapter, [program], "chapter",
                               one_at_a_time=one, chapter=chapter))
        for b in backends:
            mine.append(Server("%s %s" % (chapter, b),
                               [program, "--backend", b], "chapter",
                               one_at_a_time=one, backend=b,
                               chapter=chapter))
        for s in mine:
            s.problem = cannot_start(s)
        servers += mine
    return servers


def cannot_start(server):
    """Why a server exits at once instead of listening on port 0 (its last
    output line), or None when it starts and stops cleanly."""
    with tempfile.TemporaryDirectory() as logdir:
        try:
            proc, _, _ = start_server(server, logdir, "probe")
        except (OSError, RuntimeError) as e:
            return str(e)
        return stop_server(proc)


def detect_backends(program):
    """The backends a server's --help offers, e.g. ['select', 'poll',
    'epoll'], or [] when it has no --backend option."""
    try:
        r = run_quiet([program, "--help"], timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    text = r.stdout.decode(errors="replace")
    if "--backend" not in text:
        return []
    # Whatever form the help takes ("--backend select|poll|epoll", or
    # "NAME is select, poll, epoll or default"), the names are words in it.
    known = ("select", "poll", "epoll", "kqueue")
    found = [b for b in known if re.search(r"\b%s\b" % b, text)]
    return found or ["select", "poll", "epoll"]


def python_with(module):
    """The first Python 3 here that can import module, or None. (On Debian,
    python3-uvloop installs for /usr/bin/python3 only, which need not be
    the python3 on PATH.)"""
    seen = []
    for py in (sys.executable, "/usr/bin/python3", shutil.which("python3")):
        if not py or py in seen or not os.access(py, os.X_OK):
            continue
        seen.append(py)
        if subprocess.run([py, "-c", "import " + module],
                          stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode == 0:
            return py
    return None


def peer_servers(build):
    peers = []
    uv = os.path.join(BENCH, "build", "uv-echo")
    if build:
        run_quiet(["make", "-s", "-C", BENCH, "all"])
    if os.access(uv, os.X_OK):
        peers.append(Server("libuv", [uv], "peer"))
    else:
        peers.append(Server("libuv", None, "peer", problem=
                            "libuv not found by pkg-config (Debian: "
                            "apt-get install libuv1-dev), so bench/build/"
                            "uv-echo was not built"))
    script = os.path.join(BENCH, "peers", "asyncio_echo.py")
    uvpy = python_with("uvloop")
    py = uvpy or sys.executable  # same interpreter for both, when possible
    for api in ("streams", "protocol"):
        peers.append(Server("asyncio %s" % api, [py, script, "--api", api],
                            "peer"))
    for api in ("streams", "protocol"):
        if uvpy:
            peers.append(Server("uvloop %s" % api,
                                [uvpy, script, "--api", api, "--uvloop"],
                                "peer"))
        else:
            peers.append(Server("uvloop %s" % api, None, "peer", problem=
                                "no Python here imports uvloop (Debian: "
                                "apt-get install python3-uvloop)"))
    node = shutil.which("node") or shutil.which("nodejs")
    if node:
        peers.append(Server("node net",
                            [node, os.path.join(BENCH, "peers",
                                                "node-echo.js")], "peer"))
    else:
        peers.append(Server("node net", None, "peer", problem=
                            "node not found (Debian: apt-get install nodejs)"))
    return peers


# ---- one run -------------------------------------------------------------------


# CPU pinning: the server on one CPU, the load client on another. Unpinned,
# the scheduler sometimes puts both on one CPU and sometimes not, and the
# one-connection figures jump between two values from run to run. Pinned in
# the child before exec, so every thread the program starts inherits it.
PIN = {"server": None, "loadgen": None}


def pin_to(cpus):
    if not cpus:
        return None
    return lambda: os.sched_setaffinity(0, cpus)


def choose_pinning(enabled):
    """Two different CPUs this process may use, or no pinning."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return "no (not supported here)"
    if not enabled:
        return "no (--no-pin)"
    if len(cpus) < 2:
        return "no (only one CPU)"
    PIN["server"], PIN["loadgen"] = {cpus[0]}, {cpus[1]}
    return "server on CPU %d, load client on CPU %d" % (cpus[0], cpus[1])


def start_server(server, logdir, tag, wait=15):
    """Start a server on port 0: (Popen, port, log path) or raise. It has
    `wait` seconds to print its 'listening on' line."""
    log = os.path.join(logdir, re.sub(r"[^A-Za-z0-9.]+", "_", tag) + ".log")
    out = open(log, "wb")
    proc = subprocess.Popen(server.argv + ["--port", "0"],
                            stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT,
                            preexec_fn=pin_to(PIN["server"]))
    out.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        with open(log, "rb") as f:
            m = re.search(rb"^listening on (\S+):(\d+)$", f.read(), re.M)
        if m:
            return proc, int(m.group(2)), log
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    stop_server(proc)
    with open(log, "rb") as f:
        tail = f.read().decode(errors="replace").strip().splitlines()[-1:]
    raise RuntimeError("no 'listening on' line (%s)"
                       % (tail[0] if tail else "no output"))


def stop_server(proc, wait=5, nudge=None):
    """SIGTERM; the contract says exit 0 within a second (`wait` seconds
    allowed here, 5 by default). `nudge`, when given, is called every 2 s
    until it exits. Returns a problem string, or None."""
    if proc.poll() is not None:
        return "had already exited (status %d) before it was stopped" \
            % proc.returncode
    proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + wait
    while True:
        try:
            rc = proc.wait(timeout=max(0, min(2, deadline - time.monotonic()))
                           if nudge else wait)
            break
        except subprocess.TimeoutExpired:
            if nudge is None or time.monotonic() >= deadline:
                proc.kill()
                proc.wait()
                return "did not exit within %g s of SIGTERM" % wait
            nudge()
    return None if rc == 0 else "exited with status %d" % rc


def run_loadgen(argv, timeout):
    """(RESULT fields, error lines, exit status, full output)."""
    try:
        r = subprocess.run(argv, preexec_fn=pin_to(PIN["loadgen"]),
                           stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, timeout=timeout + 30)
        out, err = r.stdout.decode(), r.stderr.decode(errors="replace")
        rc = r.returncode
    except subprocess.TimeoutExpired:
        out, err, rc = "", "loadgen: error: loadgen did not finish\n", -1
    fields = {}
    m = re.search(r"^RESULT (.*)$", out, re.M)
    if m:
        for key, value in (kv.split("=") for kv in m.group(1).split()):
            fields[key] = float(value) if "." in value else int(value)
    msgs = fields.get("messages", 0)
    if msgs and fields.get("server_cpu_s", -1) >= 0:
        fields["cpu_us_per_echo"] = fields["server_cpu_s"] * 1e6 / msgs
    errors = [line[len("loadgen: error: "):] for line in err.splitlines()
              if line.startswith("loadgen: error: ")]
    if rc != 0 and not errors:
        errors = [err.strip()[-200:] or "loadgen exit status %d" % rc]
    return fields, errors, rc, "--- %s\n%s%s" % (" ".join(argv), out, err)


def median(values):
    values = sorted(values)
    return values[len(values) // 2] if values else None


def fd_setsize_refusal(server, w, fields, errors, fd_setsize=FD_SETSIZE):
    """True when a hold test's failure is a select backend's expected
    refusal: it held a little under FD_SETSIZE connections (its own
    descriptors take the rest) and every other connection was closed before
    its first message, with nothing else wrong (`fields`: loadgen's RESULT,
    `errors`: the error lines it showed). Anything else stays a failure."""
    if server.backend != "select" or not w.hold or not errors:
        return False
    held = fields.get("held", -1)
    return (fd_setsize - OWN_FDS_AT_MOST <= held < fd_setsize and
            held < w.connections and
            fields.get("errors", -1) == w.connections - held and
            all(REFUSED.match(e) for e in errors))


def run_one(server, w, loadgen, timeout, logdir, fd_setsize=FD_SETSIZE):
    """One workload on a fresh server: a dict for the CSV. Workloads with a
    duration are measured w.repeats times on the same server and each
    figure is the median, which tames a shared machine's hiccups."""
    row = {"server": server.name, "workload": w.name,
           "connections": w.connections, "size": w.size, "ok": 0,
           "problem": ""}
    try:
        proc, port, log = start_server(server, logdir, server.name + " " +
                                       w.name)
    except (OSError, RuntimeError) as e:
        row["problem"] = "did not start: %s" % e
        return row
    base = [loadgen, "--port", str(port), "--size", str(w.size),
            "--timeout", str(timeout)]
    # Warm-up, not measured: a JIT (Node) or a freshly started interpreter
    # is slow for its first few thousand messages, and a fresh process has
    # not yet grown the heap that any run of it needs. The measured runs'
    # memory baseline is taken after this.
    warm = base + ["--connections", str(min(w.connections, 100))]
    warm += ["--messages", "5"] if not w.duration else [
        "--messages", "100000", "--duration", str(min(w.duration, 0.3))]
    argv = base + ["--connections", str(w.connections), "--messages",
                   str(w.messages), "--server-pid", str(proc.pid)]
    if w.duration:
        argv += ["--duration", str(w.duration)]
    logs, runs, errors = [], [], []
    try:
        fields, errors, rc, text = run_loadgen(warm, timeout)
        logs.append(text)
        errors = ["warm-up: " + e for e in errors]
        for _ in range(w.repeats if rc == 0 else 0):
            fields, errors, rc, text = run_loadgen(argv, timeout)
            logs.append(text)
            runs.append(fields)
            if rc != 0:
                break
    finally:
        stop_problem = stop_server(proc)
    with open(log, "a") as f:
        f.write("\n" + "\n".join(logs))
    if runs:
        row.update(runs[-1])  # counts (held, established...) of the last
        for key in ("msgs_per_s", "p50_us", "p99_us", "max_us",
                    "cpu_us_per_echo", "seconds"):
            if all(key in r for r in runs):
                row[key] = median([r[key] for r in runs])
        for key in ("messages", "server_cpu_s"):
            row[key] = sum(r.get(key, 0) for r in runs)
        row["server_rss0_kib"] = runs[0].get("server_rss0_kib", -1)
        row["repeats"] = len(runs)
    if not errors and not stop_problem:
        row["ok"] = 1
    elif not stop_problem and runs and fd_setsize_refusal(
            server, w, runs[-1], errors, fd_setsize):
        row["problem"] = ("refused past FD_SETSIZE (expected for select): "
                          "held %s, closed the other %s at once" % (
                              "{:,}".format(row["held"]),
                              "{:,}".format(w.connections - row["held"])))
        row["fd_setsize_refusal"] = 1
    else:
        row["problem"] = "; ".join(
            (errors[:1]) + (["server " + stop_problem] if stop_problem
                            else []))
    if row.get("server_rss1_kib", -1) > 0 and row.get("server_rss0_kib", -1) > 0:
        row["rss_kib_per_conn"] = ((row["server_rss1_kib"] -
                                    row["server_rss0_kib"]) / w.connections)
    return row


def chapter_default(servers, prefix):
    """The server that stands for chapter `prefix` (e.g. "05"): its epoll
    backend when it has backends, else its only server; None when it has
    none that can run."""
    cands = [s for s in servers if s.chapter and s.chapter[:2] == prefix
             and s.problem is None]
    for s in cands:
        if s.backend in (None, "epoll"):
            return s
    return cands[-1] if cands else None


def pick_server(servers, name):
    """The one server `name` means: its exact name, or the only name it
    begins, or a chapter's default backend ("05-coroutines", "05"). Raises
    ValueError naming the choices otherwise."""
    for s in servers:
        if s.name == name:
            return s
    matches = [s for s in servers if s.name.startswith(name)]
    if len(matches) == 1:
        return matches[0]
    chapter = re.match(r"^(\d\d)(-|$)", name)
    if matches and chapter:
        s = chapter_default(matches, chapter.group(1))
        if s is not None:
            return s
    raise ValueError("%r matches %s" % (name, ", ".join(
        repr(s.name) for s in matches) if matches else "no server; "
        "the servers are " + ", ".join(repr(s.name) for s in servers)))


# ---- A/B: two servers, round after round ----------------------------------------


def ratio_summary(ratios, level=0.95):
    """What a list of per-round ratios says: n, median, quartiles (q1, q3,
    inclusive method), min, max, how many are at or under 1, and a
    distribution-free confidence interval for the median (ci_lo, ci_hi,
    with its exact coverage ci_level, at least `level`): the k-th smallest
    and k-th largest ratio, k the largest for which fewer than k of n fair
    coin flips coming up heads has probability at most (1 - level) / 2
    (the sign test's interval). ci_lo and ci_hi are None when n is too
    small for that level. Empty list: None."""
    xs = sorted(ratios)
    n = len(xs)
    if n == 0:
        return None
    if n == 1:
        q1 = q3 = xs[0]
    else:
        q1, _, q3 = statistics.quantiles(xs, n=4, method="inclusive")
    out = {"n": n, "median": statistics.median(xs), "q1": q1, "q3": q3,
           "min": xs[0], "max": xs[-1],
           "at_or_under_1": sum(1 for x in xs if x <= 1.0),
           "ci_lo": None, "ci_hi": None, "ci_level": None}
    tail, k = 0.0, 0  # tail: P(fewer than k heads in n flips)
    while k < n // 2:
        tail_next = tail + math.comb(n, k) / 2.0 ** n
        if tail_next > (1 - level) / 2:
            break
        tail, k = tail_next, k + 1
    if k >= 1:
        out["ci_lo"], out["ci_hi"] = xs[k - 1], xs[n - k]
        out["ci_level"] = 1 - 2 * tail
    return out


def ab_verdict(summary, a, b):
    """A few words: is A at or under B, above it, or not told apart (by
    the confidence interval of the median ratio)?"""
    if summary is None:
        return "no round measured both"
    if summary["ci_lo"] is None:
        return "too few rounds for an interval"
    if summary["ci_hi"] <= 1.0:
        return "%s at or under %s" % (a, b)
    if summary["ci_lo"] > 1.0:
        return "%s above %s" % (a, b)
    return "not told apart (the interval holds 1)"


def run_ab(a, b, wls, rounds, loadgen, timeout, logdir, fd_setsize,
           say=print):
    """Rounds of A and B on each workload, a fresh server each time, the
    order turned round every round (A B, B A, A B, ...) so that neither
    always runs first. Returns the per-run rows (each a run_one row with
    "round", "order" and "loadavg" added), workload by workload."""
    rows = []
    for w in wls:
        for i in range(rounds):
            pair = (a, b) if i % 2 == 0 else (b, a)
            for pos, s in enumerate(pair):
                load = os.getloadavg()[0]
                row = run_one(s, w, loadgen, timeout, logdir, fd_setsize)
                row.update({"round": i + 1, "order": pos + 1,
                            "loadavg": round(load, 2)})
                rows.append(row)
                say("c10k ab: %-10s round %2d  %-22s %s" % (
                    w.name, i + 1, s.name,
                    "%s us CPU/echo, load %.2f" % (
                        fmt(row.get("cpu_us_per_echo"), 2), load)
                    if row["ok"] else "FAILED: " + row["problem"]),
                    flush=True)
    return rows


def ab_ratios(rows, a, b, workload):
    """The per-round ratios A / B of CPU per echo on one workload, for the
    rounds where both ran cleanly, in round order."""
    cpu = {}
    for r in rows:
        if r["workload"] == workload and r["ok"] and \
                r.get("cpu_us_per_echo"):
            cpu[(r["round"], r["server"])] = r["cpu_us_per_echo"]
    rounds = sorted({k[0] for k in cpu})
    return [cpu[(i, a)] / cpu[(i, b)] for i in rounds
            if (i, a) in cpu and (i, b) in cpu]


def ab_report(info, a, b, wls, rows):
    out = ["## A/B: %s against %s, server CPU per echo" % (a, b), ""]
    out += ["- **%s**: %s" % kv for kv in info]
    out += ["", "Each round runs both servers on the workload, each on a "
            "fresh server, the order turned round every round; the ratio "
            "is %s's CPU per echo divided by %s's in the same round. "
            "IQR: the middle half of the rounds. CI: a distribution-free "
            "confidence interval for the median ratio (sign test), with "
            "its coverage." % (a, b), "",
            "| workload | rounds | median | IQR | min-max | CI of the "
            "median | rounds at or under 1 | %s us/echo | %s us/echo | "
            "verdict |" % (a, b), "|---|---:|---:|---|---|---|---:|---:|"
            "---:|---|"]
    for w in wls:
        sm = ratio_summary(ab_ratios(rows, a, b, w.name))

        def med(name):
            vals = [r["cpu_us_per_echo"] for r in rows
                    if r["workload"] == w.name and r["server"] == name and
                    r["ok"] and r.get("cpu_us_per_echo")]
            return fmt(statistics.median(vals), 2) if vals else "–"
        if sm is None:
            out.append("| %s | 0 | – | – | – | – | – | %s | %s | %s |" % (
                w.name, med(a), med(b), ab_verdict(sm, a, b)))
            continue
        out.append("| %s | %d | %.3f | %.3f-%.3f | %.3f-%.3f | %s | %d "
                   "of %d | %s | %s | %s |" % (
                       w.name, sm["n"], sm["median"], sm["q1"], sm["q3"],
                       sm["min"], sm["max"],
                       "%.3f-%.3f (%.1f%%)" % (sm["ci_lo"], sm["ci_hi"],
                                               100 * sm["ci_level"])
                       if sm["ci_lo"] is not None else "–",
                       sm["at_or_under_1"], sm["n"], med(a), med(b),
                       ab_verdict(sm, a, b)))
    loads = [r["loadavg"] for r in rows]
    if loads:
        out += ["", "Load average (1 min) at the start of each run: %.2f "
                "to %.2f, median %.2f." % (min(loads), max(loads),
                                           statistics.median(loads))]
    failed = [r for r in rows if not r["ok"]]
    if failed:
        out += ["", "### Failures", ""]
        out += ["- %s, %s, round %d: %s" % (r["server"], r["workload"],
                                            r["round"], r["problem"])
                for r in failed]
    return out


AB_FIELDS = ["workload", "round", "order", "server", "ok", "loadavg",
             "cpu_us_per_echo", "msgs_per_s", "messages", "server_cpu_s",
             "p50_us", "p99_us", "problem"]


# ---- the report -------------------------------------------------------------


def first_line(argv):
    try:
        r = run_quiet(argv, timeout=10)
        return r.stdout.decode(errors="replace").strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "unknown"


def machine_info():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    load = os.getloadavg()
    return [
        ("machine", "%s, %d CPUs, load average %.2f at the start"
         % (cpu, os.cpu_count(), load[0])),
        ("kernel", "%s %s" % (platform.system(), platform.release())),
        ("compiler", first_line([os.environ.get("CC", "cc"), "--version"])),
        ("date", datetime.datetime.now(datetime.timezone.utc)
         .strftime("%Y-%m-%d %H:%M UTC")),
    ]


def peer_versions(servers):
    """What the peers ran on, e.g. 'libuv 1.44.2, Python 3.11.2 ...'."""
    parts = []
    argv = {s.name: s.argv for s in servers if s.problem is None}
    if "libuv" in argv:
        parts.append("libuv " + first_line(["pkg-config", "--modversion",
                                            "libuv"]))
    py = (argv.get("uvloop streams") or argv.get("asyncio streams") or
          [None])[0]
    if py:
        parts.append(first_line([py, "-c", "import sys\ntry:\n import "
                                 "uvloop; u = ' with uvloop ' + "
                                 "uvloop.__version__\nexcept ImportError:\n"
                                 " u = ''\nprint('Python %d.%d.%d' % "
                                 "sys.version_info[:3] + u)"]))
    if "node net" in argv:
        parts.append("Node " + first_line([argv["node net"][0], "--version"]))
    return ", ".join(parts) or "none"


def fmt(value, digits=0):
    if value is None or value == "":
        return "–"
    if digits == 0:
        return "{:,.0f}".format(value)
    return "{:,.{}f}".format(value, digits)


def cell(rows, server, workload, key, digits=0):
    r = rows.get((server, workload))
    if r is None:
        return ""  # not run (one-at-a-time server)
    if not r["ok"]:
        return "fail"
    return fmt(r.get(key), digits)


def table(title, servers, wls, rows, key, digits=0, note=""):
    out = ["", "### " + title, ""]
    if note:
        out += [note, ""]
    out.append("| server | " + " | ".join(w.name for w in wls) + " |")
    out.append("|---|" + "---:|" * len(wls))
    for s in servers:
        out.append("| %s | %s |" % (s.name, " | ".join(
            cell(rows, s.name, w.name, key, digits) for w in wls)))
    return out


def goals(servers, wls, rows):
    """Issue 7's goals, checked against what this run measured."""
    lines = ["", "### Goals", ""]

    def best(prefix):
        return chapter_default(servers, prefix)

    def cpu(s, w):
        r = rows.get((s.name, w.name))
        return r.get("cpu_us_per_echo") if r and r["ok"] else None

    ch03, ch05, libuv = best("03"), best("05"), None
    for s in servers:
        if s.name == "libuv" and s.problem is None:
            libuv = s
    msg_wls = [w for w in wls if not w.hold]
    if ch03 and ch05:
        lines.append("Chapter 05 (%s) against chapter 03 (%s), server CPU "
                     "per echo; goal: at most 1.1x. Against libuv; goal: at "
                     "most 1.0x. One run's ratio moves by 20%% and more on "
                     "a shared machine: for a verdict, run `bench/c10k.py "
                     "--ab 05,libuv --rounds 20` (see docs/results.md)."
                     % (ch05.name, ch03.name))
        lines += ["", "| workload | 05 / 03 | 05 / libuv |", "|---|---:|---:|"]
        for w in msg_wls:
            a, b = cpu(ch05, w), cpu(ch03, w)
            c = cpu(libuv, w) if libuv else None
            lines.append("| %s | %s | %s |" % (
                w.name, "%.2fx" % (a / b) if a and b else "–",
                "%.2fx" % (a / c) if a and c else "–"))
    else:
        lines.append("CPU per echo, chapter 05 against chapter 03 and "
                     "libuv: not measured; not here yet: %s."
                     % ", ".join("chapter " + p for p, s in
                                 (("03", ch03), ("05", ch05)) if s is None))
    ch06 = best("06")
    if ch06:
        lines.append("")
        lines.append("Chapter 06 (%s, on io_uring) against libuv, server CPU "
                     "per echo; goal: at most 0.8x on the 100 and 1,000 "
                     "connection workloads. Against chapter 05, for "
                     "comparison." % ch06.name)
        lines += ["", "| workload | 06 / libuv | 06 / 05 |", "|---|---:|---:|"]
        for w in msg_wls:
            a = cpu(ch06, w)
            c = cpu(libuv, w) if libuv else None
            b = cpu(ch05, w) if ch05 else None
            lines.append("| %s | %s | %s |" % (
                w.name, "%.2fx" % (a / c) if a and c else "–",
                "%.2fx" % (a / b) if a and b else "–"))
    lines.append("")
    hold = [w for w in wls if w.hold]
    if hold:
        w = hold[0]
        parts, kib05 = [], None
        for p in ("02", "03", "04", "05", "06"):
            s = best(p)
            r = rows.get((s.name, w.name)) if s else None
            if r and r["ok"] and "rss_kib_per_conn" in r:
                kib = r["rss_kib_per_conn"]
                if p == "05":
                    kib05 = kib
                if p == "06":   # goal: at most chapter 05's
                    verdict = "" if kib05 is None else (
                        " (goal met)" if kib <= kib05 else
                        " (goal: at most chapter 05's)")
                else:
                    verdict = "" if p == "02" else (
                        " (goal met)" if kib <= 2 else
                        " (goal: at most 2 KiB)")
                parts.append("chapter %s %.2f KiB%s" % (p, kib, verdict))
            elif s:
                parts.append("chapter %s: did not hold %s" % (p, w.name))
        lines.append("Memory per held connection (server RSS growth over the "
                     "%s test, divided by the connections; user space only, "
                     "the kernel's socket buffers are not in RSS): %s."
                     % (w.name, "; ".join(parts) if parts else "not measured"))
    return lines


def report(info, servers, wls, rows):
    ran = [s for s in servers if s.problem is None]
    msg_wls = [w for w in wls if not w.hold]
    hold = [w for w in wls if w.hold]
    out = ["## C10K comparison", ""]
    out += ["- **%s**: %s" % kv for kv in info]
    out += table("Throughput (echoed messages per second; higher is better)",
                 ran, msg_wls, rows, "msgs_per_s")
    out += table("Server CPU per echo (microseconds, user + system; lower is "
                 "better)", ran, msg_wls, rows, "cpu_us_per_echo", 1)
    out += table("Latency p50 (microseconds)", ran, msg_wls, rows, "p50_us")
    out += table("Latency p99 (microseconds)", ran, msg_wls, rows, "p99_us")
    for w in hold:
        out += ["", "### Hold test: %d connections at once, 3 echoes each"
                % w.connections, "",
                "| server | held | RSS per connection (KiB) | p99 (us) | "
                "problem |", "|---|---:|---:|---:|---|"]
        for s in ran:
            r = rows.get((s.name, w.name))
            if r is None:
                out.append("| %s | not run | | | one client at a time |"
                           % s.name)
                continue
            out.append("| %s | %s | %s | %s | %s |" % (
                s.name, "{:,}".format(r.get("held", 0)),
                fmt(r.get("rss_kib_per_conn"), 2) if r["ok"] else "–",
                fmt(r.get("p99_us")) if r["ok"] else "–",
                r["problem"].replace("|", "/")))
    failed = [(k, r) for k, r in sorted(rows.items())
              if not r["ok"] and not any(w.hold and w.name == k[1]
                                         for w in wls)]
    if failed:
        out += ["", "### Failures", ""]
        out += ["- %s, %s: %s" % (k[0], k[1], r["problem"])
                for k, r in failed]
    out += goals(servers, wls, rows)
    skipped = [s for s in servers if s.problem]
    one = [s for s in ran if s.one_at_a_time]
    if skipped or one:
        out += ["", "### Not measured", ""]
        out += ["- **%s** could not run: %s" % (s.name, s.problem)
                for s in skipped]
        out += ["- **%s** only at 1 connection: it serves one client at a "
                "time, so with more connections held open the others would "
                "wait for the first to close." % s.name for s in one]
    return out


CSV_FIELDS = ["server", "workload", "connections", "size", "ok", "repeats",
              "established",
              "held", "closed", "messages", "seconds", "msgs_per_s", "p50_us",
              "p99_us", "max_us", "server_cpu_s", "cpu_us_per_echo",
              "server_rss0_kib", "server_rss1_kib", "rss_kib_per_conn",
              "errors", "problem"]


def write_csv(path, rows):
    with open(path, "w", newline="") as f:
        wr = csv.DictWriter(f, CSV_FIELDS, extrasaction="ignore")
        wr.writeheader()
        for r in rows.values():
            wr.writerow(r)


def plot(path, servers, wls, rows, info):
    """Two panels: CPU per echo by workload, RSS per held connection."""
    gnuplot = shutil.which("gnuplot")
    if not gnuplot:
        return "gnuplot not found (Debian: apt-get install gnuplot-nox)"
    ran = [s for s in servers if s.problem is None]
    # The one-connection workloads measure mostly the kernel's wake-ups
    # (see docs/results.md): the plot shows the others when there are any.
    msg_wls = ([w for w in wls if not w.hold and w.connections > 1] or
               [w for w in wls if not w.hold])
    hold = [w for w in wls if w.hold]
    datadir = tempfile.mkdtemp(prefix="c10k-plot-")
    cpu_dat = os.path.join(datadir, "cpu.dat")
    rss_dat = os.path.join(datadir, "rss.dat")
    with open(cpu_dat, "w") as f:
        f.write("server " + " ".join('"%s"' % w.name for w in msg_wls) + "\n")
        for s in ran:
            vals = []
            for w in msg_wls:
                r = rows.get((s.name, w.name))
                v = r.get("cpu_us_per_echo") if r and r["ok"] else None
                vals.append("%.3f" % v if v else "NaN")
            if any(v != "NaN" for v in vals):
                f.write('"%s" %s\n' % (s.name, " ".join(vals)))
    with open(rss_dat, "w") as f:
        for s in ran:
            r = rows.get((s.name, hold[0].name)) if hold else None
            v = r.get("rss_kib_per_conn") if r and r["ok"] else None
            f.write('"%s" %s\n' % (s.name, "%.3f" % max(v, 0.01)
                                   if v is not None else "NaN"))
    when = dict(info)["date"]
    script = """
set terminal pngcairo size 1600,640 font "sans,10"
set output '{out}'
set multiplot layout 1,2 title "C10K comparison, {when} (server CPU and memory; lower is better)"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set logscale y
set grid ytics
set xtics rotate by -35 noenhanced
set key inside top center horizontal noenhanced
set yrange [1:300]
set ylabel "server CPU per echo (us, user+sys, log scale)"
set title "CPU per echo, by workload (connections x message size)"
plot for [c=2:{ncol}] '{cpu}' using c:xtic(1) title columnheader(c)
set ylabel "KiB of RSS per held connection (log scale)"
set title "memory per held connection, {hold} (no bar: not held or not run)"
set autoscale y
set key off
set arrow from graph 0, first 2 to graph 1, first 2 nohead dashtype 2
set label "goal for 03-05: 2 KiB" at graph 0.02, first 2.6 front
plot '{rss}' using 2:xtic(1) linecolor rgb "#4477aa"
unset multiplot
""".format(out=path, when=when, ncol=len(msg_wls) + 1, cpu=cpu_dat,
           rss=rss_dat, hold=hold[0].name if hold else "")
    r = subprocess.run([gnuplot], input=script.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    shutil.rmtree(datadir, ignore_errors=True)
    if r.returncode != 0:
        return "gnuplot failed: " + r.stderr.decode(errors="replace")[-300:]
    return None


# ---- main ------------------------------------------------------------------------


def raise_nofile():
    """Soft RLIMIT_NOFILE up to the hard limit, for this process and (by
    inheritance) every server and loadgen it starts."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY:
        hard = 1 << 20
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="Run from anywhere; the output goes to bench/build/ unless "
        "--out says otherwise.")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="shorter runs, "
                      "hold test at 2,000 (a minute or so)")
    mode.add_argument("--smoke", action="store_true", help="seconds, small "
                      "counts: proves the harness (the test suite runs it)")
    ap.add_argument("--only", help="comma-separated server names or "
                    "prefixes (e.g. 02-threads,libuv)")
    ap.add_argument("--out", default=os.path.join(BENCH, "build"),
                    help="directory for c10k.csv, c10k.md, c10k.png, logs/")
    ap.add_argument("--chapters", default=os.path.join(REPO, "chapters"),
                    help="where the chapters are (default: this repository's)")
    ap.add_argument("--loadgen", default=LOADGEN, help="the load client")
    ap.add_argument("--no-build", action="store_true",
                    help="use what is built; do not run make")
    ap.add_argument("--no-peers", action="store_true",
                    help="only the chapters' servers")
    ap.add_argument("--fd-setsize", type=int, default=FD_SETSIZE,
                    help="the C library's FD_SETSIZE, past which a select "
                    "backend refuses clients (default %(default)s)")
    ap.add_argument("--no-pin", action="store_true",
                    help="do not pin the server and the load client to "
                    "two different CPUs")
    ap.add_argument("--workloads", help="comma-separated workload names "
                    "to run, of those the mode has (e.g. 100x64B,1000x16KiB)")
    ap.add_argument("--ab", metavar="A,B", help="A/B mode: two servers "
                    "(names as the report gives them, e.g. '05-coroutines "
                    "epoll,libuv'; a chapter's name alone means its default "
                    "backend) run in turn, round after round, on the timed "
                    "workloads with more than one connection (or "
                    "--workloads); reports the ratio A / B of CPU per echo")
    ap.add_argument("--rounds", type=int, default=10,
                    help="A/B mode: rounds per workload (default "
                    "%(default)s)")
    args = ap.parse_args()
    mode_name = "smoke" if args.smoke else "quick" if args.quick else "full"
    wls, timeout = workloads(mode_name)
    if args.workloads:
        wanted = [w.strip() for w in args.workloads.split(",") if w.strip()]
        unknown = [w for w in wanted if w not in [x.name for x in wls]]
        if unknown:
            print("c10k: no workload %s in %s mode; it has %s" % (
                ", ".join(unknown), mode_name,
                ", ".join(w.name for w in wls)))
            return 2
        wls = [w for w in wls if w.name in wanted]
    if args.ab:
        if args.only:
            print("c10k: --ab names its two servers; --only goes without it")
            return 2
        if args.rounds < 1:
            print("c10k: --rounds must be at least 1")
            return 2
        if len([n for n in args.ab.split(",") if n.strip()]) != 2:
            print("c10k: --ab takes two server names: A,B")
            return 2
        if any(w.hold for w in wls) and args.workloads:
            print("c10k: --ab compares CPU per echo on timed workloads; "
                  "the hold test is not one")
            return 2
        wls = [w for w in wls if not w.hold and
               (w.connections > 1 or args.workloads)]
    limit = raise_nofile()

    build = not args.no_build
    if build:
        r = run_quiet(["make", "-s", "-C", BENCH, "all"])
        if r.returncode != 0:
            sys.stdout.write(r.stdout.decode(errors="replace"))
            print("c10k: building the load client failed")
            return 1
    if not os.access(args.loadgen, os.X_OK):
        print("c10k: no load client at %s (make -C bench)" % args.loadgen)
        return 1
    servers = chapter_servers(args.chapters, build)
    if not args.no_peers:
        servers += peer_servers(build)
    if args.ab:
        return main_ab(args, servers, wls, timeout)
    if args.only:
        wanted = [w.strip() for w in args.only.split(",") if w.strip()]
        servers = [s for s in servers
                   if any(s.name.startswith(w) for w in wanted)]
        if not servers:
            print("c10k: --only %s matches no server" % args.only)
            return 2
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    info = machine_info() + [("peers", peer_versions(servers)),
                             ("pinning", choose_pinning(not args.no_pin))]
    if limit < max(w.connections for w in wls) + 100:
        info.append(("note", "RLIMIT_NOFILE hard limit is %d, below what "
                     "the hold test needs" % limit))

    rows = {}
    started = time.monotonic()
    for s in servers:
        if s.problem:
            print("c10k: %-22s could not run: %s" % (s.name, s.problem),
                  flush=True)
    # Workload by workload, every server in turn: the servers compared in
    # one column ran minutes apart at most, under much the same load.
    for w in wls:
        for s in servers:
            if s.problem or (s.one_at_a_time and w.connections > 1):
                continue
            row = run_one(s, w, args.loadgen, timeout,
                          os.path.join(args.out, "logs"), args.fd_setsize)
            rows[(s.name, w.name)] = row
            print("c10k: %-10s %-22s %s" % (
                w.name, s.name, "%s msg/s, %s us CPU/echo, held %s" % (
                    fmt(row.get("msgs_per_s")),
                    fmt(row.get("cpu_us_per_echo"), 1),
                    fmt(row.get("held"))) if row["ok"]
                else row["problem"] if row.get("fd_setsize_refusal")
                else "FAILED: " + row["problem"]), flush=True)
    info.append(("duration", "%.0f s for the whole run (%s mode)"
                 % (time.monotonic() - started, mode_name)))

    lines = report(info, servers, wls, rows)
    csv_path = os.path.join(args.out, "c10k.csv")
    md_path = os.path.join(args.out, "c10k.md")
    png_path = os.path.join(args.out, "c10k.png")
    write_csv(csv_path, rows)
    problem = plot(png_path, servers, wls, rows, info)
    lines += ["", "CSV: %s; plot: %s" % (csv_path, png_path if not problem
                                           else "none, " + problem)]
    with open(md_path, "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))

    # A lost or changed byte fails the run; not holding 10,000 does not.
    bad = [r for (name, wl), r in rows.items() if not r["ok"] and
           not any(w.hold and w.name == wl for w in wls)]
    return 1 if bad else 0


def main_ab(args, servers, wls, timeout):
    """--ab: the two servers' rounds, the report and the CSV."""
    try:
        a, b = (pick_server(servers, n.strip())
                for n in args.ab.split(",") if n.strip())
    except ValueError as e:
        print("c10k: --ab: %s" % e)
        return 2
    for s in (a, b):
        if s.problem:
            print("c10k: %s could not run: %s" % (s.name, s.problem))
            return 1
    os.makedirs(os.path.join(args.out, "logs"), exist_ok=True)
    info = machine_info() + [("peers", peer_versions([a, b])),
                             ("pinning", choose_pinning(not args.no_pin))]
    started = time.monotonic()
    rows = run_ab(a, b, wls, args.rounds, args.loadgen, timeout,
                  os.path.join(args.out, "logs"), args.fd_setsize)
    info.append(("duration", "%.0f s, %d rounds per workload (%s mode: "
                 "each run as in that mode, %s)" % (
                     time.monotonic() - started, args.rounds,
                     "smoke" if args.smoke else "quick" if args.quick
                     else "full", "the median of %d loadgen runs of %g s"
                     % (wls[0].repeats, wls[0].duration) if wls and
                     wls[0].duration else "one loadgen run")))
    lines = ab_report(info, a.name, b.name, wls, rows)
    csv_path = os.path.join(args.out, "c10k-ab.csv")
    with open(csv_path, "w", newline="") as f:
        wr = csv.DictWriter(f, AB_FIELDS, extrasaction="ignore")
        wr.writeheader()
        wr.writerows(rows)
    lines += ["", "CSV, one row per run: %s" % csv_path]
    with open(os.path.join(args.out, "c10k-ab.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
