"""What chapter 03 shows: one thread and a selector serve everything.

hello: the hellos come from the selector's timeout, so they keep coming
while stdin is idle, but stop while fib runs (cooperative scheduling); every
line of one write is answered (no stdio buffer hiding lines), one per turn
of the loop (a hello due goes between two answers).

echo-server, on each backend: a thousand clients at once, every byte
checked; a client that never reads does not stall anyone and does not make
the server grow (its RSS, read from /proc, stays under RSS_BOUND_MIB); a
client reset mid-transfer costs only itself; more clients than select()
can watch are refused one by one, cleanly.
"""
import os
import random
import resource
import selectors
import signal
import socket
import struct
import subprocess
import sys
import threading
import time
import unittest

import harness
from harness import (CHAPTERS_DIR, HELLO_RE, Process, ProgramTest,
                     assert_hellos_between_answers, build, connect, exchange,
                     for_each_build, pattern, program, rss_kib)

BACKENDS = ("select", "poll", "epoll")

# The plain server's resident memory must stay under this while a client
# pushes tens of MiB without reading. The server itself holds at most
# ECHO_BUFFER_MAX (64 KiB) per connection; the rest waits in the kernel's
# socket buffers (not the server's memory) and then in the client.
RSS_BOUND_MIB = 6


def hellos_between(proc, start, end):
    return sum(1 for when, line in list(proc.out_lines)
               if start <= when <= end and HELLO_RE.match(line))


def many_clients(port, n, size, timeout=60.0):
    """Open n connections at once, then on every one send size bytes of its
    own, shut down writing and read everything back until EOF, all
    interleaved from one thread. Returns the list of mismatches."""
    socks = [connect(port) for _ in range(n)]
    data = [random.Random(i).randbytes(size) for i in range(n)]
    sent = [0] * n
    got = [bytearray() for _ in range(n)]
    sel = selectors.DefaultSelector()
    for i, s in enumerate(socks):
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, i)
    open_count = n
    deadline = time.monotonic() + timeout
    while open_count and time.monotonic() < deadline:
        for key, events in sel.select(1.0):
            i, s = key.data, key.fileobj
            if events & selectors.EVENT_WRITE:
                try:
                    sent[i] += s.send(data[i][sent[i]:sent[i] + 65536])
                except BlockingIOError:
                    pass
                if sent[i] == size:
                    s.shutdown(socket.SHUT_WR)
                    sel.modify(s, selectors.EVENT_READ, i)
            if events & selectors.EVENT_READ:
                try:
                    chunk = s.recv(65536)
                except BlockingIOError:
                    continue
                except ConnectionError:
                    chunk = b""
                if chunk:
                    got[i] += chunk
                else:
                    sel.unregister(s)
                    s.close()
                    open_count -= 1
    sel.close()
    for s in socks:
        s.close()
    return [i for i in range(n) if bytes(got[i]) != data[i]]


