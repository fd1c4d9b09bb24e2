"""Chapter 02's race and deadlock demos, and its programs under
ThreadSanitizer (build/san-thread/). TSan reports make a program exit 66;
a report in the safe programs fails the test, and the unsafe counter must
produce one, which proves the tool is really watching."""
import os
import resource
import signal
import socket
import subprocess
import time
import unittest

import harness
from harness import HELLO_RE, Process, connect, exchange, pattern

CHAPTER = os.path.join(harness.CHAPTERS_DIR, "02-threads")
TSAN_DIR = os.path.join(CHAPTER, "build", "san-thread")
TSAN_ENV = dict(os.environ, TSAN_OPTIONS="exitcode=66:halt_on_error=0")


def run(path, *args, timeout=60):
    return subprocess.run([path, *args], stdin=subprocess.DEVNULL,
                          capture_output=True, timeout=timeout,
                          env=TSAN_ENV, text=True)


@unittest.skipUnless(os.path.isdir(CHAPTER), "no chapter 02")
class Races(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        subprocess.run(["make", "-s", "-C", CHAPTER, "all"], check=True,
                       stdout=subprocess.DEVNULL)
        subprocess.run(["make", "-s", "-C", CHAPTER, "all", "SAN=thread"],
                       check=True, stdout=subprocess.DEVNULL)

    def setUp(self):
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            p.kill()

    def assert_clean(self, rc, err, what):
        self.assertNotIn("ThreadSanitizer", err,
                         "%s: ThreadSanitizer report:\n%s" % (what, err[:3000]))
        self.assertIsNotNone(rc, "%s: still running\n%s" % (what, err))
        self.assertEqual(rc, 0, "%s: exit status %d\n%s" % (what, rc, err))

    def test_unsafe_counter_loses_updates(self):
        # A race is a matter of luck; on a busy machine one run may lose
        # nothing, five in a row hardly.
        for _ in range(5):
            r = run(os.path.join(CHAPTER, "build", "counter"), "--unsafe")
            if "updates were lost" in r.stdout:
                break
        self.assertIn("updates were lost", r.stdout,
                      "5 runs of 4 threads x 10 million racing increments "
                      "lost nothing: " + r.stdout)
        self.assertEqual(r.returncode, 1)

    def test_mutex_counter_is_exact(self):
        r = run(os.path.join(CHAPTER, "build", "counter"), "--mutex",
                "--iterations", "1000000")
        self.assertRegex(r.stdout, r"expected 4000000, got 4000000")
        self.assertEqual(r.returncode, 0)

    def test_counter_refuses_two_modes(self):
        r = run(os.path.join(CHAPTER, "build", "counter"), "--unsafe",
                "--mutex")
        self.assertIn("choose one mode", r.stderr)
        self.assertEqual(r.returncode, 2)
        self.assertEqual(r.stdout, "")

    def test_tsan_reports_the_unsafe_counter(self):
        r = run(os.path.join(TSAN_DIR, "counter"), "--unsafe",
                "--iterations", "100000")
        self.assertIn("ThreadSanitizer: data race", r.stderr)
        self.assertNotEqual(r.returncode, 0)

    def test_tsan_is_silent_on_the_mutex_counter(self):
        r = run(os.path.join(TSAN_DIR, "counter"), "--mutex",
                "--iterations", "100000")
        self.assert_clean(r.returncode, r.stderr, "counter --mutex")

    def test_deadlock_is_detected_not_hung(self):
        r = run(os.path.join(CHAPTER, "build", "counter"), "--deadlock",
                timeout=20)
        self.assertIn("deadlock detected after 1 s", r.stdout)
        self.assertEqual(r.returncode, 1)
        r = run(os.path.join(CHAPTER, "build", "counter"), "--ordered",
                timeout=20)
        self.assertIn("no deadlock", r.stdout)
        self.assertEqual(r.returncode, 0)

    def test_tsan_is_silent_on_hello(self):
        p = Process([os.path.join(TSAN_DIR, "hello"), "--interval", "0.05"])
        self.procs.append(p)
        self.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern, 10)[0])
        p.send("25\nnope\n\n")
        self.assertIsNotNone(p.wait_for_line(r"^fib\(25\) = 75025", 30)[0])
        p.send("exit\n")
        rc = p.wait(30)
        self.assert_clean(rc, p.stderr_text(), "hello")

    def test_thread_limit_refuses_clients_not_the_server(self):
        # 40 MiB of address space leaves room for only a few 8 MiB thread
        # stacks, so pthread_create() fails with EAGAIN for later clients.
        # Plain build only: the sanitizers need far more address space.
        limit = 40 * 1024 * 1024

        def small_address_space():
            resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        srv = subprocess.Popen(
            [os.path.join(CHAPTER, "build", "echo-server"), "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=small_address_space)
        try:
            port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
            socks, served, refused = [], 0, 0
            for _ in range(12):
                s = connect(port)
                socks.append(s)
                s.sendall(b"x")
                try:
                    got = s.recv(1)
                except OSError:
                    got = b""
                if got == b"x":
                    served += 1
                else:
                    refused += 1
            self.assertGreater(served, 0, "no client was served at all")
            self.assertGreater(refused, 0, "the limit never bit: the test "
                               "proves nothing")
            for s in socks:
                s.close()
            # Once the closed clients' threads have ended there is room
            # again. They end soon, but on a loaded machine not at once:
            # retry for a while before calling it a failure.
            deadline = time.monotonic() + 15
            while True:
                s = connect(port)
                try:
                    got = exchange(s, b"again")
                except OSError:
                    got = b""
                finally:
                    s.close()
                if got == b"again" or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
            self.assertEqual(got, b"again", "no room again after the "
                             "clients left")
            srv.send_signal(signal.SIGTERM)
            self.assertEqual(srv.wait(timeout=10), 0)
            err = srv.stderr.read().decode()
            self.assertIn("cannot start a thread", err)
        finally:
            if srv.poll() is None:
                srv.kill()
                srv.wait()
            srv.stdout.close()
            srv.stderr.close()

    def test_tsan_is_silent_on_echo_server(self):
        p = Process([os.path.join(TSAN_DIR, "echo-server"), "--port", "0"])
        self.procs.append(p)
        _, m = p.wait_for_line(r"^listening on .+:(\d+)$", 30)
        self.assertIsNotNone(m, p.stderr_text())
        port = int(m.group(1))
        socks = [connect(port) for _ in range(8)]
        for i, s in enumerate(socks[:4]):
            self.assertEqual(exchange(s, pattern(5000, i)), pattern(5000, i))
            s.close()
        # four left connected and idle: shutdown must wake their threads
        p.proc.send_signal(signal.SIGTERM)
        rc = p.wait(30)
        for s in socks[4:]:
            s.close()
        self.assert_clean(rc, p.stderr_text(), "echo-server")
