"""What chapter 01 shows: a synchronous program does one thing at a time."""
import os
import subprocess
import sys
import time
import unittest

from harness import HELLO_RE, ProgramTest, connect, exchange, for_each_build, recv_for


class Sync(ProgramTest):

    def test_no_hellos_while_waiting_for_input(self):
        p = self.start("hello", "--interval", "0.1")
        _, first = p.wait_for_line(HELLO_RE.pattern, timeout=5)
        self.assertIsNotNone(first, "the first hello should come at once")
        # Ten intervals of silence: a sync program is stuck in read().
        time.sleep(1.0)
        self.assertEqual(sum(1 for _, l in p.out_lines if HELLO_RE.match(l)),
                         1, "a hello appeared while the program was idle")
        # An input line unblocks it: the answer, then the overdue hello.
        p.send("5\n")
        _, answer = p.wait_for_line(r"^fib\(5\) = 5", timeout=5)
        self.assertIsNotNone(answer)
        _, hello = p.wait_for_line(HELLO_RE.pattern, timeout=5)
        self.assertIsNotNone(hello, "the overdue hello should follow")
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_a_second_echo_client_waits_for_the_first(self):
        srv = self.start_server()
        first = connect(srv.port)
        self.assertEqual(exchange(first, b"one", half_close=False), b"one")
        second = connect(srv.port)  # the kernel queues it; nobody serves it
        second.sendall(b"two")
        self.assertEqual(recv_for(second, 1.0), b"",
                         "the second client was served while the first was "
                         "still connected")
        first.close()
        second.settimeout(10)
        self.assertEqual(second.recv(16), b"two")
        second.close()
        self.stop_server(srv)


for_each_build(Sync, globals(), lambda ch: ch == "01-sync")


class SyncPython(unittest.TestCase):
    """examples/hello.py, the chapter's Python hello to read next to the C.
    It is not held to the whole contract, but its cap must keep a typo from
    freezing it for minutes, as the C cap does: CPython's fib is about a
    hundred times slower, so the cap is the Python versions' 35, not 45."""
    BUILDS = []
    HELLO_PY = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "chapters", "01-sync", "examples",
        "hello.py")

    def test_python_hello_refuses_n_above_its_cap_at_once(self):
        # With a cap of 45, fib(36) ran for seconds, and fib(45) would
        # run for many minutes.
        run = subprocess.run([sys.executable, self.HELLO_PY],
                             input=b"36\n30\nexit\n", capture_output=True,
                             timeout=60)
        self.assertEqual(run.returncode, 0, run.stderr)
        self.assertIn(b"error: n is above the cap of 35", run.stderr)
        self.assertNotIn(b"fib(36)", run.stdout)
        self.assertIn(b"fib(30) = 832040", run.stdout)
