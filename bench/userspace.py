#!/usr/bin/env python3
"""User-space instructions per echo: a server's own CPU work, counted
instead of timed, so that a shared machine's noise does not enter it.

    python3 bench/userspace.py [--servers A,B,...] [--workloads W,...]
                               [--top N] [--out DIR] [--no-build]

Each server (names as bench/c10k.py gives them; a chapter's name alone
means its default backend; default: chapter 05, chapter 06 and libuv) runs
under valgrind's callgrind, fresh for each workload, on port 0. A warm-up
load of the workload's own connections (5 messages each) grows whatever
the server grows. Then three measured windows, each opened by zeroing
callgrind's counters (callgrind_control -z) and closed by a dump
(callgrind_control -d): the workload's C connections with M messages, then
2M, then 2M again, each window a whole build/loadgen run (connect, the
messages, close). The instructions per echo are the marginal cost of a
message: (Ir(2M) - Ir(M)) / (C * M), once with each 2M window, so that
connecting and closing, the same in both windows, cancel out, as the
message phase alone is what c10k's CPU per echo measures. The two
estimates differing shows how deterministic the count is.

Workloads: 100x64B (100 connections, 64 B, M = 100), 100x16KiB (M = 50),
1000x64B (M = 10), 1000x16KiB (M = 5). Callgrind runs a server about 50
times slower: the loads are bounded and the timeouts generous (the whole
run takes a few minutes). The count is of user-space instructions (Ir)
only: the kernel's work, most of a server's CPU here, is not in it.

Output: a Markdown report on stdout and in OUT/userspace.md (Ir per echo
by server and workload, the ratios to the last server named, and each
server's top functions per echo, inclusive and self, from the difference
of the M and first 2M windows' profiles), and the callgrind files in
OUT/callgrind/. A server that cannot run (chapter 06 where io_uring is
refused) is listed with its reason. Exit status 0 when every server that
could run measured every workload, 1 otherwise, 2 on a bad command line.
"""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

import c10k

# name, connections, message size, M (the windows are M, 2M, 2M messages
# per connection)
WORKLOADS = [("100x64B", 100, 64, 100), ("100x16KiB", 100, 16384, 50),
             ("1000x64B", 1000, 64, 10), ("1000x16KiB", 1000, 16384, 5)]
TIMEOUT = 600     # seconds for one loadgen run under callgrind
START_WAIT = 120  # for 'listening on' and for the exit after SIGTERM


# ---- the callgrind format ---------------------------------------------------


def parse_callgrind(path):
    """(total Ir, {function: self Ir}, {function: inclusive Ir}) of one
    callgrind output file (events: Ir). A function is named
    'object:function', the object's file name without its directory.
    Inclusive cost is the function's own plus that of every call it made
    (a call to itself is not counted twice)."""
    names = {"ob": {}, "fn": {}}
    self_ir, incl = {}, {}
    ob = fn = None
    cob = cfn = None
    in_call = False
    total = None

    def name(kind, text):
        # "(id) name" defines an id, "(id)" uses it, "name" is uncompressed
        m = re.match(r"^\((\d+)\)(?: (.*))?$", text)
        if not m:
            return text
        if m.group(2) is not None:
            names[kind][m.group(1)] = m.group(2)
        return names[kind].get(m.group(1), text)

    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            key, sep, value = line.partition("=")
            if sep and key in ("ob", "cob"):
                v = os.path.basename(name("ob", value))
                if key == "ob":
                    ob = v
                else:
                    cob = v
                continue
            if sep and key in ("fn", "cfn"):
                v = name("fn", value)
                if key == "fn":
                    fn, cob, cfn = "%s:%s" % (ob, v), None, None
                else:
                    cfn = v
                continue
            if sep and key in ("fl", "fi", "fe", "cfi", "cfl"):
                continue
            if sep and key == "calls":
                in_call = True
                continue
            if line.startswith("totals:") or line.startswith("summary:"):
                if line.startswith("totals:") or total is None:
                    total = int(line.split(":", 1)[1].split()[0])
                continue
            if sep or ":" in line.split(" ", 1)[0]:
                continue  # another header (jump=, events:, ...)
            parts = line.split()
            if fn is None or not parts or not re.match(r"^[-+*\d]", parts[0]):
                continue
            cost = int(parts[1]) if len(parts) > 1 else 0
            if in_call:
                callee = "%s:%s" % (cob or ob, cfn)
                if callee != fn:
                    incl[fn] = incl.get(fn, 0) + cost
                in_call, cob = False, None
            else:
                self_ir[fn] = self_ir.get(fn, 0) + cost
                incl[fn] = incl.get(fn, 0) + cost
    if total is None:
        total = sum(self_ir.values())
    return total, self_ir, incl