class Selectors(ProgramTest):

    # ---- hello ----

    def test_hellos_keep_coming_while_stdin_is_idle(self):
        p = self.start("hello", "--interval", "0.1")
        first, _ = p.wait_for_line(HELLO_RE.pattern, timeout=5)
        self.assertIsNotNone(first, "the first hello should come at once")
        time.sleep(1.0)
        n = hellos_between(p, first + 0.01, first + 1.0)
        self.assertGreaterEqual(n, 3, "only %d hellos in 1 s of idle input" % n)
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_fib_holds_up_the_hellos_cooperative_scheduling(self):
        p = self.start("hello", "--interval", "0.1")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        start = time.monotonic()
        p.send("45\n")
        done, m = p.wait_for_line(r"^fib\(45\) = 1134903170", timeout=120)
        self.assertIsNotNone(m, "fib(45) never answered")
        busy = done - start
        self.assertGreater(busy, 0.8, "fib(45) took only %.2f s: the test "
                           "proves nothing" % busy)
        # The one thread is inside fib: no hello can be printed. (The
        # first 0.3 s are left out: a hello may be due just as we type.)
        n = hellos_between(p, start + 0.3, done - 0.01)
        self.assertEqual(n, 0, "%d hellos while fib ran on the only thread" % n)
        # As soon as fib returns, the overdue hello comes, then the rhythm.
        after, _ = p.wait_for_line(HELLO_RE.pattern, timeout=5)
        self.assertIsNotNone(after, "no hello after fib finished")
        p.close_stdin()
        self.assert_exits(p, 0, timeout=10)

    def test_every_line_of_one_write_is_answered(self):
        p = self.start("hello", "--interval", "60")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        # One write, five lines: a program that reads with stdio after the
        # selector answers the first and sits on the rest for a minute.
        p.send("1\n2\n3\n4\n5\n")
        for n in range(1, 6):
            _, m = p.wait_for_line(r"^fib\(%d\) = " % n, timeout=10)
            self.assertIsNotNone(m, "line %d of the write was not answered "
                                 "(stuck in a buffer?)" % n)
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_lines_of_one_write_are_answered_one_per_turn(self):
        # ...but one per turn of the loop: a hello that fell due during a
        # fib goes before the next line's fib.
        p = self.start("hello", "--interval", "0.05")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        assert_hellos_between_answers(self, p)
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=30)

    def test_reads_a_regular_file_as_stdin(self):
        path = os.path.join(self.tmpdir(), "numbers.txt")
        with open(path, "w") as f:
            f.write("10\n11\n")
        with open(path) as f:
            p = self.start("hello", "--interval", "60", stdin=f)
            self.assert_exits(p, 0)
        lines = [line for _, line in p.out_lines]
        self.assertIn("fib(10) = 55", " ".join(lines))
        self.assertIn("fib(11) = 89", " ".join(lines))

    def assert_says(self, proc, text, timeout=5.0):
        """stderr is read by another thread: give it time to arrive."""
        deadline = time.monotonic() + timeout
        while text not in proc.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertIn(text, proc.stderr_text())

    def tmpdir(self):
        import tempfile
        d = tempfile.TemporaryDirectory()
        self.addCleanup(d.cleanup)
        return d.name

    # ---- echo-server ----

    def test_a_thousand_clients_at_once_on_every_backend(self):
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                srv = self.start_server("--backend", backend)
                self.assert_says(srv, "using the %s selector" % backend)
                bad = many_clients(srv.port, 1000, 3000)
                self.assertEqual(bad, [], "%d of 1000 clients got wrong "
                                 "bytes back" % len(bad))
                self.stop_server(srv)

    def test_a_never_reading_client_stalls_nobody_and_memory_stays_bounded(self):
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                self._never_reading_client(backend)

    def _never_reading_client(self, backend):
        srv = self.start_server("--backend", backend)
        hog = connect(srv.port)
        hog.setblocking(False)
        total = 48 << 20  # tries to push 48 MiB, never reads a byte
        blob = b"x" * (1 << 20)
        pushed = 0
        stop = threading.Event()

        def push():
            nonlocal pushed
            while pushed < total and not stop.is_set():
                try:
                    pushed += hog.send(blob)
                except BlockingIOError:
                    time.sleep(0.01)
                except OSError:
                    return
        pusher = threading.Thread(target=push)
        pusher.start()
        try:
            time.sleep(1.0)  # the hog fills every buffer on its way
            with connect(srv.port) as other:
                want = pattern(1 << 20, seed=5)
                self.assertEqual(exchange(other, want, timeout=30), want,
                                 "the second client was not served")
            rss = rss_kib(srv.proc.pid)
            stuck = pushed
            time.sleep(0.5)
            self.assertLess(pushed - stuck, 1 << 20,
                            "the server keeps reading from a client that "
                            "never reads its echo")
        finally:
            stop.set()
            pusher.join(10)
        if self.VARIANT == "plain":  # ASan's shadow memory would dominate
            self.assertLess(rss, RSS_BOUND_MIB * 1024,
                            "server RSS %d KiB with a %d MiB hog" %
                            (rss, pushed >> 20))
        hog.close()
        self.stop_server(srv)

    def test_a_reset_mid_transfer_costs_only_that_client_on_every_backend(self):
        for backend in BACKENDS:
            with self.subTest(backend=backend):
                srv = self.start_server("--backend", backend)
                keep = connect(srv.port)
                keep.sendall(b"before")
                self.assertEqual(keep.recv(16), b"before")
                bad = connect(srv.port)
                bad.sendall(pattern(300000, seed=7))
                bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                               struct.pack("ii", 1, 0))
                bad.close()  # RST while the server is echoing
                time.sleep(0.2)
                want = pattern(200000, seed=3)
                self.assertEqual(exchange(keep, want), want)
                keep.close()
                self.stop_server(srv)
                self.assertNotIn("connection:", srv.stderr_text())

    def test_select_refuses_what_it_cannot_watch_and_serves_the_rest(self):
        srv = self.start_server("--backend", "select")
        socks = [connect(srv.port) for _ in range(FD_SETSIZE + 20)]
        # Those past the limit are closed by the server at once...
        refused = 0
        for s in socks[-10:]:
            s.settimeout(10)
            try:
                refused += s.recv(1) == b""
            except ConnectionError:
                refused += 1
        self.assertEqual(refused, 10)
        # ... and the first ones are still served.
        for s in socks[:5]:
            self.assertEqual(exchange(s, b"still here"), b"still here")
        for s in socks:
            s.close()
        self.assert_says(srv, "FD_SETSIZE")
        self.stop_server(srv)

    def test_sigterm_with_a_thousand_idle_clients_exits_0_promptly(self):
        srv = self.start_server()
        socks = [connect(srv.port) for _ in range(1000)]
        socks[-1].sendall(b"x")
        self.assertEqual(socks[-1].recv(4), b"x")
        start = time.monotonic()
        self.stop_server(srv, signal.SIGTERM)
        self.assertLess(time.monotonic() - start, 2.0)
        for s in socks[:10]:
            s.settimeout(5)
            self.assertEqual(s.recv(4), b"", "the server should close us")
        for s in socks:
            s.close()

    def test_out_of_descriptors_it_backs_off_and_accepts_later(self):
        # A hard limit of 40 descriptors: after about 30 clients accept()
        # fails with EMFILE. The server must keep serving the clients it
        # has, and accept the waiting ones once some leave.
        path = program(self.CHAPTER, self.VARIANT, "echo-server")
        if not os.path.exists(path):
            build(self.CHAPTER, self.VARIANT)
        srv = Process(["sh", "-c", 'ulimit -n 40 && exec "$0" --port 0', path])
        self.procs.append(srv)
        _, m = srv.wait_for_line(r"^listening on (.+):(\d+)$", timeout=10)
        self.assertIsNotNone(m, srv.stderr_text())
        port = int(m.group(2))
        socks = [connect(port) for _ in range(50)]  # the backlog holds them
        self.assert_says(srv, "Too many open files")
        self.assertEqual(exchange(socks[0], b"served", half_close=False),
                         b"served")
        # Still out of descriptors a second later: said once, not at every
        # retry (ten times a second).
        time.sleep(1.0)
        said = [l for l in srv.err_lines if "Too many open files" in l]
        self.assertEqual(len(said), 1, "one back-off episode, reported %d "
                         "times:\n%s" % (len(said), "\n".join(said[:5])))
        for s in socks[:25]:
            s.close()
        # The last ones were waiting in the backlog; now there is room.
        for s in socks[-5:]:
            self.assertEqual(exchange(s, b"late but served", timeout=30),
                             b"late but served")
        self.assert_says(srv, "accepting clients again")
        for s in socks[25:]:
            s.close()
        srv.proc.send_signal(signal.SIGTERM)
        self.assert_exits(srv, 0, timeout=5)

    def test_ten_thousand_clients_held_by_one_thread(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        if hard != resource.RLIM_INFINITY and hard < 10300:
            self.skipTest("descriptor hard limit %d < 10,300" % hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE,
                        (soft, hard))
        srv = self.start_server("--backend", "epoll")
        socks = []
        try:
            for _ in range(10000):
                socks.append(connect(srv.port, timeout=30))
            # Every one of them is live: each sends a byte, all at once,
            # and gets it back.
            sel = selectors.DefaultSelector()
            for s in socks:
                s.setblocking(False)
                s.send(b"!")
                sel.register(s, selectors.EVENT_READ)
            left, deadline = len(socks), time.monotonic() + 60
            while left and time.monotonic() < deadline:
                for key, _ in sel.select(1.0):
                    self.assertEqual(key.fileobj.recv(1), b"!")
                    sel.unregister(key.fileobj)
                    left -= 1
            sel.close()
            self.assertEqual(left, 0, "%d of 10,000 clients got no echo" % left)
            with open("/proc/%d/status" % srv.proc.pid) as f:
                threads = [l for l in f if l.startswith("Threads:")][0]
            self.assertEqual(threads.split()[1], "1")
        finally:
            for s in socks:
                s.close()
        self.stop_server(srv)

    def test_accept_reports_to_a_stderr_nobody_reads_cannot_freeze_it(self):
        harness.assert_accept_reports_cannot_freeze_the_server(
            self, program(self.CHAPTER, self.VARIANT, "echo-server"))

    def test_a_full_stderr_cannot_keep_the_server_from_starting(self):
        harness.assert_a_full_stderr_cannot_keep_the_server_from_starting(
            self, program(self.CHAPTER, self.VARIANT, "echo-server"))


FD_SETSIZE = 1024

for_each_build(Selectors, globals(), lambda ch: ch == "03-selectors")



class FullStdoutDemo(unittest.TestCase):
    """python/full_stdout.py: asyncio's pipe transports make stdin (and,
    with `transport`, stdout) non-blocking, a flag of the file description,
    which a terminal shares with the shell. The program must hand them back
    blocking, or the terminal stays non-blocking after it."""
    BUILDS = []
    SCRIPT = os.path.join(CHAPTERS_DIR, "03-selectors", "python",
                          "full_stdout.py")

    def run_demo(self, mode):
        in_r, in_w = os.pipe()   # in_r: the child's stdin, and still ours
        out_r, out_w = os.pipe()  # out_w: the child's stdout, and ours
        fds = [in_r, in_w, out_r, out_w]
        self.addCleanup(lambda: [os.close(fd) for fd in fds if fd >= 0])
        os.write(in_w, b"1\nexit\n")
        os.close(in_w)
        fds[1] = -1
        p = subprocess.run([sys.executable, self.SCRIPT, mode], stdin=in_r,
                           stdout=out_w, timeout=60)
        self.assertEqual(p.returncode, 0)
        for name, fd in (("stdin", in_r), ("stdout", out_w)):
            self.assertTrue(os.get_blocking(fd), "full_stdout.py %s left its "
                            "%s's file description non-blocking" % (mode, name))
        os.close(out_w)
        fds[3] = -1
        with os.fdopen(os.dup(out_r), "rb") as f:
            self.assertIn(b"fib(1) = 1 (", f.read())

    def test_print_mode_answers_and_leaves_stdin_blocking(self):
        self.run_demo("print")

    def test_transport_mode_answers_and_leaves_both_blocking(self):
        self.run_demo("transport")
