"""Every chapter: programs started with descriptor 0, 1 or 2 closed.

A parent may start a program with stdin or stdout closed (`prog <&- >&-`).
The first descriptor the program then opens (a pipe, a socket, an epoll
instance) takes the free number, and printf() writes into it. Each program
opens /dev/null on the closed ones first (options_open_std_fds()), so it
behaves as if that stream led nowhere: the server keeps serving, hello
answers and exits cleanly.
"""
import os
import socket
import time

from harness import (Process, ProgramTest, build, connect, exchange,
                     for_each_build, program)


def free_port():
    """A port nobody listens on right now (the kernel's pick, released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def connect_retrying(port, timeout=10.0):
    """Connect once the server listens: it cannot tell us when, with its
    stdout closed."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return connect(port)
        except ConnectionRefusedError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


class StdFds(ProgramTest):

    def start_closed(self, name, shell_redirect, *args):
        """Start a program through sh with shell_redirect (e.g. '>&-')."""
        path = program(self.CHAPTER, self.VARIANT, name)
        if not os.path.exists(path):
            build(self.CHAPTER, self.VARIANT)
        p = Process(["sh", "-c", 'exec "$@" ' + shell_redirect, "sh", path,
                     *args])
        self.procs.append(p)
        return p

    def test_echo_server_with_stdin_closed_serves(self):
        srv = self.start_closed("echo-server", "<&-", "--port", "0")
        _, m = srv.wait_for_line(r"^listening on (.+):(\d+)$", timeout=10)
        self.assertIsNotNone(m, "no 'listening on' line; stderr:\n"
                             + srv.stderr_text())
        with connect(int(m.group(2))) as s:
            self.assertEqual(exchange(s, b"stdin was closed\n"),
                             b"stdin was closed\n")
        self.stop_server(srv)

    def test_echo_server_with_stdin_and_stdout_closed_serves(self):
        # Its 'listening on' line goes to /dev/null: pick the port here.
        port = free_port()
        srv = self.start_closed("echo-server", "<&- >&-", "--port", str(port))
        with connect_retrying(port) as s:
            self.assertEqual(exchange(s, b"stdout was closed\n"),
                             b"stdout was closed\n")
        # Still serving after the first client (a stop at start-up, as when
        # the 'listening on' line went into a self-pipe, would show here).
        time.sleep(0.3)
        self.assertIsNone(srv.proc.poll(), "the server stopped on its own; "
                          "stderr:\n" + srv.stderr_text())
        with connect(port) as s:
            self.assertEqual(exchange(s, b"again\n"), b"again\n")
        self.stop_server(srv)

    def test_hello_with_stdout_closed_exits_cleanly(self):
        p = self.start_closed("hello", ">&-", "--interval", "100")
        p.send("5\n")
        p.close_stdin()
        self.assert_exits(p, 0, timeout=10)
        self.assertEqual(p.stderr_text(), "",
                         "nothing to complain about: stdout is /dev/null")

    def test_hello_with_stdin_closed_exits_cleanly(self):
        # Standard input is /dev/null: end of input at once, a clean exit.
        p = self.start_closed("hello", "<&-", "--interval", "100")
        self.assert_exits(p, 0, timeout=10)
        self.assertEqual(p.stderr_text(), "")


for_each_build(StdFds, globals())