def per_echo_diff(big, small, echoes):
    """{function: (big - small) / echoes} of two {function: Ir} maps."""
    keys = set(big) | set(small)
    return {k: (big.get(k, 0) - small.get(k, 0)) / echoes for k in keys}


# ---- running a server under callgrind ---------------------------------------


def control(pid, what):
    """callgrind_control -z (zero) or -d (dump) on a running server."""
    r = c10k.run_quiet(["callgrind_control", what, str(pid)], timeout=120)
    text = r.stdout.decode(errors="replace")
    if r.returncode != 0 or "OK" not in text:
        raise RuntimeError("callgrind_control %s failed: %s"
                           % (what, text.strip()[-200:]))


def nudge(loadgen, port):
    """A short load on a server that has not yet exited on SIGTERM.
    Valgrind holds signals back while the program is in a system call it
    does not know can block (io_uring_enter, in 3.19), and looks for them
    again only after a time slice of the program's own work: a SIGTERM to
    chapter 06 under callgrind waits for a load. Its errors (the server
    may be closing) do not matter."""
    c10k.run_loadgen([loadgen, "--port", str(port), "--connections", "10",
                      "--messages", "200", "--timeout", "10"], 10)


def measure(server, wl, outdir, logdir, loadgen):
    """One workload on a fresh server under callgrind: a dict with the
    windows' Ir and profiles, or {"problem": ...}."""
    name, conns, size, m = wl
    tag = re.sub(r"[^A-Za-z0-9.]+", "_", "%s %s" % (server.name, name))
    cgfile = os.path.join(outdir, tag + ".cg")
    for old in glob.glob(cgfile + "*"):
        os.remove(old)
    wrapped = c10k.Server(server.name, ["valgrind", "--tool=callgrind",
                                        "--callgrind-out-file=" + cgfile,
                                        "--"] + server.argv, server.kind)
    try:
        proc, port, log = c10k.start_server(wrapped, logdir, "callgrind " +
                                            tag, wait=START_WAIT)
    except (OSError, RuntimeError) as e:
        return {"problem": "did not start under callgrind: %s" % e}
    base = [loadgen, "--port", str(port), "--size", str(size),
            "--connections", str(conns), "--timeout", str(TIMEOUT)]
    result, problem, logs = {"windows": []}, None, []
    try:
        _, errors, rc, text = c10k.run_loadgen(base + ["--messages", "5"],
                                               TIMEOUT)
        logs.append(text)
        if rc != 0:
            raise RuntimeError("warm-up: " + "; ".join(errors[:1]))
        for i, msgs in enumerate((m, 2 * m, 2 * m)):
            control(proc.pid, "-z")
            fields, errors, rc, text = c10k.run_loadgen(
                base + ["--messages", str(msgs)], TIMEOUT)
            logs.append(text)
            if rc != 0:
                raise RuntimeError("window %d: %s" % (i + 1, "; ".join(
                    errors[:1])))
            control(proc.pid, "-d")
            dumps = sorted(glob.glob(cgfile + ".*"),
                           key=lambda p: int(p.rsplit(".", 1)[1]))
            total, self_ir, incl = parse_callgrind(dumps[-1])
            result["windows"].append({"messages": fields["messages"],
                                      "ir": total, "self": self_ir,
                                      "incl": incl})
    except (RuntimeError, OSError, KeyError, ValueError,
            subprocess.TimeoutExpired) as e:
        problem = str(e)
    finally:
        stop_problem = c10k.stop_server(proc, wait=START_WAIT,
                                        nudge=lambda: nudge(loadgen, port))
    with open(log, "a") as f:
        f.write("\n" + "\n".join(logs))
    if problem or stop_problem:
        return {"problem": problem or "server " + stop_problem}
    w1, w2, w3 = result["windows"]
    echoes = w2["messages"] - w1["messages"]
    result["per_echo"] = [(w2["ir"] - w1["ir"]) / echoes,
                          (w3["ir"] - w1["ir"]) / echoes]
    result["whole"] = w2["ir"] / w2["messages"]
    result["incl"] = per_echo_diff(w2["incl"], w1["incl"], echoes)
    result["self"] = per_echo_diff(w2["self"], w1["self"], echoes)
    return result


