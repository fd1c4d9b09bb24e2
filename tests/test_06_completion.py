"""What chapter 06 keeps from chapter 05 on a completion loop (io_uring):
hello and a stop signal end cleanly, one coroutine per connection serves
many clients exactly, a client that never reads costs bounded memory, and
SIGTERM with connections (and their receives in the kernel) open exits 0.
Where io_uring is refused, the programs say so in one line and exit 1, and
every other test of the chapter skips with that line as its reason."""
import os
import signal
import subprocess
import sys
import time
import unittest
from unittest import mock

import harness
from harness import (HELLO_RE, ProgramTest,
                     assert_a_stop_ends_hello_while_stderr_is_full,
                     assert_never_reader_is_bounded,
                     connect, exchange, for_each_build, pattern, program,
                     raise_nofile)

NAME = "06-completion"
NO_URING = os.path.join(harness.REPO, "tests", "no_uring.py")


class Completion(ProgramTest):

    def test_sigterm_and_sigint_stop_hello_cleanly(self):
        for signo in (signal.SIGTERM, signal.SIGINT):
            p = self.start("hello", "--interval", "60")
            self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern,
                                                 timeout=5)[0])
            p.proc.send_signal(signo)
            self.assert_exits(p, 0, timeout=5)

    def test_a_stop_during_an_inline_fib_ends_it_with_stdout_full(self):
        harness.assert_a_stop_during_an_inline_fib_ends_hello_with_stdout_full(
            self)

    def test_a_stop_signal_ends_hello_while_error_lines_fill_stderr(self):
        assert_a_stop_ends_hello_while_stderr_is_full(self)

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

    def test_a_hundred_clients_at_once_get_every_byte_back(self):
        srv = self.start_server()
        socks = [connect(srv.port) for _ in range(100)]
        for i, s in enumerate(socks):
            data = pattern(20000 + i * 37, seed=i)
            self.assertEqual(exchange(s, data), data, "client %d" % i)
            s.close()
        self.stop_server(srv)

    def test_the_concurrent_client_verifies_a_thousand_echoes(self):
        raise_nofile(4096)
        srv = self.start_server()
        client = program(self.CHAPTER, self.VARIANT, "echo-client")
        r = subprocess.run([client, "--port", str(srv.port),
                            "--connections", "1000", "--bytes", "1000",
                            "--parallel", "200"],
                           capture_output=True, timeout=120,
                           env=dict(os.environ, **harness.SAN_ENV))
        self.assertEqual(r.returncode, 0, r.stderr.decode()[-2000:])
        self.stop_server(srv)

    def test_the_client_names_a_faulty_echo(self):
        harness.assert_client_names_a_faulty_echo(
            self, program(self.CHAPTER, self.VARIANT, "echo-client"))

    def test_accept_reports_to_a_stderr_nobody_reads_cannot_freeze_it(self):
        harness.assert_accept_reports_cannot_freeze_the_server(
            self, program(self.CHAPTER, self.VARIANT, "echo-server"))

    def test_the_client_gives_up_on_a_server_that_never_accepts(self):
        harness.assert_client_gives_up_on_a_server_that_never_accepts(
            self, program(self.CHAPTER, self.VARIANT, "echo-client"))

    def test_a_client_that_never_reads_costs_bounded_memory(self):
        # The connection's coroutine awaits its send, which the kernel
        # holds until the client reads: no receive is submitted meanwhile,
        # so the client's bytes wait in the kernel, not in the server.
        # Each send's bytes are a copy freed when it completes; ASan's
        # quarantine would keep every freed copy resident (12 MiB for 8 MiB
        # sent), so the sanitized server runs without it: what grows is
        # then the program's, held to chapter 05's bound in both builds.
        asan = harness.SAN_ENV["ASAN_OPTIONS"] + ":quarantine_size_mb=0"
        with mock.patch.dict(harness.SAN_ENV, {"ASAN_OPTIONS": asan}):
            srv = self.start_server()
        assert_never_reader_is_bounded(self, srv, 8 * 1024)
        self.stop_server(srv)

    def test_sigterm_with_idle_connections_exits_0_and_closes_them(self):
        # Every idle connection has a receive in the kernel; the stop
        # cancels them (a request) and waits for their completions.
        raise_nofile(4096)
        srv = self.start_server()
        idle = [connect(srv.port) for _ in range(300)]
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

    def test_sigterm_right_after_listening_on_exits_0(self):
        path = program(self.CHAPTER, self.VARIANT, "echo-server")
        env = dict(os.environ, **harness.SAN_ENV)
        for trial in range(20):
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


for_each_build(Completion, globals(), lambda ch: ch == NAME)


@unittest.skipUnless(NAME in harness.chapters(), "no chapter 06")
class WithoutIoUring(unittest.TestCase):
    """Runs whether or not io_uring works here: tests/no_uring.py refuses
    it (seccomp, as a container's profile does) to the program it runs."""

    BUILDS = [(NAME, "plain")]

    def refused(self, *argv):
        r = subprocess.run([sys.executable, NO_URING, *argv],
                           stdin=subprocess.DEVNULL, capture_output=True,
                           timeout=20)
        if r.returncode == 125:
            self.skipTest(r.stderr.decode().strip())
        return r.returncode, r.stderr.decode(errors="replace")

    def test_each_program_says_why_in_one_line_and_exits_1(self):
        for argv in (["hello"], ["echo-server", "--port", "0"],
                     ["echo-client", "--port", "9"]):
            path = program(NAME, "plain", argv[0])
            if not os.path.exists(path):
                harness.build(NAME, "plain")
            rc, err = self.refused(path, *argv[1:])
            self.assertEqual(rc, 1, "%s: %s" % (argv[0], err))
            self.assertEqual(len(err.splitlines()), 1, err)
            self.assertIn("io_uring is not available here", err)
            self.assertTrue(err.startswith(argv[0] + ": "), err)

    def test_select_and_poll_say_the_epoll_backend_is_needed(self):
        # With io_uring refused or not, what is missing for these two is
        # the epoll backend, and the one line says so, not the kernel.
        path = program(NAME, "plain", "echo-server")
        if not os.path.exists(path):
            harness.build(NAME, "plain")
        for backend in ("select", "poll"):
            argv = [path, "--backend", backend, "--port", "0"]
            for rc, err in (self.refused(*argv), self.plain(argv)):
                self.assertEqual(rc, 1, "%s: %s" % (backend, err))
                self.assertEqual(len(err.splitlines()), 1, err)
                self.assertTrue(err.startswith("echo-server: cannot start "
                                               "the %s loop: " % backend),
                                err)
                self.assertIn("needs the epoll backend", err)
                self.assertNotIn("buffer ring", err)

    def plain(self, argv):
        r = subprocess.run(argv, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=20)
        return r.returncode, r.stderr.decode(errors="replace")

    def test_the_chapters_tests_skip_with_that_reason(self):
        # The probe the contract tests use, run where io_uring is refused.
        code = ("import sys; sys.path.insert(0, %r); import harness; "
                "print(harness.io_uring_missing(%r))"
                % (os.path.join(harness.REPO, "tests"), NAME))
        r = subprocess.run([sys.executable, NO_URING, sys.executable, "-c",
                            code], capture_output=True, timeout=60)
        if r.returncode == 125:
            self.skipTest(r.stderr.decode().strip())
        self.assertEqual(r.returncode, 0, r.stderr.decode())
        self.assertIn("io_uring is not available here", r.stdout.decode())
