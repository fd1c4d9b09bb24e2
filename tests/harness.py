"""Drive the chapters' programs the way a user would: through pipes and
loopback sockets.

Everything here is plain Python 3 standard library. Each test starts its own
processes, listens on ports the kernel picks (--port 0) and bounds every wait,
so a broken program makes a test fail, never hang.

Two builds of every chapter are driven: "plain" (build/) and "sanitized"
(build/san-address-undefined/, AddressSanitizer + UndefinedBehaviorSanitizer).
A sanitizer report makes the program exit non-zero and is quoted in the
failure message.
"""
import fcntl
import importlib
import os
import queue
import re
import selectors
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
import unittest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHAPTERS_DIR = os.path.join(REPO, "chapters")

VARIANTS = {"plain": None, "sanitized": "address,undefined"}

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=66",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1",
}

HELLO_RE = re.compile(r"^(\d+) - Hello world!$")


def bench_module(name):
    """Import bench/NAME.py (c10k, userspace, stop_under_load) to use or
    test its functions."""
    bench = os.path.join(REPO, "bench")
    sys.path.insert(0, bench)
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(bench)


def chapters():
    """Names of the chapters that exist (have a Makefile), in order."""
    return sorted(
        name for name in os.listdir(CHAPTERS_DIR)
        if os.path.isfile(os.path.join(CHAPTERS_DIR, name, "Makefile")))


def build_dir(chapter, variant):
    san = VARIANTS[variant]
    sub = "build" if san is None else "build/san-" + san.replace(",", "-")
    return os.path.join(CHAPTERS_DIR, chapter, sub)


def build(chapter, variant):
    """Build a chapter's programs (make is quick when nothing changed)."""
    cmd = ["make", "-s", "-C", os.path.join(CHAPTERS_DIR, chapter), "all"]
    if VARIANTS[variant]:
        cmd.append("SAN=" + VARIANTS[variant])
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def program(chapter, variant, name):
    if variant == "python":  # a chapter's Python version: python/NAME.py
        return os.path.join(CHAPTERS_DIR, chapter, "python", name + ".py")
    return os.path.join(build_dir(chapter, variant), name)


def needs_io_uring(chapter):
    """Whether a chapter's programs run on io_uring (chapter 06 on: it has
    src/proactor.c), and so cannot run where io_uring is refused."""
    return os.path.isfile(os.path.join(CHAPTERS_DIR, chapter, "src",
                                       "proactor.c"))


_IO_URING_MISSING = {}


def io_uring_missing(chapter):
    """Why @chapter's programs cannot run here, or None if they can (or the
    chapter does not need io_uring). Probed once per chapter and process:
    its plain hello, with no input, ends at once with status 0 where
    io_uring works, and otherwise says why in one line and exits 1 (an old
    kernel, a container's seccomp profile, kernel.io_uring_disabled)."""
    if not needs_io_uring(chapter):
        return None
    if chapter not in _IO_URING_MISSING:
        hello = program(chapter, "plain", "hello")
        if not os.path.exists(hello):
            build(chapter, "plain")
        why = None
        try:
            r = subprocess.run([hello], stdin=subprocess.DEVNULL,
                               capture_output=True, timeout=10)
            err = r.stderr.decode(errors="replace").strip()
            if r.returncode != 0 and "io_uring" in err:
                why = err.splitlines()[-1]
        except subprocess.TimeoutExpired:
            pass  # not a refusal: let the tests themselves say what is wrong
        _IO_URING_MISSING[chapter] = why
    return _IO_URING_MISSING[chapter]


def sanitizer_report(text):
    """The first lines of a sanitizer report in text, or None."""
    m = re.search(r"^.*(Sanitizer|runtime error:).*$", text, re.M)
    if not m:
        return None
    return text[m.start():m.start() + 2000]


