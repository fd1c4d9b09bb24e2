"""The checks on the text have teeth: transcripts.py, links.py and copies.py
each pass on a good example and fail on a bad one, in a scratch folder; the
exercise runner (exercises/check.py) is bounded when a run's output never
ends."""
import contextlib
import importlib.util
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
import unittest

import copies
import links
import transcripts

FENCE = "`" * 3


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(textwrap.dedent(text))


def kill_pid_in(pidfile):
    """End the process whose id a test's helper wrote to pidfile."""
    try:
        with open(pidfile) as f:
            os.kill(int(f.read()), signal.SIGKILL)
    except (OSError, ValueError):
        pass


class Scratch(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="textchecks-")
        self.addCleanup(shutil.rmtree, self.dir)
        self.chapter = os.path.join(self.dir, "chapters", "01-x")
        write(os.path.join(self.chapter, "Makefile"), "all:\n\t@true\n")

    def chapter_md(self, body):
        md = os.path.join(self.chapter, "CHAPTER.md")
        write(md, body)
        return md

    def check(self, md, update=False):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            bad = transcripts.check_file(md, update)
        return bad, out.getvalue()


class TranscriptTest(Scratch):
    def block(self, marker, *lines):
        return "%s\n%sconsole\n%s\n%s\n" % (marker, FENCE, "\n".join(lines),
                                            FENCE)

    def test_a_matching_run_passes_after_normalising(self):
        md = self.chapter_md(self.block(
            "<!-- transcript -->",
            "$ echo \"$(date +%s) - Hello world!\"; echo 'took 0.5 s at 0x1f'",
            "1700000000 - Hello world!",
            "took 1.250 s at 0xdeadbeef"))
        self.assertEqual(self.check(md)[0], 0)

    def test_a_different_output_fails_with_a_diff_naming_the_line(self):
        md = self.chapter_md("title\n\n" + self.block(
            "<!-- transcript -->", "$ echo second", "first"))
        bad, out = self.check(md)
        self.assertEqual(bad, 1)
        self.assertIn("CHAPTER.md:3", out)
        self.assertIn("-first", out)
        self.assertIn("+second", out)

    def test_stderr_is_compared_only_when_merged(self):
        cmd = "$ echo out; echo err >&2"
        md = self.chapter_md(self.block("<!-- transcript -->", cmd, "out"))
        self.assertEqual(self.check(md)[0], 0)
        md = self.chapter_md(self.block("<!-- transcript: stderr=merge -->",
                                        cmd, "out"))
        self.assertEqual(self.check(md)[0], 1)

    def test_exit_status_and_timeout_are_checked(self):
        md = self.chapter_md(self.block("<!-- transcript -->", "$ false"))
        self.assertEqual(self.check(md)[0], 1)
        md = self.chapter_md(self.block("<!-- transcript: status=1 -->",
                                        "$ false"))
        self.assertEqual(self.check(md)[0], 0)
        md = self.chapter_md(self.block("<!-- transcript: timeout=0.5 -->",
                                        "$ sleep 5"))
        bad, out = self.check(md)
        self.assertEqual(bad, 1)
        self.assertIn("timed out", out)

    def test_a_process_that_left_the_group_cannot_hang_the_check(self):
        # The command times out and its group is killed, but a process it
        # started in a session of its own still holds the output open:
        # reading that output to its end would wait for that process.
        pidfile = os.path.join(self.dir, "escaped.pid")
        self.addCleanup(kill_pid_in, pidfile)
        escape = ("python3 -c 'import os, sys, time; os.setsid(); "
                  "open(sys.argv[1], \"w\").write(str(os.getpid())); "
                  "time.sleep(60)' %s" % pidfile)
        md = self.chapter_md(self.block("<!-- transcript: timeout=2 -->",
                                        "$ %s & sleep 30" % escape))
        saved = transcripts.DRAIN_TIMEOUT
        transcripts.DRAIN_TIMEOUT = 1.0
        start = time.monotonic()
        try:
            bad, out = self.check(md)
        finally:
            transcripts.DRAIN_TIMEOUT = saved
        self.assertEqual(bad, 1, out)
        self.assertIn("timed out after 2 s", out)
        self.assertIn("outside its process group", out)
        self.assertLess(time.monotonic() - start, 20, "the check waited for "
                        "the escaped process")

    def test_ellipsis_vary_and_uniq(self):
        md = self.chapter_md(self.block(
            "<!-- transcript: vary='got \\d+' uniq -->",
            "$ printf 'a\\nb\\nc\\ngot 7\\nx\\nx\\ny z\\n'",
            "a", "...", "got 3", "x", "y ..."))
        self.assertEqual(self.check(md)[0], 0)

    def test_update_rewrites_a_stale_block(self):
        md = self.chapter_md(self.block("<!-- transcript -->",
                                        "$ echo new", "old"))
        self.assertEqual(self.check(md, update=True)[0], 0)
        with open(md) as f:
            self.assertIn("$ echo new\nnew\n", f.read())
        self.assertEqual(self.check(md)[0], 0)

    def test_server_port_is_substituted(self):
        write(os.path.join(self.chapter, "server.py"), """\
            import signal, socket, sys
            signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.listen()
            print("listening on 127.0.0.1:%d" % s.getsockname()[1], flush=True)
            c, _ = s.accept()
            c.sendall(c.recv(100))
            signal.pause()
            """)
        write(os.path.join(self.chapter, "client.py"), """\
            import socket, sys
            c = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
            c.sendall(b"hi")
            print(c.recv(100).decode())
            """)
        md = self.chapter_md(self.block(
            "<!-- transcript: server='python3 server.py' port=8888 -->",
            "$ python3 client.py 8888", "hi"))
        bad, out = self.check(md)
        self.assertEqual(bad, 0, out)
        md = self.chapter_md(self.block(
            "<!-- transcript: server='python3 server.py' -->",
            "$ python3 client.py 8888", "hi"))
        self.assertEqual(self.check(md)[0], 1)  # nothing listens on 8888


