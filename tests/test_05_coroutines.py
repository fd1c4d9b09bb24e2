"""What chapter 05 shows: coroutines on the event loop. fib on the executor
leaves the hellos ticking (and --inline shows the loop blocked); the trace
shows the Task/Future flow; one coroutine per connection serves a thousand
clients exactly, bounds the memory a never-reading client can cost, and
shuts down on SIGTERM; the concurrent client verifies every echo."""
import os
import re
import resource
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import unittest

import harness
from harness import (HELLO_RE, ProgramTest,
                     assert_a_stop_ends_hello_while_stderr_is_full,
                     assert_hellos_between_answers,
                     assert_never_reader_is_bounded, connect, exchange,
                     for_each_build, pattern, program, raise_nofile, rss_kib)

FIB_RE = r"^fib\((\d+)\) = (\d+) \(([\d.]+) s\)$"


def hellos_in(proc, start, end):
    return sum(1 for when, line in list(proc.out_lines)
               if start < when < end and HELLO_RE.match(line))


def fd_open(fd):
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def echo_all_at_once(port, payloads, timeout=120.0):
    """One non-blocking client per payload, all connected before any
    finishes: each writes its payload while reading, half-closes, and reads
    to EOF. Returns the bytes each got back (None if unfinished)."""
    sel = selectors.DefaultSelector()
    todo = {}
    for i, data in enumerate(payloads):
        s = connect(port)
        s.setblocking(False)
        todo[s] = [i, 0, bytearray()]
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE)
    got_back = [None] * len(payloads)
    deadline = time.monotonic() + timeout
    while todo and time.monotonic() < deadline:
        for key, ev in sel.select(1.0):
            s = key.fileobj
            i, off, got = todo[s]
            if ev & selectors.EVENT_WRITE and off < len(payloads[i]):
                try:
                    off += s.send(payloads[i][off:off + 32768])
                except BlockingIOError:
                    pass
                todo[s][1] = off
                if off == len(payloads[i]):
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ)
            if ev & selectors.EVENT_READ:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                if chunk:
                    got += chunk
                    continue
                got_back[i] = bytes(got)
                sel.unregister(s)
                s.close()
                del todo[s]
    for s in todo:
        s.close()
    sel.close()
    return got_back