class Process:
    """A program under test, with stdout and stderr collected line by line,
    each line stamped with the monotonic time it arrived."""

    def __init__(self, argv, stdin=subprocess.PIPE, read_stderr=True,
                 stderr_pipe_size=None):
        """read_stderr=False: stderr is a pipe that nobody reads while the
        program runs (as when its reader is stuck or gone); what the pipe
        holds is read once the program has exited. stderr_pipe_size: that
        pipe holds this many bytes (Linux rounds it up to a page) instead
        of 64 KiB, so that a test fills it after a known, small amount of
        logging."""
        env = dict(os.environ, **SAN_ENV)
        self.argv = argv
        err_w = subprocess.PIPE
        if stderr_pipe_size is not None:
            # Sized before the program starts: F_SETPIPE_SZ fails with
            # EBUSY on a pipe that already holds more than the new size.
            err_r, err_w = os.pipe()
            fcntl.fcntl(err_w, fcntl.F_SETPIPE_SZ, stderr_pipe_size)
        try:
            self.proc = subprocess.Popen(
                argv, stdin=stdin, stdout=subprocess.PIPE, stderr=err_w,
                env=env, bufsize=0)
        except BaseException:
            if stderr_pipe_size is not None:
                os.close(err_r)
            raise
        finally:
            if stderr_pipe_size is not None:
                os.close(err_w)
        if stderr_pipe_size is not None:
            self.proc.stderr = os.fdopen(err_r, "rb", buffering=0)
        self.started = time.monotonic()
        self.out = queue.Queue()
        self.out_lines = []   # every (time, line) read so far from stdout
        self.err_lines = []   # every line of stderr
        self._readers = {}    # stream -> the thread that reads it
        for stream, is_stdout in ((self.proc.stdout, True),
                                  (self.proc.stderr, False)):
            if is_stdout or read_stderr:
                self._readers[stream] = threading.Thread(
                    target=self._pump, args=(stream, is_stdout), daemon=True)
                self._readers[stream].start()
        self._stderr_unread = not read_stderr

    def _pump(self, stream, is_stdout):
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if is_stdout:
                item = (time.monotonic(), line)
                self.out_lines.append(item)
                self.out.put(item)
            else:
                self.err_lines.append(line)
        if is_stdout:
            self.out.put((time.monotonic(), None))  # end of stream

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def close_stdin(self):
        self.proc.stdin.close()

    def next_line(self, timeout):
        """Next stdout line as (arrival time, text); text None at EOF;
        (None, None) if nothing came within timeout seconds."""
        try:
            return self.out.get(timeout=timeout)
        except queue.Empty:
            return None, None

    def wait_for_line(self, pattern, timeout):
        """Skip stdout lines until one matches; return (time, match) or
        (None, None) on timeout or end of output."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            when, line = self.next_line(max(0.0, deadline - time.monotonic()))
            if line is None:
                return None, None
            m = regex.search(line)
            if m:
                return when, m

    def wait(self, timeout):
        """Wait for exit; returns the status, or None if still running."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        self._join_readers()
        return rc

    def _join_readers(self):
        """After exit: let the readers reach end of file, and collect an
        unread stderr. A reader must finish before its stream is closed:
        closing a file under a thread blocked in readline() makes that
        thread die with 'ValueError: I/O operation on closed file'."""
        for t in self._readers.values():
            t.join(timeout=5)
        if self._stderr_unread:
            self._stderr_unread = False
            data = self.proc.stderr.read()
            self.err_lines = data.decode("utf-8", "replace").splitlines()

    def stderr_text(self):
        return "\n".join(self.err_lines)

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._join_readers()
        for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            reader = self._readers.get(stream)
            if stream and not (reader and reader.is_alive()):
                try:
                    stream.close()
                except OSError:
                    pass