class LinksTest(Scratch):
    def test_missing_files_anchors_and_refs_are_found(self):
        write(os.path.join(self.dir, "README.md"), "# Top {#mainpage}\n")
        md = self.chapter_md("""\
            # Ch {#ch01}
            [ok](../../README.md#mainpage) [bad](nope.md) ![img](x.png)
            [frag](../../README.md#nope) see @ref ch01
            `[code](ignored.md)`
            """)
        old = links.REPO
        links.REPO = self.dir
        try:
            count, problems = links.check_markdown()
        finally:
            links.REPO = old
        text = "\n".join(problems)
        self.assertEqual(len(problems), 4, text)
        for what in ("nope.md", "x.png", "#nope", "@ref ch01"):
            self.assertIn(what, text)


class CopiesTest(Scratch):
    def test_a_listed_file_that_differs_is_found(self):
        prev = os.path.join(self.dir, "chapters", "00-w")
        write(os.path.join(prev, "src", "a.c"), "same\n")
        write(os.path.join(self.chapter, "src", "a.c"), "same\n")
        write(os.path.join(prev, "src", "b.c"), "one\n")
        write(os.path.join(self.chapter, "src", "b.c"), "two\n")
        md = self.chapter_md("x\n<!-- copied-unchanged -->\nCopied: "
                             "`src/a.c`, `src/b.c`.\n")
        self.assertEqual(copies.listed(md), ["src/a.c", "src/b.c"])
        self.assertEqual(copies.identical_files(prev, self.chapter),
                         ["src/a.c"])