class Coroutines(ProgramTest):

    # ---- hello ---------------------------------------------------------

    def test_hellos_keep_coming_while_fib_runs_on_the_executor(self):
        p = self.start("hello", "--interval", "0.1")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        start = time.monotonic()
        # fib(45), the cap: about a second unloaded, more when busy.
        p.send("45\n")
        done, m = p.wait_for_line(r"^fib\(45\) = 1134903170", timeout=120)
        self.assertIsNotNone(m, "fib(45) never answered")
        busy = done - start
        self.assertGreater(busy, 0.5, "fib(45) took only %.2f s: the test "
                           "proves nothing" % busy)
        n = hellos_in(p, start + 0.05, done)
        self.assertGreaterEqual(n, int(busy / 0.1 / 3),
                                "only %d hellos in %.1f s of fib" % (n, busy))
        p.close_stdin()
        self.assert_exits(p, 0, timeout=10)

    def test_exit_during_a_fib_on_the_executor_ends_it_at_once(self):
        """Send 45 (the cap: seconds of fib), then `exit` while it runs:
        the program must end at once, without the answer."""
        p = self.start("hello", "--interval", "0.1")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        p.send("45\n")
        self.assertTrue(harness.wait_for_a_busy_thread(p.proc.pid, 30),
                        "fib(45) never ran on a worker thread")
        start = time.monotonic()
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=10)
        quick = time.monotonic() - start
        answers = [l for _, l in p.out_lines if re.match(FIB_RE, l)]
        # No time bound: the proof is that fib(45) (seconds of work) was
        # still running when the program had ended.
        self.assertEqual(answers, [], "the program waited for fib(45) "
                         "(ended %.2f s after the input did)" % quick)

    def test_end_of_input_during_a_fib_still_gets_its_answer(self):
        # Unlike `exit`, the end of input is not "quit now": as in every
        # chapter, `printf '42\n' | hello` answers before it ends.
        p = self.start("hello", "--interval", "0.1")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        p.send("42\n")
        p.close_stdin()
        self.assert_exits(p, 0, timeout=30)
        answers = [l for _, l in p.out_lines if re.match(FIB_RE, l)]
        self.assertEqual(len(answers), 1, p.out_lines)
        self.assertTrue(answers[0].startswith("fib(42) = 267914296"),
                        answers[0])

    def test_inline_fib_blocks_the_loop_and_the_hellos_wait(self):
        p = self.start("hello", "--interval", "0.05", "--inline")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        # fib(43): about 0.4 s unloaded (fib(41), 0.15 s, proved too
        # short once the machine was quiet).
        p.send("43\n")
        done, m = p.wait_for_line(FIB_RE, timeout=120)
        self.assertIsNotNone(m, "fib(43) never answered")
        busy = float(m.group(3))
        self.assertGreater(busy, 0.2, "fib(43) took only %.2f s: the test "
                           "proves nothing" % busy)
        n = hellos_in(p, done - 0.7 * busy, done - 0.02)
        self.assertEqual(n, 0, "hellos printed while fib ran inline")
        after, _ = p.wait_for_line(HELLO_RE.pattern, timeout=2)
        self.assertIsNotNone(after, "no hello after fib")
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_inline_lines_of_one_write_are_answered_one_per_turn(self):
        # Inline, the input coroutine gives the loop a turn after each
        # answer: a hello that fell due during a fib goes first.
        p = self.start("hello", "--interval", "0.05", "--inline")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        assert_hellos_between_answers(self, p)
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=30)

    def test_lines_of_one_write_on_the_executor_leave_the_hellos_ticking(self):
        p = self.start("hello", "--interval", "0.05")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        assert_hellos_between_answers(self, p)
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=30)

    def test_exit_is_prompt_and_cancels_the_sleeping_hello(self):
        p = self.start("hello", "--interval", "60")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        start = time.monotonic()
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=5)
        self.assertLess(time.monotonic() - start, 2.0)

    def test_sigterm_and_sigint_stop_hello_cleanly(self):
        # As in chapter 04: a stop signal is a clean end (run() cancels the
        # main coroutine, and the task group with it), also during a fib
        # on the executor, which is then abandoned.
        for signo in (signal.SIGTERM, signal.SIGINT):
            for busy in (False, True):
                p = self.start("hello", "--interval", "60")
                self.assertIsNotNone(
                    p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
                if busy:
                    p.send("45\n")
                    self.assertTrue(
                        harness.wait_for_a_busy_thread(p.proc.pid, 30),
                        "fib(45) never ran on a worker thread")
                p.proc.send_signal(signo)
                self.assert_exits(p, 0, timeout=5)
                answers = [l for _, l in p.out_lines if re.match(FIB_RE, l)]
                self.assertEqual(answers, [], "it waited for fib(45)")

    def test_a_stop_during_an_inline_fib_ends_it_with_stdout_full(self):
        harness.assert_a_stop_during_an_inline_fib_ends_hello_with_stdout_full(
            self)

    def test_a_stop_signal_ends_it_while_error_lines_fill_stderr(self):
        assert_a_stop_ends_hello_while_stderr_is_full(self)

    def test_a_failing_stdout_is_reported_with_its_cause_and_ends_it(self):
        path = program(self.CHAPTER, self.VARIANT, "hello")
        if not os.path.exists(path):
            harness.build(self.CHAPTER, self.VARIANT)
        env = dict(os.environ, **harness.SAN_ENV)
        with open("/dev/full", "w") as full:
            r = subprocess.run([path], input=b"exit\n", stdout=full,
                               stderr=subprocess.PIPE, env=env, timeout=30)
            err = r.stderr.decode(errors="replace")
            self.assertEqual(r.returncode, 1, err)
            self.assertIn("writing standard output: No space left on device",
                          err)
            # Its input never ends: it must not wait for it.
            p = subprocess.Popen([path, "--interval", "0.1"],
                                 stdin=subprocess.PIPE, stdout=full,
                                 stderr=subprocess.PIPE, env=env)
            try:
                status = p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                status = None
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdin.close()
                err = p.stderr.read().decode(errors="replace")
                p.stderr.close()
            self.assertEqual(status, 1, "still running with a dead stdout: "
                             + err)
            self.assertIn("No space left on device", err)

    def test_the_trace_shows_the_task_and_future_flow(self):
        os.environ["LOOP_TRACE"] = "1"
        try:
            p = self.start("hello", "--interval", "0.2")
        finally:
            del os.environ["LOOP_TRACE"]
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        p.send("20\n")
        self.assertIsNotNone(p.wait_for_line(r"^fib\(20\) = 6765", 10)[0])
        p.send("exit\n")
        self.assert_exits(p, 0)
        err = p.stderr_text()
        # 1. the Task steps its coroutine; 2-3. it awaits a Future;
        # 5. the Future completes; 6-7. the Task steps again.
        self.assertRegex(err, r"task input#\d+: step")
        self.assertRegex(err, r"task input#\d+: awaits future 0x[0-9a-f]+")
        self.assertRegex(err, r"future 0x[0-9a-f]+: result")
        self.assertRegex(err, r"task hello#\d+: cancel requested")
        self.assertRegex(err, r"task input#\d+: finished")

    def test_the_stream_limit_fits_the_longest_line_the_parser_accepts(self):
        # The stream drops lines over its limit itself; hello sets it so
        # that the longest acceptable line (80 bytes of text and a CR)
        # still reaches the parser, and a longer one is one error either
        # way: 81 blanks (the parser refuses it) or 82 digits (the stream
        # does).
        p = self.start("hello", "--interval", "60")
        p.send(" " * 79 + "5\r\n" + " " * 81 + "\n" + "2" * 82 + "\n" +
               "1" * 80 + "\r\n" + "6\n")
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=10)
        answers = [re.sub(r" \(.*", "", l) for _, l in p.out_lines
                   if re.match(FIB_RE, l)]
        self.assertEqual(answers, ["fib(5) = 5", "fib(6) = 8"])
        self.assertEqual(p.err_lines, [
            "error: line longer than 80 bytes (not counting its line end)",
            "error: line longer than 80 bytes (not counting its line end)",
            "error: number too large for an unsigned int"])

    def test_an_endless_always_ready_stdin_leaves_the_loop_running(self):
        # /dev/zero is always ready (epoll refuses it, as it refuses regular
        # files) and never ends a line: the reader drops bytes forever. It
        # must still give the loop its turns, or the hellos stop and
        # SIGINT, a loop callback, is never handled. (Before the stream,
        # each read waited for the selector, and this passed.)
        path = program(self.CHAPTER, self.VARIANT, "hello")
        with open("/dev/zero", "rb") as zero:
            p = harness.Process([path, "--interval", "0.1"], stdin=zero)
            try:
                first, _ = p.wait_for_line(HELLO_RE.pattern, timeout=5)
                self.assertIsNotNone(first, "no hello at all")
                for _ in range(3):
                    when, _ = p.wait_for_line(HELLO_RE.pattern, timeout=5)
                    self.assertIsNotNone(when, "the hellos stopped while "
                                         "reading /dev/zero")
                p.proc.send_signal(signal.SIGINT)
                self.assertEqual(p.wait(10), 0, p.stderr_text()[-2000:])
            finally:
                p.kill()
        self.assertEqual(p.err_lines, ["error: line longer than 80 bytes "
                                       "(not counting its line end)"])

    def epoll_ctls(self, lines, gap=0.03):
        """epoll_ctl calls of one hello run (strace -f) that gets `lines`
        typed lines "0", `gap` s apart (each one its own wake-up), then
        the end of input."""
        path = program(self.CHAPTER, self.VARIANT, "hello")
        with tempfile.TemporaryDirectory() as tmp:
            log = os.path.join(tmp, "strace.txt")
            p = subprocess.Popen(["strace", "-f", "-qq", "-e",
                                  "trace=epoll_ctl", "-o", log, path,
                                  "--interval", "86400"],
                                 stdin=subprocess.PIPE,
                                 stdout=subprocess.DEVNULL,
                                 stderr=subprocess.PIPE)
            time.sleep(0.3)
            for _ in range(lines):
                p.stdin.write(b"0\n")
                p.stdin.flush()
                time.sleep(gap)
            p.stdin.close()
            err = p.stderr.read().decode(errors="replace")
            p.stderr.close()
            self.assertEqual(p.wait(timeout=30), 0, err)
            with open(log) as f:
                return sum(1 for l in f if "epoll_ctl(" in l)

    def test_typed_lines_cost_no_epoll_ctl_each(self):
        # Standard input stays registered with the selector while it is
        # read (a stream), so the count does not grow with the lines: it
        # was 2 per line (add before each wait, remove after).
        if self.VARIANT != "plain":
            self.skipTest("counted on the plain build")
        if shutil.which("strace") is None:
            self.skipTest("no strace")
        few = self.epoll_ctls(5)
        if few == 0:
            self.skipTest("no epoll_ctl seen: strace cannot trace here, or "
                          "the loop does not use epoll")
        many = self.epoll_ctls(25)
        self.assertEqual(many, few, "epoll_ctl grows with the lines: %d for "
                         "5 lines, %d for 25" % (few, many))

    # ---- echo-server ----------------------------------------------------

    def test_a_thousand_clients_at_once_get_every_byte_back(self):
        raise_nofile(4096)
        srv = self.start_server()
        payloads = [pattern(3000 + 41 * i, seed=i) for i in range(1000)]
        got = echo_all_at_once(srv.port, payloads)
        bad = [i for i in range(1000) if got[i] != payloads[i]]
        self.assertEqual(bad[:10], [], "%d of 1000 clients got different "
                         "bytes back" % len(bad))
        self.stop_server(srv)

    def test_the_concurrent_client_verifies_a_thousand_echoes(self):
        srv = self.start_server()
        client = program(self.CHAPTER, self.VARIANT, "echo-client")
        r = subprocess.run([client, "--port", str(srv.port), "--connections",
                            "1000", "--bytes", "20000", "--parallel", "500"],
                           capture_output=True, timeout=120)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode()[-2000:])
        self.assertRegex(out, r"1000 connections, 1000 verified, 0 failed")
        self.stop_server(srv)

    def test_the_client_names_a_faulty_echo(self):
        harness.assert_client_names_a_faulty_echo(
            self, program(self.CHAPTER, self.VARIANT, "echo-client"))

    def test_accept_reports_to_a_stderr_nobody_reads_cannot_freeze_it(self):
        harness.assert_accept_reports_cannot_freeze_the_server(
            self, program(self.CHAPTER, self.VARIANT, "echo-server"))

    def test_a_full_stderr_cannot_keep_the_server_from_starting(self):
        harness.assert_a_full_stderr_cannot_keep_the_server_from_starting(
            self, program(self.CHAPTER, self.VARIANT, "echo-server"))

    def test_a_burst_of_sigterms_ends_hello_with_status_0(self):
        p = self.start("hello", "--interval", "60")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=10)[0])
        harness.assert_a_burst_of_stop_signals_ends_it_with_status_0(self, p)

    def test_a_burst_of_sigterms_ends_the_server_with_status_0(self):
        harness.assert_a_burst_of_stop_signals_ends_it_with_status_0(
            self, self.start_server())

    def test_the_client_gives_up_on_a_server_that_never_accepts(self):
        harness.assert_client_gives_up_on_a_server_that_never_accepts(
            self, program(self.CHAPTER, self.VARIANT, "echo-client"))

    def test_the_client_memory_follows_parallel_not_connections(self):
        # 20,000 connections, 10 at a time: each open one holds two 8 KiB
        # buffers, so the client's peak stays a few MiB. Made all up front,
        # the frames alone would take over 300 MiB.
        srv = self.start_server()
        client = program(self.CHAPTER, self.VARIANT, "echo-client")
        n = 20000 if self.VARIANT == "plain" else 3000
        r = subprocess.run([client, "--port", str(srv.port), "--connections",
                            str(n), "--bytes", "100", "--parallel", "10"],
                           capture_output=True, timeout=180,
                           env=dict(os.environ, **harness.SAN_ENV))
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode()[-2000:])
        m = re.search(r"^%d connections, %d verified, 0 failed, .*peak memory "
                      r"(\d+) KiB$" % (n, n), out, re.M)
        self.assertIsNotNone(m, out)
        if self.VARIANT == "plain":     # ASan's quarantine keeps freed frames
            self.assertLess(int(m.group(1)), 64 * 1024, out)
        self.stop_server(srv)

    def test_ten_thousand_connections_at_once(self):
        if self.VARIANT != "plain":
            self.skipTest("10,000 connections: plain build only (the "
                          "sanitizers' memory makes it a load test)")
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 10100:
            self.skipTest("hard RLIMIT_NOFILE is %d" % hard)
        srv = self.start_server()
        client = program(self.CHAPTER, self.VARIANT, "echo-client")
        r = subprocess.run([client, "--port", str(srv.port), "--connections",
                            "10000", "--bytes", "100", "--parallel",
                            "10000"], capture_output=True, timeout=180)
        out = r.stdout.decode()
        self.assertEqual(r.returncode, 0, out + r.stderr.decode()[-2000:])
        self.assertRegex(out, r"10000 connections, 10000 verified, 0 failed")
        self.stop_server(srv)

    def test_a_client_that_never_reads_costs_bounded_memory(self):
        # The connection's coroutine awaits its send; while it waits it
        # does not read, so the client's bytes pile up in the kernel, not
        # in the server. Bound stated: 8 MiB of RSS growth (the sanitizer
        # allocators add slack); one 16 KiB buffer is what it should be.
        srv = self.start_server()
        assert_never_reader_is_bounded(self, srv, 8 * 1024)
        self.stop_server(srv)
    def test_reset_clients_cost_only_themselves(self):
        srv = self.start_server()
        keep = connect(srv.port)
        keep.sendall(b"before")
        self.assertEqual(keep.recv(16), b"before")
        for seed in range(5):
            bad = connect(srv.port)
            bad.sendall(pattern(300000, seed=7 + seed))
            bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                           struct.pack("ii", 1, 0))
            bad.close()
        time.sleep(0.2)
        self.assertEqual(exchange(keep, pattern(50000, seed=3)),
                         pattern(50000, seed=3))
        keep.close()
        self.stop_server(srv)
        self.assertNotRegex(srv.stderr_text(), re.compile("Sanitizer"))

    def test_sigterm_with_many_idle_connections_cancels_them_all(self):
        raise_nofile(4096)
        srv = self.start_server()
        idle = [connect(srv.port) for _ in range(500)]
        idle[0].sendall(b"x")
        self.assertEqual(idle[0].recv(4), b"x")
        start = time.monotonic()
        self.stop_server(srv)
        self.assertLess(time.monotonic() - start, 3.0)
        for s in idle[:20]:
            s.settimeout(5)
            self.assertEqual(s.recv(16), b"", "connection not closed")
        for s in idle:
            s.close()

    def test_out_of_descriptors_it_pauses_accepting_and_recovers(self):
        # 24 descriptors: the listener, the loop's own and about 18
        # clients. The rest wait in the kernel's accept queue until some
        # close; the server reports EMFILE once and keeps serving.
        path = program(self.CHAPTER, self.VARIANT, "echo-server")
        srv = subprocess.Popen(["prlimit", "--nofile=24:24", path, "--port",
                                "0"], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE,
                               env=dict(os.environ, **harness.SAN_ENV))
        try:
            port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
            socks = [connect(port) for _ in range(30)]
            for s in socks[:10]:
                s.sendall(b"hi")
                self.assertEqual(s.recv(16), b"hi")
            for s in socks[:15]:
                s.close()
            for s in socks[25:]:
                s.sendall(b"late")
                self.assertEqual(s.recv(16), b"late")
            for s in socks[15:]:
                s.close()
            srv.send_signal(signal.SIGTERM)
            self.assertEqual(srv.wait(timeout=10), 0)
            err = srv.stderr.read().decode()
            self.assertIn("accept: Too many open files", err)
            said = [l for l in err.splitlines() if "accept:" in l]
            self.assertEqual(len(said), 1, "one back-off episode, reported "
                             "%d times:\n%s" % (len(said), err[-2000:]))
            self.assertIn("accepting clients again", err)
            self.assertIsNone(harness.sanitizer_report(err), err[-2000:])
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()

    def test_a_greedy_client_does_not_stall_the_others(self):
        # One client writes and reads 1 MiB chunks as fast as it can from
        # two threads, so the server's reads and writes never block and
        # its coroutine never has to wait. Fresh connections must still be
        # served, and SIGTERM obeyed, promptly.
        srv = self.start_server()
        stop = threading.Event()
        greedy, threads = harness.bench_module(
            "stop_under_load").busy_client(srv.port, stop)
        try:
            time.sleep(0.3)
            worst = 0.0
            for _ in range(10):
                start = time.monotonic()
                s = connect(srv.port)
                s.settimeout(10)
                s.sendall(b"ping")
                self.assertEqual(s.recv(16), b"ping")
                worst = max(worst, time.monotonic() - start)
                s.close()
            # Budgeted, a ping waits a few milliseconds. The bound is wide
            # (a loaded 2-core machine, a sanitizer build): it catches a
            # connection that holds the loop for seconds, not a slow one.
            self.assertLess(worst, 2.0, "a ping waited %.2f s" % worst)
            start = time.monotonic()
            self.stop_server(srv)
            self.assertLess(time.monotonic() - start, 3.0)
        finally:
            stop.set()
            greedy.close()
            for t in threads:
                t.join(timeout=10)

    def test_select_refuses_clients_past_fd_setsize_and_serves_the_rest(self):
        raise_nofile(4096)
        srv = self.start_server("--backend", "select")
        socks = [connect(srv.port) for _ in range(1100)]
        first = socks[0]
        self.assertEqual(exchange(first, pattern(10000, seed=4)),
                         pattern(10000, seed=4))
        last = socks[-1]
        last.settimeout(5)
        try:
            last.sendall(b"x")
            got = last.recv(4)
        except OSError:
            got = b""
        self.assertEqual(got, b"", "a client past FD_SETSIZE was served")
        for s in socks:
            s.close()
        self.assertIn("FD_SETSIZE", srv.stderr_text())
        said = [l for l in srv.err_lines if "client refused" in l]
        self.assertEqual(len(said), 1, "reported %d times" % len(said))
        self.stop_server(srv)

    def test_select_never_announces_a_listener_it_cannot_watch(self):
        # Inherited descriptors can push the server's own (the loop's, the
        # listening socket) to FD_SETSIZE or above, where select() cannot
        # watch them. "listening on" would then promise a server that
        # never accepts: it must fail clearly before the line, exit 1.
        # Descriptors 3..1100 are inherited but for `gaps` free ones
        # below FD_SETSIZE: with few, even the loop cannot start; with one
        # more, the loop starts and the listening socket is the first one
        # past; with enough, the server starts and serves (or, its client's
        # descriptor past the limit, refuses that client and says so).
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard < 1200:
            self.skipTest("hard RLIMIT_NOFILE is %d" % hard)
        raise_nofile(1200)
        path = program(self.CHAPTER, self.VARIANT, "echo-server")
        env = dict(os.environ, **harness.SAN_ENV)
        fds = []
        while not fds or fds[-1] < 1100:
            fds.append(os.open(os.devnull, os.O_RDONLY))
        outcomes = []
        try:
            for gaps in range(8):
                # Every descriptor, ours or the runner's, goes along but
                # the gaps: one left out is a free slot the server takes.
                inherited = [fd for fd in range(3, fds[-1] + 1)
                             if fd_open(fd) and not 500 <= fd < 500 + gaps]
                p = subprocess.Popen([path, "--port", "0", "--backend",
                                      "select"], pass_fds=inherited,
                                     stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=env)
                try:
                    line = p.stdout.readline().decode()
                    got = None
                    if line.startswith("listening on "):
                        port = int(line.rsplit(":", 1)[1])
                        try:
                            with connect(port) as c:
                                got = exchange(c, b"fine")
                        except OSError:
                            got = b""
                        p.send_signal(signal.SIGTERM)
                    status = p.wait(timeout=10)
                    err = p.stderr.read().decode(errors="replace")
                finally:
                    if p.poll() is None:
                        p.kill()
                        p.wait()
                    p.stdout.close()
                    p.stderr.close()
                announced = line.startswith("listening on ")
                outcomes.append((gaps, announced, status, err))
                self.assertIsNone(harness.sanitizer_report(err), err[-2000:])
                if announced:
                    self.assertEqual(status, 0, err[-2000:])
                    if got != b"fine":  # the client's descriptor was past
                        self.assertIn("client refused", err, "gaps %d" % gaps)
                    continue
                self.assertEqual(line, "", "gaps %d" % gaps)
                self.assertEqual(status, 1, "gaps %d: %s" % (gaps, err))
                self.assertRegex(err, r"(?m)^echo-server: .*FD_SETSIZE",
                                 "gaps %d" % gaps)
        finally:
            for fd in fds:
                os.close(fd)
        self.assertTrue(any(re.search(r"listening socket.*FD_SETSIZE", err)
                            for _, _, _, err in outcomes),
                        "no run failed on the listening socket itself: %r"
                        % [(g, a, s) for g, a, s, _ in outcomes])
        self.assertTrue(outcomes[-1][1], "with %d free descriptors it still "
                        "did not start: %s" % (outcomes[-1][0],
                                               outcomes[-1][3]))

    def test_a_signal_storm_during_a_transfer_still_exits_0(self):
        # SIGINT and SIGTERM keep coming while the server stops: the ones
        # that arrive after the loop has given the signals their default
        # action back must not kill it. A few trials, bounded.
        raise_nofile(4096)
        for trial in range(5):
            srv = self.start_server()
            socks = [connect(srv.port) for _ in range(200)]
            for s in socks:
                s.setblocking(False)
                try:
                    s.send(pattern(65536, seed=trial))
                except BlockingIOError:
                    pass
            for i in range(400):
                try:
                    srv.proc.send_signal(signal.SIGINT if i % 2
                                         else signal.SIGTERM)
                except ProcessLookupError:
                    break
            try:
                status = srv.proc.wait(timeout=10)
            finally:
                for s in socks:
                    s.close()
            self.assertEqual(status, 0, "trial %d: exit status %d; stderr:\n%s"
                             % (trial, status, srv.stderr_text()[-2000:]))

    def test_sigterm_right_after_listening_on_exits_0(self):
        # "listening on" promises a server ready to serve and to stop
        # cleanly: a SIGTERM sent the moment the line is read must never
        # find the signal at its default action (exit status 143). The
        # line is read straight from the pipe, no reader thread between.
        path = program(self.CHAPTER, self.VARIANT, "echo-server")
        if not os.path.exists(path):
            harness.build(self.CHAPTER, self.VARIANT)
        env = dict(os.environ, **harness.SAN_ENV)
        for trial in range(60):
            p = subprocess.Popen([path, "--port", "0"],
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, env=env)
            try:
                line = p.stdout.readline()
                self.assertTrue(line.startswith(b"listening on "), line)
                p.send_signal(signal.SIGTERM)
                status = p.wait(timeout=10)
                err = p.stderr.read().decode(errors="replace")
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdout.close()
                p.stderr.close()
            self.assertEqual(status, 0, "trial %d: exit status %d; stderr:"
                             "\n%s" % (trial, status, err[-2000:]))

    def test_every_backend_echoes(self):
        for backend in ("select", "poll", "epoll"):
            srv = self.start_server("--backend", backend)
            s = connect(srv.port)
            self.assertEqual(exchange(s, pattern(300000, seed=5)),
                             pattern(300000, seed=5), backend)
            s.close()
            self.stop_server(srv)


