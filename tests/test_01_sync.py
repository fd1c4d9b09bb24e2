"""What chapter 01 shows: a synchronous program does one thing at a time."""
import time

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