class ProgramTest(unittest.TestCase):
    """Base for tests that run one chapter's build. Subclasses set CHAPTER
    and VARIANT (see for_each_build)."""

    CHAPTER = None
    VARIANT = "plain"

    def setUp(self):
        self.procs = []
        if self.CHAPTER is not None and self.VARIANT != "python":
            why = io_uring_missing(self.CHAPTER)
            if why is not None:
                self.skipTest(why)

    def tearDown(self):
        for p in self.procs:
            p.kill()

    def start(self, name, *args, stdin=subprocess.PIPE, read_stderr=True,
              stderr_pipe_size=None):
        path = program(self.CHAPTER, self.VARIANT, name)
        if not os.path.exists(path):
            build(self.CHAPTER, self.VARIANT)
        p = Process([path, *args], stdin=stdin, read_stderr=read_stderr,
                    stderr_pipe_size=stderr_pipe_size)
        self.procs.append(p)
        return p

    def run_quick(self, name, *args, timeout=10):
        """Run to completion with no input: (status, stdout, stderr)."""
        path = program(self.CHAPTER, self.VARIANT, name)
        if not os.path.exists(path):
            build(self.CHAPTER, self.VARIANT)
        r = subprocess.run([path, *args], stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=timeout,
                           env=dict(os.environ, **SAN_ENV))
        return r.returncode, r.stdout.decode(), r.stderr.decode()

    def assert_exits(self, proc, status=0, timeout=5.0):
        rc = proc.wait(timeout)
        self.assertIsNotNone(rc, "%s still running after %.1f s"
                             % (os.path.basename(proc.argv[0]), timeout))
        report = sanitizer_report(proc.stderr_text())
        self.assertIsNone(report, "sanitizer report:\n%s" % report)
        self.assertEqual(rc, status, "exit status; stderr:\n"
                         + proc.stderr_text()[-2000:])

    # ---- echo-server helpers ----

    def start_server(self, *args, read_stderr=True, stderr_pipe_size=None):
        srv = self.start("echo-server", "--port", "0", *args,
                         read_stderr=read_stderr,
                         stderr_pipe_size=stderr_pipe_size)
        _, m = srv.wait_for_line(r"^listening on (.+):(\d+)$", timeout=10)
        self.assertIsNotNone(m, "no 'listening on' line; stderr:\n"
                             + srv.stderr_text())
        srv.host = m.group(1).strip("[]")
        srv.port = int(m.group(2))
        return srv

    def stop_server(self, srv, signo=signal.SIGTERM, timeout=3.0):
        """Signal the server; it must exit 0, cleanly, within timeout. The
        contract says one second; the margin absorbs a loaded machine."""
        srv.proc.send_signal(signo)
        self.assert_exits(srv, 0, timeout)


def for_each_build(base, namespace, chapter_filter=None):
    """Make one concrete TestCase per (chapter, variant) from an abstract
    base, named like HelloContract_03_selectors_sanitized."""
    for chapter in chapters():
        if chapter_filter and not chapter_filter(chapter):
            continue
        for variant in VARIANTS:
            name = "%s_%s_%s" % (base.__name__,
                                 chapter.replace("-", "_"), variant)
            namespace[name] = type(name, (base,), {
                "CHAPTER": chapter, "VARIANT": variant,
                "__module__": namespace["__name__"]})
    # The abstract base must not run on its own.
    namespace.pop(base.__name__, None)


def for_each_python(base, namespace, name, **attributes):
    """Like for_each_build, for the chapters that ship a Python version of
    program @name (chapters/NN-x/python/NAME.py, run as it is): one
    TestCase each, named like HelloContract_03_selectors_python, with
    VARIANT "python" and @attributes set on the class."""
    for chapter in chapters():
        if not os.path.isfile(program(chapter, "python", name)):
            continue
        cls = "%s_%s_python" % (base.__name__, chapter.replace("-", "_"))
        namespace[cls] = type(cls, (base,), dict(
            attributes, CHAPTER=chapter, VARIANT="python",
            __module__=namespace["__name__"]))