for_each_build(Coroutines, globals(), lambda ch: ch == "05-coroutines")

CHAPTER = os.path.join(harness.CHAPTERS_DIR, "05-coroutines")


@unittest.skipUnless(os.path.isdir(CHAPTER), "no chapter 05")
class ExecutorUnderTSan(unittest.TestCase):
    """The executor is the one place where threads meet: workers complete
    jobs, the loop thread finishes their Futures. ThreadSanitizer watches
    the hand-over (reports make the program exit 66)."""

    def test_hello_with_the_executor_has_no_data_race(self):
        subprocess.run(["make", "-s", "-C", CHAPTER, "all", "SAN=thread"],
                       check=True, stdout=subprocess.DEVNULL)
        hello = os.path.join(CHAPTER, "build", "san-thread", "hello")
        r = subprocess.run([hello, "--interval", "0.05"],
                           input="30\n25\n32\n20\n", capture_output=True,
                           text=True, timeout=120,
                           env=dict(os.environ,
                                    TSAN_OPTIONS="exitcode=66:halt_on_error=0"))
        self.assertNotIn("ThreadSanitizer", r.stderr, r.stderr[:3000])
        self.assertEqual(r.returncode, 0, r.stderr[-2000:])
        self.assertEqual(len(re.findall(r"^fib\(\d+\) = ", r.stdout, re.M)), 4)

    def test_exit_during_a_fib_leaves_the_worker_without_a_race(self):
        # The worker still computing is detached, not joined: the process
        # ends around it. Neither that nor the Future cancelled under it
        # may race, and the answer must not come.
        subprocess.run(["make", "-s", "-C", CHAPTER, "all", "SAN=thread"],
                       check=True, stdout=subprocess.DEVNULL)
        hello = os.path.join(CHAPTER, "build", "san-thread", "hello")
        for last in ("exit\n",):
            p = subprocess.Popen([hello, "--interval", "0.05"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True,
                                 env=dict(os.environ, TSAN_OPTIONS=
                                          "exitcode=66:halt_on_error=0"))
            p.stdin.write("45\n")
            p.stdin.flush()
            # until the worker is computing; if none gets busy within
            # 5 s, the fib was quicker than that (see below) and there is
            # nothing left to abandon
            harness.wait_for_a_busy_thread(p.pid, 5)
            out, err = p.communicate(last, timeout=120)
            self.assertNotIn("ThreadSanitizer", err, err[:3000])
            self.assertEqual(p.returncode, 0, err[-2000:])
            m = re.search(r"^fib\(45\) = \d+ \(([\d.]+) s\)$", out, re.M)
            # gcc may compile the TSan fib into something far quicker:
            # then it was done before the exit, and nothing was abandoned
            if m and float(m.group(1)) > 0.3:
                self.fail("it waited for fib(45) (%s s)" % m.group(1))


FAIL_POLL_SHIM = r"""
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

/* poll() as usual, until the file named by FAIL_POLL_IF_EXISTS exists;
 * then the loop's poll() fails, and the log's own check of stderr (one
 * descriptor, 2) still works, so that the failure can be said. */
int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    static int (*real)(struct pollfd *, nfds_t, int);
    const char *flag = getenv("FAIL_POLL_IF_EXISTS");

    if (flag && access(flag, F_OK) == 0 && !(n == 1 && fds[0].fd == 2)) {
        errno = ENOMEM;
        return -1;
    }
    if (!real)
        real = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT,
                                                           "poll");
    return real(fds, n, timeout);
}
"""


@unittest.skipUnless(os.path.isdir(CHAPTER), "no chapter 05")
class LoopFailureIsNotAStop(unittest.TestCase):
    """A c10k run once saw the poll backend print 'echo-server: stopped'
    and exit 0 with nobody signalling it. A loop that fails (here poll()
    returns ENOMEM, through an LD_PRELOAD shim) must say so and exit 1,
    never pass for a clean stop."""

    def test_a_failing_poll_is_reported_and_exits_1(self):
        import shutil
        import tempfile
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc is None:
            self.skipTest("no C compiler for the shim")
        subprocess.run(["make", "-s", "-C", CHAPTER, "all"], check=True,
                       stdout=subprocess.DEVNULL)
        with tempfile.TemporaryDirectory() as tmp:
            src = os.path.join(tmp, "failpoll.c")
            lib = os.path.join(tmp, "failpoll.so")
            flag = os.path.join(tmp, "fail-now")
            with open(src, "w") as f:
                f.write(FAIL_POLL_SHIM)
            subprocess.run([cc, "-shared", "-fPIC", "-o", lib, src, "-ldl"],
                           check=True)
            env = dict(os.environ, LD_PRELOAD=lib, FAIL_POLL_IF_EXISTS=flag)
            srv = subprocess.Popen(
                [os.path.join(CHAPTER, "build", "echo-server"), "--port", "0",
                 "--backend", "poll"], stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, env=env, text=True)
            try:
                m = re.search(r":(\d+)$", srv.stdout.readline().strip())
                self.assertIsNotNone(m)
                s = connect(int(m.group(1)))
                self.assertEqual(exchange(s, b"before\n"), b"before\n")
                s.close()
                open(flag, "w").close()
                try:                 # a new client wakes the waiting poll()
                    connect(int(m.group(1))).close()
                except OSError:
                    pass             # it had gone round once more: gone
                rc = srv.wait(timeout=30)
                err = srv.stderr.read()
            finally:
                if srv.poll() is None:
                    srv.kill()
                    srv.wait()
                srv.stdout.close()
                srv.stderr.close()
        self.assertEqual(rc, 1, err)
        self.assertIn("event loop failed", err)
        self.assertNotIn("stopped", err)