def load_check_py():
    """chapters/01-sync/exercises/check.py (every chapter has the same)."""
    path = os.path.join(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))), "chapters", "01-sync", "exercises",
        "check.py")
    spec = importlib.util.spec_from_file_location("check", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class ExerciseRunnerTest(Scratch):
    """A "test binary" (a script) that ends but leaves a process holding
    its output: the runner must not wait for that process's end."""

    def run_script(self, body):
        script = os.path.join(self.dir, "fake-tests")
        write(script, """\
            #!/bin/sh
            [ "$1" = --list ] && { echo "fake: 1 test"; exit 0; }
            echo "ran the tests"
            """ + textwrap.dedent(body))
        os.chmod(script, 0o755)
        check = load_check_py()
        check.DRAIN_S = 1
        start = time.monotonic()
        r = check.run_tests(script)
        return r, time.monotonic() - start

    def test_a_leftover_in_the_session_is_killed(self):
        pidfile = os.path.join(self.dir, "leftover.pid")
        self.addCleanup(kill_pid_in, pidfile)
        r, took = self.run_script("sleep 60 & echo $! > %s\n" % pidfile)
        self.assertLess(took, 20, "the runner waited for the leftover")
        self.assertIn("ran the tests", r.output)
        self.assertFalse(r.output_stuck, r.output)
        with open(pidfile) as f:
            pid = int(f.read())
        time.sleep(0.2)
        with open("/proc/%d/stat" % pid) as f:  # killed: a zombie or gone
            self.assertIn(f.read().split(")")[1].split()[0], "ZX")

    def test_a_process_that_left_the_session_is_reported(self):
        pidfile = os.path.join(self.dir, "escaped.pid")
        self.addCleanup(kill_pid_in, pidfile)
        r, took = self.run_script(
            "python3 -c 'import os, sys, time; os.setsid(); "
            "open(sys.argv[1], \"w\").write(str(os.getpid())); "
            "time.sleep(60)' %s &\n" % pidfile)
        self.assertLess(took, 20, "the runner waited for the escaped process")
        self.assertTrue(r.output_stuck)
        self.assertFalse(r.ok, "a run whose output never ended counts as "
                         "passed")
        self.assertIn("OUTPUT NEVER ENDED", r.output)
        self.assertIn("ran the tests", r.output)

    def test_a_wrong_answer_is_saved_as_a_patch_that_gives_it_back(self):
        ex = os.path.join(self.chapter, "exercises", "01-x")
        write(os.path.join(ex, "test.c"), "\n")
        write(os.path.join(ex, "solution.c"), "int f(void)\n{\n"
              "    return 1;\n}\n")
        header = "/* wrong: returns 2 | expect: f() returned 2 */\n"
        whole = os.path.join(self.dir, "returns-two.c")
        write(whole, header + "int f(void)\n{\n    return 2;\n}\n")
        runner = [sys.executable, os.path.join(os.path.dirname(
            os.path.dirname(os.path.abspath(__file__))), "chapters",
            "01-sync", "exercises", "check.py"), "wrong-patch", "01-x"]
        r = subprocess.run(runner + [whole], cwd=self.chapter,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        self.assertEqual(r.returncode, 0, r.stdout)
        patch = os.path.join(ex, "wrong", "returns-two.patch")
        with open(patch) as f:
            text = f.read()
        self.assertTrue(text.startswith(header), text)
        self.assertIn("-    return 1;\n+    return 2;\n", text)
        made = os.path.join(self.dir, "made.c")
        subprocess.run(["patch", "-s", "-f", "--fuzz=0", "-r", "-", "-o",
                        made, os.path.join(ex, "solution.c"), patch],
                       check=True)
        with open(made) as f:
            self.assertEqual(header + f.read(), open(whole).read())
        # No mistake: refused, and no patch is written.
        write(whole, header + open(os.path.join(ex, "solution.c")).read())
        os.remove(patch)
        r = subprocess.run(runner + [whole], cwd=self.chapter,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           universal_newlines=True)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("no mistake", r.stdout)
        self.assertFalse(os.path.exists(patch))


if __name__ == "__main__":
    unittest.main()
