"""The C10K harness (bench/): the load client refuses bad arguments, catches
a server that drops, corrupts, adds or cuts short a byte, and the runner
(bench/c10k.py) works end to end in its --smoke mode on chapters 01 and 02,
and on a stand-in chapter with --backend, as chapters 03-05 will have; a
select backend's refusal past FD_SETSIZE in the hold test is told apart from
a real failure; --ab alternates its two servers and summarises their ratios
right; bench/userspace.py reads callgrind's files right;
bench/stop_under_load.py times a real server's stop and reports one that
does not exit 0.

Counts are small and every run is bounded (--timeout); no speed is asserted.
The load client is tested in its plain and sanitized (ASan+UBSan) builds.
"""
import csv
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

from harness import (REPO, SAN_ENV, Process, bench_module, build, program,
                     sanitizer_report)

BENCH = os.path.join(REPO, "bench")
C10K = os.path.join(BENCH, "c10k.py")
FAULTY = os.path.join(REPO, "tests", "fixtures", "faulty_echo.py")


LOADGENS = {
    "plain": os.path.join(BENCH, "build", "loadgen"),
    "sanitized": os.path.join(BENCH, "build", "san-address-undefined",
                              "loadgen"),
}


def setUpModule():
    subprocess.run(["make", "-s", "-C", BENCH, "all"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["make", "-s", "-C", BENCH, "SAN=address,undefined",
                    "all"], check=True, stdout=subprocess.DEVNULL)


def run_loadgen(variant, *args, timeout=60):
    r = subprocess.run([LOADGENS[variant], *args], stdin=subprocess.DEVNULL,
                       capture_output=True, timeout=timeout,
                       env=dict(os.environ, **SAN_ENV))
    return r.returncode, r.stdout.decode(), r.stderr.decode()


class LoadgenUsage(unittest.TestCase):

    def test_help_exits_0(self):
        rc, out, _ = run_loadgen("plain", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("usage: loadgen", out)

    def test_bad_arguments_are_usage_errors(self):
        bad = [
            [],                                   # --port is required
            ["--port", "0"],
            ["--port", "65536"],
            ["--port", "12x"],
            ["--port", ""],
            ["--port", "-1"],
            ["--port", "80", "--connections", "0"],
            ["--port", "80", "--connections", "100001"],
            ["--port", "80", "--connections", "99999999999999999999999"],
            ["--port", "80", "--messages", "0"],
            ["--port", "80", "--size", "0"],
            ["--port", "80", "--size", "1048577"],
            ["--port", "80", "--timeout", "0"],
            ["--port", "80", "--timeout", "abc"],
            ["--port", "80", "--timeout", "1e3"],
            ["--port", "80", "--duration", "-1"],
            ["--port", "80", "--host", "localhost"],
            ["--port", "80", "--host", "::1"],
            ["--port", "80", "--connections", "100000",
             "--messages", "10000"],              # too many samples
            ["--port", "80", "--bogus"],
            ["--port", "80", "extra"],
            ["--port"],
        ]
        for args in bad:
            with self.subTest(args=args):
                rc, out, err = run_loadgen("plain", *args)
                self.assertEqual(rc, 2, "stdout: %s stderr: %s" % (out, err))
                self.assertTrue(err.startswith("loadgen: "), err)
                self.assertIn("--help", err)

    def test_nobody_listening_is_an_error_not_a_hang(self):
        # A port that was free a moment ago: connect is refused.
        import socket
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
        s.close()
        rc, out, err = run_loadgen("plain", "--port", str(port),
                                   "--timeout", "10")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("connect", err)


class LoadgenAgainstFaults:
    """The load client against the fixture server, correct and faulty.
    Made concrete for each loadgen build below."""

    VARIANT = None

    def setUp(self):
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()

    def server(self, *args):
        p = Process([sys.executable, FAULTY, "--port", "0", *args])
        self.procs.append(p)
        _, m = p.wait_for_line(r"^listening on (.+):(\d+)$", timeout=20)
        self.assertIsNotNone(m, "fixture did not start: " + p.stderr_text())
        p.port = m.group(2)
        return p

    def loadgen(self, srv, *args):
        rc, out, err = run_loadgen(self.VARIANT, "--port", srv.port,
                                   "--timeout", "5", *args)
        report = sanitizer_report(err)
        self.assertIsNone(report, "sanitizer report:\n%s" % report)
        return rc, out, err

    def test_a_correct_server_passes(self):
        srv = self.server()
        rc, out, err = self.loadgen(srv, "--connections", "20", "--messages",
                                    "5", "--size", "3000",
                                    "--server-pid", str(srv.proc.pid))
        self.assertEqual(rc, 0, out + err)
        self.assertIn("RESULT connections=20 established=20 held=20 "
                      "closed=20 messages=100 ", out)
        self.assertRegex(out, r"server_rss1_kib=[1-9]")

    def test_a_dropped_byte_fails_the_run(self):
        # Inside a message, the bytes after the gap arrive one place early.
        srv = self.server("--drop", "1000")
        rc, out, err = self.loadgen(srv, "--connections", "3", "--messages",
                                    "3", "--size", "700")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("message 1: byte 300 of the echo is", err)

    def test_a_dropped_last_byte_fails_the_run_at_the_timeout(self):
        # The last byte of message 1 (stream bytes 700-1399) never comes:
        # nothing is wrong but the loss itself, found by --timeout.
        srv = self.server("--drop", "1399")
        rc, out, err = self.loadgen(srv, "--connections", "3", "--messages",
                                    "3", "--size", "700", "--timeout", "2")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("timeout after 2.0 s in the message phase", err)
        self.assertIn("message 1: sent 700 of 700 bytes, 699 echoed", err)

    def test_a_corrupted_byte_fails_the_run(self):
        srv = self.server("--corrupt", "1000")
        rc, out, err = self.loadgen(srv, "--connections", "3", "--messages",
                                    "3", "--size", "700")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("message 1: byte 300 of the echo is", err)
        self.assertIn("held=0 ", out)

    def test_an_early_close_fails_the_run(self):
        srv = self.server("--close-after", "100")
        rc, out, err = self.loadgen(srv, "--messages", "3", "--size", "64")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("server closed with 36 of 64 bytes echoed", err)

    def test_a_byte_too_many_fails_the_run(self):
        srv = self.server("--extra")
        rc, out, err = self.loadgen(srv, "--connections", "2", "--messages",
                                    "2")
        self.assertEqual(rc, 1, out + err)
        self.assertIn("a byte after the last echo", err)


for _variant in LOADGENS:
    _name = "LoadgenAgainstFaults_" + _variant
    globals()[_name] = type(_name, (LoadgenAgainstFaults, unittest.TestCase),
                            {"VARIANT": _variant})


class Harness(unittest.TestCase):
    """bench/c10k.py --smoke: the whole comparison in seconds."""

    # test_chapters_01_and_02 runs c10k.py --no-build on these (run.py
    # builds them first).
    BUILDS = [("01-sync", "plain"), ("02-threads", "plain")]

    def setUp(self):
        self.out = tempfile.mkdtemp(prefix="c10k-test-")

    def tearDown(self):
        shutil.rmtree(self.out, ignore_errors=True)

    def run_c10k(self, *args):
        r = subprocess.run([sys.executable, C10K, "--smoke", "--out",
                            self.out, *args], capture_output=True,
                           timeout=300)
        with open(os.path.join(self.out, "c10k.csv")) as f:
            rows = {(row["server"], row["workload"]): row
                    for row in csv.DictReader(f)}
        return r.returncode, r.stdout.decode(), rows

    def test_chapters_01_and_02(self):
        rc, out, rows = self.run_c10k("--no-peers", "--no-build", "--only",
                                      "01-sync,02-threads")
        self.assertEqual(rc, 0, out)
        self.assertIn("- **kernel**: Linux", out)
        self.assertIn("- **compiler**: ", out)
        # Chapter 01 only at one connection, and the report says why.
        self.assertEqual([k for k in rows if k[0] == "01-sync"],
                         [("01-sync", "1x64B")])
        self.assertIn("**01-sync** only at 1 connection", out)
        for key in [("01-sync", "1x64B"), ("02-threads", "1x64B"),
                    ("02-threads", "10x16KiB"), ("02-threads", "hold 50")]:
            self.assertEqual(rows[key]["ok"], "1", rows[key])
        self.assertEqual(rows[("02-threads", "hold 50")]["held"], "50")
        self.assertEqual(rows[("02-threads", "10x16KiB")]["messages"], "100")

    def fake_chapter(self, name, *server_args):
        """A chapter folder whose echo-server is the fixture, with
        --backend in its --help like chapters 03-05."""
        chapters = os.path.join(self.out, "chapters")
        folder = os.path.join(chapters, name)
        os.makedirs(os.path.join(folder, "build"))
        with open(os.path.join(folder, "Makefile"), "w") as f:
            f.write("all:\n\t@true\n")
        program = os.path.join(folder, "build", "echo-server")
        with open(program, "w") as f:
            f.write('#!/bin/sh\nexec "%s" "%s" %s "$@"\n'
                    % (sys.executable, FAULTY, " ".join(server_args)))
        os.chmod(program, 0o755)
        return chapters

    def test_a_chapter_with_backends_joins_by_itself(self):
        chapters = self.fake_chapter("09-fake")
        rc, out, rows = self.run_c10k("--no-peers", "--chapters", chapters)
        self.assertEqual(rc, 0, out)
        for backend in ("select", "poll", "epoll"):
            key = ("09-fake " + backend, "hold 50")
            self.assertIn(key, rows, out)
            self.assertEqual(rows[key]["ok"], "1", rows[key])

    def test_a_corrupting_server_fails_the_comparison(self):
        chapters = self.fake_chapter("09-bad", "--corrupt", "10")
        rc, out, rows = self.run_c10k("--no-peers", "--chapters", chapters,
                                      "--only", "09-bad epoll")
        self.assertEqual(rc, 1, out)
        self.assertEqual(rows[("09-bad epoll", "1x64B")]["ok"], "0")
        self.assertIn("byte 10 of the echo is", out)
        self.assertIn("### Failures", out)

    def test_ab_alternates_the_two_servers_round_after_round(self):
        chapters = self.fake_chapter("09-a")
        os.rename(os.path.join(chapters, "09-a"),
                  os.path.join(chapters, "10-b"))
        self.fake_chapter("09-a")
        r = subprocess.run([sys.executable, C10K, "--smoke", "--out",
                            self.out, "--no-peers", "--chapters", chapters,
                            "--ab", "09-a,10-b epoll", "--rounds", "3",
                            "--workloads", "1x64B"],
                           capture_output=True, timeout=300)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out)
        with open(os.path.join(self.out, "c10k-ab.csv")) as f:
            runs = [(row["round"], row["server"], row["ok"])
                    for row in csv.DictReader(f)]
        # "09-a" alone is the chapter's default backend, epoll
        self.assertEqual(runs, [("1", "09-a epoll", "1"),
                                ("1", "10-b epoll", "1"),
                                ("2", "10-b epoll", "1"),
                                ("2", "09-a epoll", "1"),
                                ("3", "09-a epoll", "1"),
                                ("3", "10-b epoll", "1")])
        self.assertIn("## A/B: 09-a epoll against 10-b epoll", out)
        self.assertIn("| 1x64B |", out)

    def test_ab_refuses_an_ambiguous_or_unknown_name(self):
        chapters = self.fake_chapter("09-a")
        for names in ("0,09-a epoll", "09-a epoll,nosuch",
                      "09-a epoll"):
            with self.subTest(names=names):
                r = subprocess.run([sys.executable, C10K, "--smoke",
                                    "--out", self.out, "--no-peers",
                                    "--chapters", chapters, "--ab", names],
                                   capture_output=True, timeout=120)
                self.assertEqual(r.returncode, 2, r.stdout.decode())
                self.assertIn("c10k: --ab", r.stdout.decode())


class FdSetsizeRefusal(unittest.TestCase):
    """A select backend that holds a little under FD_SETSIZE clients in the
    hold test and closes the rest at once is reported as the expected
    refusal, not as a failure; anything else stays a failure."""

    @classmethod
    def setUpClass(cls):
        c10k = bench_module("c10k")
        cls.c10k = c10k
        cls.hold = c10k.Workload("hold 10000", 10000, 64, 3, hold=True)

    def refusal(self, backend="select", held=1018, errors=None, shown=None,
                w=None):
        c = self.c10k
        server = c.Server("03-x " + backend, ["x"], "chapter",
                          backend=backend, chapter="03-x")
        fields = {"held": held, "errors": (10000 - held if errors is None
                                           else errors)}
        if shown is None:
            shown = ["connection %d, message 0: server closed before any "
                     "message" % i for i in range(held, held + 10)]
        return c.fd_setsize_refusal(server, w or self.hold, fields, shown)

    def test_select_past_fd_setsize_is_the_expected_refusal(self):
        self.assertTrue(self.refusal())
        self.assertTrue(self.refusal(shown=[
            "connection 1018, message 0: recv: Connection reset by peer"]))

    def test_anything_else_stays_a_failure(self):
        self.assertFalse(self.refusal(backend="poll"))
        self.assertFalse(self.refusal(backend="epoll"))
        self.assertFalse(self.refusal(held=500))    # far below FD_SETSIZE
        self.assertFalse(self.refusal(held=1024))   # cannot be select's
        self.assertFalse(self.refusal(errors=9000))  # more went wrong
        self.assertFalse(self.refusal(shown=[
            "connection 1018, message 0: byte 3 of the echo is 0x00, "
            "expected 0x41"]))
        self.assertFalse(self.refusal(shown=[
            "connection 7, message 2: server closed while held"]))
        self.assertFalse(self.refusal(w=self.c10k.Workload(
            "1000x64B", 1000, 64, 100000, duration=0.4)))


class GoalsReport(unittest.TestCase):
    """The report's goals section, built from a run's rows: every ratio
    it names is computed from the two servers' CPU per echo."""

    def test_ratios_and_memory_of_the_chapters_and_libuv(self):
        c10k = bench_module("c10k")
        servers = [c10k.Server("03-x epoll", ["x"], "chapter",
                               backend="epoll", chapter="03-x"),
                   c10k.Server("05-x epoll", ["x"], "chapter",
                               backend="epoll", chapter="05-x"),
                   c10k.Server("06-x epoll", ["x"], "chapter",
                               backend="epoll", chapter="06-x"),
                   c10k.Server("libuv", ["x"], "peer")]
        w = c10k.Workload("100x64B", 100, 64, 100000, duration=0.4)
        hold = c10k.Workload("hold 2000", 2000, 64, 3, hold=True)
        cpu = {"03-x epoll": 10.0, "05-x epoll": 11.0, "06-x epoll": 8.0,
               "libuv": 10.0}
        rows = {(name, w.name): {"ok": 1, "cpu_us_per_echo": v}
                for name, v in cpu.items()}
        for name, kib in (("03-x epoll", 0.1), ("05-x epoll", 0.6),
                          ("06-x epoll", 0.5)):
            rows[(name, hold.name)] = {"ok": 1, "rss_kib_per_conn": kib}
        text = "\n".join(c10k.goals(servers, [w, hold], rows))
        self.assertIn("| 100x64B | 1.10x | 1.10x |", text)   # 05/03, 05/uv
        self.assertIn("| 100x64B | 0.80x | 0.73x |", text)   # 06/uv, 06/05
        self.assertIn("--ab", text, "the goals point at the A/B mode")
        self.assertIn("chapter 06 0.50 KiB (goal met)", text)


class AbRatios(unittest.TestCase):
    """--ab's arithmetic: per-round ratios A / B from the runs of both
    servers in the same round, and their summary (median, quartiles,
    range, the median's sign-test interval and the verdict it gives)."""

    @classmethod
    def setUpClass(cls):
        c10k = bench_module("c10k")
        cls.c10k = c10k

    def row(self, rnd, server, cpu, ok=1, workload="100x64B"):
        return {"round": rnd, "server": server, "workload": workload,
                "ok": ok, "cpu_us_per_echo": cpu}

    def test_ratios_pair_the_runs_of_one_round(self):
        rows = [self.row(1, "A", 10.0), self.row(1, "B", 8.0),
                self.row(2, "B", 10.0), self.row(2, "A", 9.0),
                # a failed run drops its round, not the others
                self.row(3, "A", 1.0), self.row(3, "B", 9.0, ok=0),
                # another workload's rounds are not this one's
                self.row(4, "A", 7.0, workload="1000x64B"),
                self.row(4, "B", 7.0, workload="1000x64B")]
        self.assertEqual(self.c10k.ab_ratios(rows, "A", "B", "100x64B"),
                         [1.25, 0.9])

    def test_summary_of_ten_rounds(self):
        ratios = [1.3, 0.9, 1.0, 1.1, 0.8, 1.2, 0.95, 1.05, 0.85, 1.15]
        sm = self.c10k.ratio_summary(ratios)
        self.assertEqual(sm["n"], 10)
        self.assertAlmostEqual(sm["median"], 1.025)
        self.assertEqual((sm["min"], sm["max"]), (0.8, 1.3))
        # inclusive quartiles: positions 3.25 and 7.75 of 1..10
        self.assertAlmostEqual(sm["q1"], 0.9125)
        self.assertAlmostEqual(sm["q3"], 1.1375)
        self.assertEqual(sm["at_or_under_1"], 5)
        # n = 10: P(at most 1 of 10 heads) = 11/1024 <= 2.5 %, P(at most
        # 2) = 56/1024 is not: the 2nd smallest and 2nd largest.
        self.assertEqual((sm["ci_lo"], sm["ci_hi"]), (0.85, 1.2))
        self.assertAlmostEqual(sm["ci_level"], 1 - 22 / 1024)
        self.assertIn("not told apart",
                      self.c10k.ab_verdict(sm, "A", "B"))

    def test_verdicts(self):
        c = self.c10k
        under = c.ratio_summary([0.9, 0.95, 0.97, 0.99, 1.0, 0.92, 0.93,
                                 1.02])
        # n = 8: only min and max qualify (P(0 heads) = 1/256).
        self.assertEqual((under["ci_lo"], under["ci_hi"]), (0.9, 1.02))
        self.assertIn("not told apart", c.ab_verdict(under, "A", "B"))
        self.assertEqual(c.ab_verdict(c.ratio_summary(
            [0.9, 0.95, 0.97, 0.99, 1.0, 0.92, 0.93, 0.98]), "A", "B"),
            "A at or under B")
        self.assertEqual(c.ab_verdict(c.ratio_summary(
            [1.1, 1.2, 1.05, 1.3, 1.01, 1.15]), "A", "B"), "A above B")
        # five rounds cannot give a 95 % interval: 2 x 1/32 > 5 %
        few = c.ratio_summary([0.5, 0.6, 0.7, 0.8, 0.9])
        self.assertIsNone(few["ci_lo"])
        self.assertIn("too few", c.ab_verdict(few, "A", "B"))
        self.assertIsNone(c.ratio_summary([]))


class CallgrindCounts(unittest.TestCase):
    """bench/userspace.py reads callgrind's files itself: totals, each
    function's own and inclusive instructions, through the format's name
    compression and relative positions; and the per-echo difference of
    two windows."""

    FILE = """# callgrind format
version: 1
positions: line
events: Ir
summary: 1000

ob=(1) /usr/lib/libc.so.6
fl=(1) ???
fn=(1) start
cob=(2) /bin/server
cfi=(2) main.c
cfn=(2) main
calls=1 0
0 1000

ob=(2)
fl=(2)
fn=(2)
10 5
+2 5
cfn=(3) step
calls=100 40
* 900
cfi=(3) lib.c
cfn=(4) helper
calls=1 7
+1 40
-3 2

fn=(3)
40 600
cob=(1)
cfi=(1)
cfn=(5) send
calls=100 0
* 290
fi=(3)
12 10

ob=(1)
fl=(1)
fn=(5)
0 290

ob=(2)
fl=(2)
fn=(3)
41 0
cfn=(3)
calls=2 40
* 50

totals: 1000
"""

    @classmethod
    def setUpClass(cls):
        userspace = bench_module("userspace")
        cls.us = userspace

    def test_self_and_inclusive(self):
        with tempfile.NamedTemporaryFile("w", suffix=".cg") as f:
            f.write(self.FILE)
            f.flush()
            total, own, incl = self.us.parse_callgrind(f.name)
        self.assertEqual(total, 1000)
        self.assertEqual(own, {"server:main": 12, "server:step": 610,
                               "libc.so.6:send": 290})
        # main: 12 own + step 900 + helper 40; step: 610 own + send 290,
        # its call to itself not counted again; start holds it all.
        self.assertEqual(incl, {"libc.so.6:start": 1000,
                                "server:main": 952, "server:step": 900,
                                "libc.so.6:send": 290})

    def test_per_echo_difference(self):
        self.assertEqual(self.us.per_echo_diff({"a": 300, "b": 50},
                                               {"a": 100, "c": 10}, 100),
                         {"a": 2.0, "b": 0.5, "c": -0.1})


if __name__ == "__main__":
    unittest.main()


class StopUnderLoad(unittest.TestCase):
    """bench/stop_under_load.py, two runs per server."""
    SCRIPT = os.path.join(BENCH, "stop_under_load.py")

    def run_script(self, *servers):
        return subprocess.run([sys.executable, self.SCRIPT, "--runs", "2",
                               "--busy", "0.1", *servers],
                              capture_output=True, text=True, timeout=120)

    def test_a_server_that_stops_is_timed(self):
        build("05-coroutines", "plain")
        server = program("05-coroutines", "plain", "echo-server")
        r = self.run_script(server)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertRegex(r.stdout, r"echo-server: 2 runs, stop took "
                         r"[\d.]+ / [\d.]+ / [\d.]+ ms \(min / median / "
                         r"max\)\n$")

    def test_a_server_that_exits_with_an_error_is_reported(self):
        with tempfile.TemporaryDirectory() as tmp:
            fake = os.path.join(tmp, "echo-server")
            with open(fake, "w") as f:
                f.write("#!%s\n" % sys.executable + (
                    "import signal, socket, sys\n"
                    "s = socket.socket()\n"
                    "s.bind(('127.0.0.1', 0)); s.listen()\n"
                    "signal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n"
                    "print('listening on 127.0.0.1:%d' % s.getsockname()[1],"
                    " flush=True)\n"
                    "c, _ = s.accept()\n"
                    "while True:\n"
                    "    signal.pause()\n"))
            os.chmod(fake, 0o755)
            r = self.run_script(fake)
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("2 did not exit 0", r.stdout)

    def test_a_path_that_is_no_program_is_refused(self):
        r = self.run_script(os.path.join(REPO, "no-such-server"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an executable file", r.stderr)
