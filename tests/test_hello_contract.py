"""The hello contract of BOOK.md, checked against every chapter's hello."""
import fcntl
import os
import re
import select
import signal
import subprocess
import tempfile
import termios
import time

from harness import (HELLO_RE, SAN_ENV, ProgramTest, build, for_each_build,
                     for_each_python, program, sanitizer_report)

FIB_LINE = r"^fib\((\d+)\) = (\d+)( \([0-9.]+ s\))?$"
CAP = 45  # FIB_MAX_N; every chapter documents it in --help
PYTHON_CAP = 35  # the Python versions' cap: CPython's fib is 50-100x slower


def strip_time(line):
    """'fib(3) = 2 (0.000 s)' -> 'fib(3) = 2'"""
    return re.sub(r" \([0-9.]+ s\)$", "", line)


class HelloContract(ProgramTest):

    CAP = CAP

    def run_lines(self, text, timeout=20):
        """Feed text, then exit; return (stdout lines, stderr lines)."""
        p = self.start("hello", "--interval", "60")
        p.send(text)
        p.send("exit\n")
        self.assert_exits(p, 0, timeout)
        return [l for _, l in p.out_lines], p.err_lines

    def answers(self, out):
        return [l for l in out if not HELLO_RE.match(l)]

    def test_help_exits_0_and_states_the_cap(self):
        rc, out, err = self.run_quick("hello", "--help")
        self.assertEqual(rc, 0)
        self.assertIn("usage", out.lower())
        self.assertIn(str(self.CAP), out)

    def test_bad_options_are_usage_errors_with_status_2(self):
        for args in (["--bogus"], ["--interval"], ["--interval", "0"],
                     ["--interval", "-1"], ["--interval", "abc"],
                     ["--interval", "1e3"], ["--interval", "inf"],
                     ["--interval", "0.0000000001"],
                     ["stray-argument"]):
            rc, out, err = self.run_quick("hello", *args)
            self.assertEqual(rc, 2, args)
            self.assertEqual(out, "", args)
            self.assertTrue(err.strip(), "no message on stderr for %s" % args)

    def test_answers_natural_numbers_with_fib(self):
        out, err = self.run_lines("0\n1\n10\n20\n")
        got = [re.match(FIB_LINE, l).groups()[:2] for l in self.answers(out)]
        self.assertEqual(got, [("0", "0"), ("1", "1"), ("10", "55"),
                               ("20", "6765")])
        self.assertEqual(err, [])

    def test_allows_blanks_and_a_trailing_carriage_return(self):
        out, err = self.run_lines("  7 \t\r\n\t8\n")
        self.assertEqual([re.match(FIB_LINE, l).group(2)
                          for l in self.answers(out)], ["13", "21"])
        self.assertEqual(err, [])

    def test_each_bad_line_gets_one_error_and_the_program_carries_on(self):
        bad = ["abc", "-3", "12abc", "1.5", "99999999999999999999",
               str(self.CAP + 1), "x" * 500, "1" * 100000]
        out, err = self.run_lines("".join(b + "\n" + "3\n" for b in bad))
        self.assertEqual(len(err), len(bad), "stderr:\n" + "\n".join(err))
        for line in err:
            self.assertTrue(line.startswith("error:"), line)
        self.assertEqual([strip_time(l) for l in self.answers(out)],
                         ["fib(3) = 2"] * len(bad))

    def test_empty_lines_are_ignored(self):
        out, err = self.run_lines("\n   \n\r\n4\n")
        self.assertEqual([strip_time(l) for l in self.answers(out)], ["fib(4) = 3"])
        self.assertEqual(err, [])

    def test_two_lines_in_one_write_are_both_answered_at_once(self):
        p = self.start("hello", "--interval", "60")
        p.send("5\n6\n")
        answers = []
        deadline = time.monotonic() + 10
        while len(answers) < 2 and time.monotonic() < deadline:
            _, line = p.next_line(deadline - time.monotonic())
            if line is None:
                break
            if not HELLO_RE.match(line):
                answers.append(strip_time(line))
        self.assertEqual(answers, ["fib(5) = 5", "fib(6) = 8"])
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_exit_ends_the_program_promptly_with_status_0(self):
        p = self.start("hello", "--interval", "60")
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=3)

    def test_end_of_input_ends_the_program_promptly_with_status_0(self):
        p = self.start("hello", "--interval", "60")
        p.send("2\n")
        p.close_stdin()
        self.assert_exits(p, 0, timeout=3)
        self.assertIn("fib(2) = 1", [strip_time(l) for _, l in p.out_lines])

    def test_the_hello_at_start_survives_input_that_ends_at_once(self):
        # `hello </dev/null`: end of input comes before anything else. The
        # hello at start must still be printed, every time; a program that
        # lets end of input race its first hello loses it in some runs, so
        # one run proves little and 25 do.
        runs = 25
        for i in range(runs):
            rc, out, err = self.run_quick("hello", "--interval", "60")
            self.assertIsNone(sanitizer_report(err), err)
            self.assertEqual(rc, 0, "exit status; stderr:\n" + err)
            lines = out.splitlines()
            self.assertTrue(lines and HELLO_RE.match(lines[0]),
                            "run %d of %d: no hello at start, stdout was %r"
                            % (i + 1, runs, out))

    def test_a_last_line_without_newline_is_answered(self):
        p = self.start("hello", "--interval", "60")
        p.send("9")
        p.close_stdin()
        self.assert_exits(p, 0, timeout=3)
        self.assertIn("fib(9) = 34", [strip_time(l) for _, l in p.out_lines])

    def test_hellos_carry_the_current_unix_time(self):
        p = self.start("hello", "--interval", "0.2")
        when, m = p.wait_for_line(HELLO_RE.pattern, timeout=5)
        self.assertIsNotNone(m, "no hello at all")
        self.assertLess(abs(int(m.group(1)) - time.time()), 5)
        p.send("exit\n")
        self.assert_exits(p, 0)

    def test_every_stdout_line_is_whole(self):
        p = self.start("hello", "--interval", "0.05")
        for n in range(15, 31):
            p.send("%d\n" % n)
        time.sleep(0.3)
        p.send("exit\n")
        self.assert_exits(p, 0, timeout=10)
        for _, line in p.out_lines:
            self.assertTrue(HELLO_RE.match(line) or re.match(FIB_LINE, line),
                            "mangled line: %r" % line)

    def test_a_stop_signal_ends_it_while_stdout_is_full(self):
        # `hello | less`, less stops reading, Ctrl-C: hello is blocked in
        # write(1) on a full pipe when the signal comes. A hello whose
        # --help promises that SIGINT or SIGTERM ends it must keep that
        # promise there too: exit 0, promptly, not stay blocked until
        # SIGKILL. The pipe is made small (one page) so that it fills
        # after some 150 hellos, and nobody ever reads it.
        rc, out, err = self.run_quick("hello", "--help")
        if "SIGTERM" not in " ".join(out.split()):
            self.skipTest("this hello makes no promise about SIGTERM "
                          "(it takes the default action)")
        path = program(self.CHAPTER, self.VARIANT, "hello")
        if not os.path.exists(path):
            build(self.CHAPTER, self.VARIANT)
        for signo in (signal.SIGTERM, signal.SIGINT):
            with self.subTest(signal=signo.name):
                self._stop_with_stdout_full(path, signo)

    def _stop_with_stdout_full(self, path, signo):
        out_r, out_w = os.pipe()
        try:
            size = fcntl.fcntl(out_w, fcntl.F_SETPIPE_SZ, 4096)
            with tempfile.TemporaryFile() as err:
                proc = subprocess.Popen(
                    [path, "--interval", "0.001"], stdin=subprocess.PIPE,
                    stdout=out_w, stderr=err,
                    env=dict(os.environ, **SAN_ENV))
                try:
                    self._wait_until_blocked_on(proc, out_r, out_w, size)
                    proc.send_signal(signo)
                    try:
                        rc = proc.wait(timeout=5)
                    except subprocess.TimeoutExpired:
                        rc = None
                    err.seek(0)
                    text = err.read().decode("utf-8", "replace")
                    self.assertIsNotNone(
                        rc, "%s: still running 5 s after the signal, with "
                        "stdout full (blocked in: %s)"
                        % (signo.name, self._wchans(proc.pid)))
                    self.assertIsNone(sanitizer_report(text), text)
                    self.assertEqual(rc, 0, "%s: exit status; stderr:\n%s"
                                     % (signo.name, text[-2000:]))
                finally:
                    if proc.poll() is None:
                        proc.kill()
                        proc.wait()
                    proc.stdin.close()
        finally:
            os.close(out_r)
            os.close(out_w)

    @staticmethod
    def _wchans(pid):
        """What each thread of pid waits in, e.g. 'pipe_write'."""
        found = []
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                    found.append(f.read().strip())
        except OSError:
            pass
        return found

    def _wait_until_blocked_on(self, proc, out_r, out_w, size):
        """Until the pipe can take no more and the program has stopped
        writing to it since: either it holds all but less than a hello
        line and a thread waits in pipe_write, where the kernel shows it,
        or it polls not writable (no free page: a program that waits for
        room before it writes, as chapter 05's does, waits from then on)
        and its count stays put for half a second."""
        deadline = time.monotonic() + 20
        last, still_since = -1, time.monotonic()
        while time.monotonic() < deadline:
            self.assertIsNone(proc.poll(), "hello ended before the pipe "
                              "filled up")
            held = int.from_bytes(fcntl.ioctl(out_r, termios.FIONREAD,
                                              bytes(4)), "little")
            now = time.monotonic()
            if held != last:
                last, still_since = held, now
            if (held > size - 64 and
                    any("pipe_write" in w for w in self._wchans(proc.pid))):
                return
            full = not select.select([], [out_w], [], 0)[1]
            if held > 0 and full and now - still_since > 0.5:
                return
            time.sleep(0.02)
        self.fail("stdout never filled up: the pipe holds %d of %d bytes"
                  % (last, size))


# The Python versions (chapters 02-04 ship python/hello.py) meet the same
# contract, with their own cap.
for_each_python(HelloContract, globals(), "hello", CAP=PYTHON_CAP)
for_each_build(HelloContract, globals())