# ---- the report ---------------------------------------------------------------


def report(info, servers, wls, results, top):
    out = ["## User-space instructions per echo (callgrind)", ""]
    out += ["- **%s**: %s" % kv for kv in info]
    ran = [s for s in servers if s.problem is None]
    out += ["", "Ir per echo: the marginal cost of one more message, "
            "(Ir(2M) - Ir(M)) / (C x M), two estimates (two 2M windows). "
            "Whole window: Ir(2M) / (C x 2M), connecting and closing "
            "included.", "",
            "| server | workload | C x M | Ir per echo | whole window |",
            "|---|---|---|---:|---:|"]
    for s in ran:
        for name, conns, _, m in wls:
            r = results.get((s.name, name), {})
            if "problem" in r:
                out.append("| %s | %s | %d x %d | failed: %s | |" % (
                    s.name, name, conns, m, r["problem"].replace("|", "/")))
                continue
            out.append("| %s | %s | %d x %d | %s | %s |" % (
                s.name, name, conns, m, " / ".join(
                    c10k.fmt(v) for v in r["per_echo"]),
                c10k.fmt(r["whole"])))
    if len(ran) > 1:
        ref = ran[-1]
        out += ["", "Ratios to %s (first estimates):" % ref.name, "",
                "| workload | " + " | ".join("%s / %s" % (s.name, ref.name)
                                             for s in ran[:-1]) + " |",
                "|---|" + "---:|" * (len(ran) - 1)]
        for name, _, _, _ in wls:
            b = results.get((ref.name, name), {}).get("per_echo")
            cells = []
            for s in ran[:-1]:
                a = results.get((s.name, name), {}).get("per_echo")
                cells.append("%.2f" % (a[0] / b[0]) if a and b else "–")
            out.append("| %s | %s |" % (name, " | ".join(cells)))
    for s in ran:
        for name, _, _, _ in wls:
            r = results.get((s.name, name), {})
            if "incl" not in r:
                continue
            out += ["", "### %s, %s: top functions, Ir per echo" % (
                s.name, name), "", "Inclusive: the function and what it "
                "calls (the frames that hold 99% or more, main down to the "
                "loop's run, left out); self: its own instructions.", "",
                "| inclusive | function | | self | "
                "function |", "|---:|---|---|---:|---|"]
            # The frames every echo runs under (main, the loop's run...)
            # hold all of it and say nothing: left out.
            whole = r["per_echo"][0]
            inc = sorted(((k, v) for k, v in r["incl"].items()
                          if v < 0.99 * whole), key=lambda kv: -kv[1])[:top]
            own = sorted(r["self"].items(), key=lambda kv: -kv[1])[:top]
            for i in range(max(len(inc), len(own))):
                a = inc[i] if i < len(inc) else ("", None)
                b = own[i] if i < len(own) else ("", None)
                out.append("| %s | %s | | %s | %s |" % (
                    c10k.fmt(a[1], 1) if a[1] is not None else "", a[0],
                    c10k.fmt(b[1], 1) if b[1] is not None else "", b[0]))
    skipped = [s for s in servers if s.problem]
    if skipped:
        out += ["", "### Not measured", ""]
        out += ["- **%s** could not run: %s" % (s.name, s.problem)
                for s in skipped]
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--servers", default="05,06,libuv",
                    help="comma-separated server names, as c10k.py names "
                    "them; ratios are to the last (default %(default)s)")
    ap.add_argument("--workloads", default=",".join(w[0] for w in WORKLOADS),
                    help="comma-separated, of %(default)s")
    ap.add_argument("--top", type=int, default=15,
                    help="functions shown per server and workload")
    ap.add_argument("--out", default=os.path.join(c10k.BENCH, "build"),
                    help="directory for userspace.md, callgrind/, logs/")
    ap.add_argument("--chapters", default=os.path.join(c10k.REPO, "chapters"))
    ap.add_argument("--loadgen", default=c10k.LOADGEN)
    ap.add_argument("--no-build", action="store_true",
                    help="use what is built; do not run make")
    args = ap.parse_args()
    known = {w[0]: w for w in WORKLOADS}
    names = [n.strip() for n in args.workloads.split(",") if n.strip()]
    if not names or any(n not in known for n in names):
        print("userspace: --workloads takes names of %s" % ", ".join(known))
        return 2
    wls = [known[n] for n in names]
    if not shutil.which("valgrind") or not shutil.which("callgrind_control"):
        print("userspace: valgrind not found (Debian: apt-get install "
              "valgrind)")
        return 1
    c10k.raise_nofile()
    build = not args.no_build
    if build:
        r = c10k.run_quiet(["make", "-s", "-C", c10k.BENCH, "all"])
        if r.returncode != 0:
            sys.stdout.write(r.stdout.decode(errors="replace"))
            print("userspace: building the load client failed")
            return 1
    available = (c10k.chapter_servers(args.chapters, build) +
                 c10k.peer_servers(build))
    servers = []
    for n in (n.strip() for n in args.servers.split(",") if n.strip()):
        try:
            servers.append(c10k.pick_server(available, n))
        except ValueError as e:
            if re.match(r"^\d\d(-|$)", n):  # a chapter that cannot run
                cands = [s for s in available if s.name.startswith(n)]
                if cands:
                    servers.append(cands[-1])
                    continue
            print("userspace: --servers: %s" % e)
            return 2
    cgdir = os.path.join(args.out, "callgrind")
    logdir = os.path.join(args.out, "logs")
    os.makedirs(cgdir, exist_ok=True)
    os.makedirs(logdir, exist_ok=True)
    info = c10k.machine_info() + [
        ("peers", c10k.peer_versions(servers)),
        ("pinning", c10k.choose_pinning(True)),
        ("valgrind", c10k.first_line(["valgrind", "--version"]))]
    started = time.monotonic()
    results = {}
    for s in servers:
        if s.problem:
            print("userspace: %-22s could not run: %s" % (s.name, s.problem),
                  flush=True)
            continue
        for wl in wls:
            r = measure(s, wl, cgdir, logdir, args.loadgen)
            results[(s.name, wl[0])] = r
            print("userspace: %-10s %-22s %s" % (
                wl[0], s.name, "FAILED: " + r["problem"] if "problem" in r
                else "%s Ir per echo" % " / ".join(
                    c10k.fmt(v) for v in r["per_echo"])), flush=True)
    info.append(("duration", "%.0f s" % (time.monotonic() - started)))
    lines = report(info, servers, wls, results, args.top)
    with open(os.path.join(args.out, "userspace.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 1 if any("problem" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
