"""What chapter 02 shows: threads let the programs do several things at once."""
import signal
import socket
import struct
import threading
import time

import harness
from harness import (HELLO_RE, ProgramTest, connect, exchange, for_each_build,
                     pattern, program)


def hellos_between(proc, start, end):
    return sum(1 for when, line in list(proc.out_lines)
               if start <= when <= end and HELLO_RE.match(line))


class Threads(ProgramTest):

    def test_hellos_keep_coming_while_stdin_is_idle(self):
        p = self.start("hello", "--interval", "0.1")
        first, _ = p.wait_for_line(HELLO_RE.pattern, timeout=5)
        self.assertIsNotNone(first, "the first hello should come at once")
        time.sleep(1.0)  # ten intervals of silence
        n = hellos_between(p, first + 0.01, first + 1.0)
        self.assertGreaterEqual(n, 3, "only %d hellos in 1 s of idle input" % n)
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_hellos_keep_coming_while_fib_runs(self):
        p = self.start("hello", "--interval", "0.1")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        # fib(45), the cap: seconds of CPU on the main thread (about 2 s
        # plain, more under the sanitizers).
        start = time.monotonic()
        p.send("45\n")
        done, m = p.wait_for_line(r"^fib\(45\) = 1134903170", timeout=120)
        self.assertIsNotNone(m, "fib(45) never answered")
        busy = done - start
        self.assertGreater(busy, 0.8, "fib(45) took only %.2f s: the test "
                           "proves nothing" % busy)
        n = hellos_between(p, start + 0.01, done)
        self.assertGreaterEqual(n, int(busy / 0.1 / 3),
                                "only %d hellos in %.1f s of fib" % (n, busy))
        p.close_stdin()  # EOF ends the program
        self.assert_exits(p, 0, timeout=10)

    def test_exit_is_prompt_with_a_long_interval(self):
        p = self.start("hello", "--interval", "30")
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, timeout=5)[0])
        start = time.monotonic()
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=5)
        self.assertLess(time.monotonic() - start, 2.0,
                        "exit waited for the hello thread's interval")

    def test_hundred_clients_at_the_same_time(self):
        srv = self.start_server()
        n = 100
        socks = [connect(srv.port) for _ in range(n)]
        # All connected; every one talks before any finishes.
        for i, s in enumerate(socks):
            s.sendall(b"hi %d\n" % i)
        for i, s in enumerate(socks):
            want = b"hi %d\n" % i
            got = b""
            while len(got) < len(want):
                chunk = s.recv(64)
                self.assertTrue(chunk, "client %d: connection closed" % i)
                got += chunk
            self.assertEqual(got, want)
        results = [None] * n

        def finish(i):
            try:
                results[i] = exchange(socks[i], pattern(20000, seed=i))
            except Exception as e:  # reported below
                results[i] = e
        threads = [threading.Thread(target=finish, args=(i,))
                   for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        for i, s in enumerate(socks):
            self.assertEqual(results[i], pattern(20000, seed=i),
                             "client %d got different bytes back" % i)
            s.close()
        self.stop_server(srv)

    def test_a_reset_client_leaves_the_others_alone(self):
        srv = self.start_server()
        keep = connect(srv.port)
        keep.sendall(b"before")
        self.assertEqual(keep.recv(16), b"before")
        bad = connect(srv.port)
        bad.sendall(pattern(200000, seed=7))  # mid-transfer
        bad.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                       struct.pack("ii", 1, 0))
        bad.close()  # RST
        time.sleep(0.2)
        self.assertEqual(exchange(keep, pattern(50000, seed=3)),
                         pattern(50000, seed=3))
        keep.close()
        self.stop_server(srv)

    def test_sigint_with_idle_clients_connected(self):
        srv = self.start_server()
        idle = [connect(srv.port) for _ in range(10)]
        for s in idle:
            s.sendall(b"x")
            self.assertEqual(s.recv(4), b"x")
        start = time.monotonic()
        self.stop_server(srv, signal.SIGINT)
        self.assertLess(time.monotonic() - start, 2.0)
        for s in idle:
            s.settimeout(5)
            self.assertEqual(s.recv(4), b"", "the server should close us")
            s.close()

    def test_accept_reports_to_a_stderr_nobody_reads_cannot_freeze_it(self):
        harness.assert_accept_reports_cannot_freeze_the_server(
            self, program(self.CHAPTER, self.VARIANT, "echo-server"))


for_each_build(Threads, globals(), lambda ch: ch == "02-threads")