def connect(port, host="127.0.0.1", timeout=10.0):
    s = socket.create_connection((host, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def pattern(n, seed=0):
    """n bytes that are not periodic with a short period, so a lost or
    repeated chunk cannot go unnoticed."""
    out = bytearray(n)
    x = (seed * 2654435761 + 12345) & 0xFFFFFFFF
    for i in range(n):
        x = (x * 1103515245 + 12345) & 0xFFFFFFFF
        out[i] = x >> 24
    return bytes(out)


def exchange(sock, data, timeout=30.0, half_close=True):
    """Send data while reading the echo at the same time (so neither side can
    deadlock on full buffers); return everything received until EOF, or
    until len(data) bytes if half_close is False."""
    sock.setblocking(False)
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
    sent, received = 0, bytearray()
    deadline = time.monotonic() + timeout
    done_sending = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("echo exchange: %d of %d bytes back after "
                                   "%.0f s" % (len(received), len(data),
                                               timeout))
            for _, events in sel.select(min(left, 1.0)):
                if events & selectors.EVENT_WRITE and not done_sending:
                    try:
                        sent += sock.send(data[sent:sent + 65536])
                    except BlockingIOError:
                        pass
                    if sent == len(data):
                        done_sending = True
                        if half_close:
                            sock.shutdown(socket.SHUT_WR)
                        sel.modify(sock, selectors.EVENT_READ)
                if events & selectors.EVENT_READ:
                    try:
                        chunk = sock.recv(65536)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        return bytes(received)
                    received += chunk
            if not half_close and done_sending and len(received) >= len(data):
                return bytes(received)
    finally:
        sel.close()
        sock.setblocking(True)


def recv_for(sock, seconds):
    """Whatever arrives on sock within seconds (b'' if nothing)."""
    sock.settimeout(seconds)
    try:
        return sock.recv(65536)
    except socket.timeout:
        return b""
    finally:
        sock.settimeout(10.0)


def assert_hellos_between_answers(test, proc, n=42, lines=4, interval=0.05):
    """Several lines in one write, each fib longer than the interval: the
    loop must answer one line per turn, so a hello (due during each fib)
    comes between two answers instead of all answers coming first. Only
    the order of the output is checked, never its timing. proc: a hello
    started with --interval <interval> that has printed its first hello."""
    proc.send(("%d\n" % n) * lines)
    answer_re = re.compile(r"^fib\(%d\) = \d+ \(([0-9.]+) s\)$" % n)
    seen = []           # 'A' for an answer, 'H' for a hello, in order
    seconds = []
    deadline = time.monotonic() + 60 * lines
    while seen.count("A") < lines:
        _, line = proc.next_line(max(0.0, deadline - time.monotonic()))
        test.assertIsNotNone(line, "only %d of %d answers came"
                             % (seen.count("A"), lines))
        m = answer_re.match(line)
        if m:
            seen.append("A")
            seconds.append(float(m.group(1)))
        elif HELLO_RE.match(line):
            seen.append("H")
    if min(seconds) < 2 * interval:
        test.skipTest("fib(%d) took only %.3f s: no hello fell due during "
                      "it, the test proves nothing" % (n, min(seconds)))
    order = "".join(seen)
    first = order.index("A")
    test.assertNotIn("AA", order[first:],
                     "two answers with no hello between them although a "
                     "hello fell due during each fib (output order: %s): "
                     "the loop answered a whole buffer of lines at once"
                     % order)


def wait_for_a_busy_thread(pid, timeout, cpu_s=0.05):
    """Wait until a thread of process pid, other than its main thread, has
    used cpu_s seconds of CPU more than when the wait began: a worker is
    computing. True then; False if none did within timeout seconds."""
    tick = os.sysconf("SC_CLK_TCK")

    def used():
        ticks = {}
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            return ticks
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue  # that thread has just ended
            if int(tid) != pid:
                ticks[tid] = int(fields[11]) + int(fields[12])  # utime+stime
        return ticks

    start = used()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for tid, ticks in used().items():
            if (ticks - start.get(tid, 0)) / tick >= cpu_s:
                return True
        time.sleep(0.01)
    return False


def assert_client_names_a_faulty_echo(test, client):
    """Run echo-client against tests/fixtures/faulty_echo.py, the faulty
    echo server the load client's tests use, once per fault: every
    connection must fail, exit status 1, and stderr must name the fault in
    words (not as some errno's text). A stream one byte short (the server
    leaves a byte out and keeps the connection open) must end by the
    client's --timeout, not hang."""
    faulty = os.path.join(REPO, "tests", "fixtures", "faulty_echo.py")
    said = {("--corrupt", "0"): "the echo differs from what was sent",
            ("--drop", "4999"): "nothing came back for 0.5 s",
            ("--extra",): "the server sent more bytes than it was sent"}
    for fault, words in said.items():
        with test.subTest(fault=fault):
            srv = Process([sys.executable, faulty, "--port", "0", *fault])
            try:
                _, m = srv.wait_for_line(r"^listening on (.+):(\d+)$",
                                         timeout=20)
                test.assertIsNotNone(m, "faulty_echo.py did not start: "
                                     + srv.stderr_text())
                start = time.monotonic()
                r = subprocess.run([client, "--port", m.group(2),
                                    "--connections", "3", "--bytes", "5000",
                                    "--timeout", "0.5"],
                                   capture_output=True, timeout=60,
                                   env=dict(os.environ, **SAN_ENV))
            finally:
                srv.kill()
            err = r.stderr.decode()
            test.assertEqual(r.returncode, 1, err)
            test.assertIn(words, err)
            test.assertRegex(r.stdout.decode(),
                             r"3 connections, 0 verified, 3 failed")
            test.assertLess(time.monotonic() - start, 30,
                            "the client must give up on its own")


def rss_kib(pid):
    """A process's resident memory (VmRSS), in KiB."""
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def raise_nofile(want):
    """Raise our soft RLIMIT_NOFILE towards @want (never past the hard
    limit), so that a test can open that many sockets; return the limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def assert_a_burst_of_stop_signals_ends_it_with_status_0(test, proc):
    """A supervisor that repeats SIGTERM, or a user who presses Ctrl-C
    twice: every signal of the burst must find the program still ready
    for it, up to its very end, so that it exits 0 rather than 'killed by
    SIGTERM'. A program that hands the signals back their default action
    (closing its loop does) and only then finishes (flushes, frees, and
    under the sanitizers checks for leaks) dies of the next signal. proc
    is a started Process that has shown it is running; SIGTERM goes to it
    every 0.2 ms until it has exited, for at most 5 s."""
    deadline = time.monotonic() + 5
    while proc.proc.poll() is None and time.monotonic() < deadline:
        proc.proc.send_signal(signal.SIGTERM)
        time.sleep(0.0002)
    test.assert_exits(proc, 0, timeout=5)

def _server_with_24_fds_and_stderr(path, room):
    """Start the echo-server at path with 24 descriptors (prlimit) and
    stderr a one-page pipe that nobody reads, full but for room bytes.
    Returns the Popen (stdout a pipe) and the pipe's read end, which the
    caller closes."""
    err_r, err_w = os.pipe()
    size = fcntl.fcntl(err_w, fcntl.F_SETPIPE_SZ, 4096)
    os.write(err_w, b"." * (size - room))
    try:
        srv = subprocess.Popen(["prlimit", "--nofile=24:24", path, "--port",
                                "0"], stdout=subprocess.PIPE, stderr=err_w,
                               env=dict(os.environ, **SAN_ENV))
    finally:
        os.close(err_w)
    return srv, err_r


def _sigterm_must_end_it_with_status_0(test, srv):
    srv.send_signal(signal.SIGTERM)
    try:
        status = srv.wait(timeout=5)
    except subprocess.TimeoutExpired:
        status = None
    test.assertEqual(status, 0, "exit status after SIGTERM (None: still "
                     "running 5 s later)")


def assert_a_full_stderr_cannot_keep_the_server_from_starting(test, path):
    """A server restarted with stderr a pipe that is full already (its
    reader stalled while the last run logged): what it says on starting
    (the backend it uses, a low descriptor limit) must not hold it before
    it listens. The server gets 24 descriptors (prlimit), so it has the
    limit's warning to say too. It must print 'listening on', echo, and
    stop on SIGTERM with status 0."""
    srv, err_r = _server_with_24_fds_and_stderr(path, room=0)
    try:
        ready = selectors.DefaultSelector()
        ready.register(srv.stdout, selectors.EVENT_READ)
        test.assertTrue(ready.select(5), "no 'listening on' line within 5 s "
                        "with stderr a full pipe")
        ready.close()
        port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
        with connect(port, timeout=5) as c:
            c.sendall(b"started?")
            test.assertEqual(c.recv(64), b"started?")
        _sigterm_must_end_it_with_status_0(test, srv)
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        srv.stdout.close()
        os.close(err_r)


def assert_never_reader_is_bounded(test, srv, bound_kib):
    """A client sends and never reads. The server must push back (its
    sends stop being taken within 30 s), keep serving another client,
    grow by less than @bound_kib of RSS, and hand every byte back, in
    order, once the client reads again."""
    warm = connect(srv.port)      # the allocator's first growth is not ours
    test.assertEqual(exchange(warm, pattern(1 << 20, seed=1)),
                     pattern(1 << 20, seed=1))
    warm.close()
    time.sleep(0.2)
    before = rss_kib(srv.proc.pid)
    hog = connect(srv.port)
    hog.setblocking(False)
    chunk = pattern(65536, seed=2)
    sent, stuck_since = bytearray(), None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            sent += chunk[:hog.send(chunk)]
            stuck_since = None
        except BlockingIOError:
            stuck_since = stuck_since or time.monotonic()
            if time.monotonic() - stuck_since > 1.0:
                break
            time.sleep(0.01)
    test.assertIsNotNone(stuck_since, "the server took %d bytes and never "
                         "pushed back" % len(sent))
    other = connect(srv.port)
    test.assertEqual(exchange(other, pattern(200000, seed=3)),
                     pattern(200000, seed=3))
    other.close()
    grown = rss_kib(srv.proc.pid) - before
    test.assertLess(grown, bound_kib, "server RSS grew by %d KiB while a "
                    "client sent %d bytes without reading" % (grown, len(sent)))
    hog.setblocking(True)
    hog.settimeout(10)
    got = bytearray()
    while len(got) < len(sent):
        data = hog.recv(1 << 20)
        test.assertTrue(data, "connection closed early")
        got += data
    test.assertTrue(got == sent, "the bytes came back changed or out of order")
    hog.close()


def wait_until_blocked_writing_a_pipe(pid, timeout):
    """Wait until a thread of process pid sleeps in a pipe write (the
    kernel's wchan says pipe_write, or anon_pipe_write on newer kernels),
    or in select() or poll() (poll_schedule_timeout: a program that waits
    for room before it writes), and has stayed there for a moment. True
    then, False if not within timeout seconds."""
    def writing():
        try:
            tids = os.listdir("/proc/%d/task" % pid)
        except OSError:
            return False
        for tid in tids:
            try:
                with open("/proc/%d/task/%s/wchan" % (pid, tid)) as f:
                    where = f.read()
                    if "pipe_write" in where or "poll_schedule" in where:
                        return True
            except OSError:
                continue
        return False

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if writing():
            time.sleep(0.2)
            if writing():
                return True
        time.sleep(0.02)
    return False


def assert_a_stop_ends_hello_while_stderr_is_full(test):
    """`hello 2>errors.pipe`, the pipe's reader gone quiet, input full of
    bad lines: each bad line's error blocks on the full stderr. SIGTERM or
    SIGINT must still end the program with status 0 within seconds: the
    write the signal cuts short is no reason to write the next error line,
    which would block on the same full pipe with no signal left to free
    it. The pipe is one page, full after some 75 error lines; 2000 bad
    lines are queued on stdin."""
    for signo in (signal.SIGTERM, signal.SIGINT):
        with test.subTest(signal=signo.name):
            p = test.start("hello", "--interval", "60", read_stderr=False,
                           stderr_pipe_size=4096)
            test.assertIsNotNone(p.wait_for_line(HELLO_RE.pattern,
                                                 timeout=10)[0])
            p.send("x\n" * 2000)
            test.assertTrue(wait_until_blocked_writing_a_pipe(p.proc.pid, 20),
                            "hello never blocked on its full stderr")
            p.proc.send_signal(signo)
            test.assert_exits(p, 0, timeout=5)


def assert_client_gives_up_on_a_server_that_never_accepts(test, client):
    """A listener that never accepts, its accept queue full: the kernel
    answers no further handshake, and a connect() would wait for the
    kernel's own give-up, minutes later. echo-client's --timeout must
    bound the connect as it bounds each echo: every connection fails,
    said in words, exit status 1, within seconds."""
    with socket.socket() as ls:
        ls.bind(("127.0.0.1", 0))
        ls.listen(1)
        fillers = []
        try:
            for _ in range(8):          # past the queue's backlog + 1
                s = socket.socket()
                fillers.append(s)
                s.setblocking(False)
                s.connect_ex(ls.getsockname())
            time.sleep(0.2)
            start = time.monotonic()
            try:
                r = subprocess.run(
                    [client, "--port", str(ls.getsockname()[1]),
                     "--connections", "3", "--bytes", "5000",
                     "--timeout", "0.5"],
                    capture_output=True, timeout=60,
                    env=dict(os.environ, **SAN_ENV))
            except subprocess.TimeoutExpired:
                test.fail("echo-client still connecting after 60 s to a "
                          "server that never accepts")
        finally:
            for s in fillers:
                s.close()
    err = r.stderr.decode()
    test.assertEqual(r.returncode, 1, err)
    test.assertIn("not connected within 0.5 s", err)
    test.assertRegex(r.stdout.decode(), r"3 connections, 0 verified, 3 failed")
    test.assertLess(time.monotonic() - start, 30,
                    "the client must give up on its own")


def assert_accept_reports_cannot_freeze_the_server(test, path):
    """The server reports each out-of-descriptors episode on stderr (once
    when accept() starts failing, once when it works again). With stderr
    a pipe nobody reads, a client that keeps bringing the server to its
    descriptor limit fills the pipe: the next report must not block the
    server, which must go on echoing and stop on SIGTERM with status 0.
    The server gets 24 descriptors (prlimit), so 25 clients at once are
    an episode; the pipe (one page) is filled up to 200 bytes before the
    server starts, so two episodes fill it and ten are plenty."""
    srv, err_r = _server_with_24_fds_and_stderr(path, room=200)
    try:
        port = int(srv.stdout.readline().decode().rsplit(":", 1)[1])
        for _ in range(10):
            socks = [connect(port) for _ in range(25)]
            time.sleep(0.05)
            for s in socks:
                s.close()
            time.sleep(0.25)  # past the accept pause: accepting again
        with connect(port, timeout=5) as c:
            c.sendall(b"still there?")
            try:
                got = c.recv(64)
            except socket.timeout:
                got = None
        test.assertEqual(got, b"still there?", "no echo within 5 s once "
                         "the server's stderr, a pipe nobody reads, filled")
        _sigterm_must_end_it_with_status_0(test, srv)
        err = b""
        while True:
            chunk = os.read(err_r, 65536)
            if not chunk:
                break
            err += chunk
        text = err.decode("utf-8", "replace")
        test.assertIsNone(sanitizer_report(text), text[-2000:])
    finally:
        if srv.poll() is None:
            srv.kill()
            srv.wait()
        srv.stdout.close()
        os.close(err_r)


def assert_a_stop_during_an_inline_fib_ends_hello_with_stdout_full(
        test, args=("--inline",)):
    """`hello --inline | less`, less no longer reading, a fib typed, and
    Ctrl-C while it computes. The signal comes while the loop's thread
    computes, so it interrupts no write; the answer's write then finds the
    pipe full. It must not block there for ever: the program must end,
    status 0. The pipe (one page) is filled before hello starts so that
    the first hello fits and the answer does not. args make hello compute
    fib on the loop's thread (chapter 04's always does: args=())."""
    path = program(test.CHAPTER, test.VARIANT, "hello")
    if not os.path.exists(path):
        build(test.CHAPTER, test.VARIANT)
    for signo in (signal.SIGTERM, signal.SIGINT):
        with test.subTest(signal=signo.name):
            out_r, out_w = os.pipe()
            fcntl.fcntl(out_w, fcntl.F_SETPIPE_SZ, 4096)
            os.write(out_w, b"." * (4096 - 40))
            try:
                p = subprocess.Popen(
                    [path, *args, "--interval", "60"],
                    stdin=subprocess.PIPE, stdout=out_w,
                    stderr=subprocess.PIPE, env=dict(os.environ, **SAN_ENV))
            finally:
                os.close(out_w)
            try:
                time.sleep(0.5)           # the first hello is out
                p.stdin.write(b"42\n")    # a second or more on the loop
                p.stdin.flush()
                time.sleep(0.3)
                p.send_signal(signo)
                try:
                    status = p.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    status = None
                test.assertEqual(status, 0, "exit status (None: still "
                                 "running 15 s after the signal)")
                err = p.stderr.read().decode("utf-8", "replace")
                test.assertIsNone(sanitizer_report(err), err[-2000:])
            finally:
                if p.poll() is None:
                    p.kill()
                    p.wait()
                p.stdin.close()
                p.stderr.close()
                os.close(out_r)
