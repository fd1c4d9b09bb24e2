#!/usr/bin/env python3
"""Keep every sample run shown in a CHAPTER.md a run that really happens.

Format. In a chapter's CHAPTER.md, a line

    <!-- transcript -->

or, with options (described below),

    <!-- transcript: stderr=merge timeout=20 -->

followed by a fenced block whose language is `console` marks a sample run:

    ```console
    $ printf '10\\nexit\\n' | ./build/hello --interval 1
    1764480000 - Hello world!
    fib(10) = 55 (0.000 s)
    ```

Every line starting with `$ ` is a command; a command line ending in a
backslash continues on the next line. The lines after a command, up to the
next command or the end of the block, are its expected output. Each
command runs with `bash -c`, alone, in the chapter's folder, after
`make -C <chapter>` has built the programs, with standard input from
/dev/null and a timeout. Its standard output (and standard error with
stderr=merge) is compared with the expected lines. The comment is hidden
in the rendered Markdown and in the HTML book; the reader sees only the
console block.

What legitimately differs from run to run is normalised on both sides
before the comparison (see NORMALISE below): unix timestamps (10 digits
starting with 1), decimal durations before a unit (`0.002 s`, `1.5 ms`),
rates (`12.3 MiB/s`, `4000 req/s`), ports after an address
(`127.0.0.1:8888`) or after the word "port", pointers (`0x7ffd...`) and
process and thread ids (`==1234==`, `pid=1234`, `tid=1234`, `[1] 1234`).
Trailing blanks are ignored. In an expected line, `...` matches any text
within the line, and a line holding only `...` matches any number of lines
(zero or more).

Options (key=value, separated by blanks; quote a value holding blanks
with '...' as in a shell):

    timeout=N       seconds each command may take (default 30); a command
                    that runs over is killed and the check fails
    stderr=merge    compare standard output and standard error, merged in
                    the order they were written (as a terminal shows them);
                    the default compares standard output only
    status=N|any    the exit status every command must have (default 0)
    vary=REGEX      text matching REGEX also varies: replaced on both sides
                    (may be given several times)
    uniq            after normalising, collapse runs of identical lines
                    into one (for lines whose count depends on timing, such
                    as hellos printed while something else runs)
    server=CMD      before the commands, start CMD in the background (in the
                    chapter folder); its first line of output must be
                    `listening on HOST:PORT`. The commands get that port in
                    $PORT, and every occurrence of the port given by
                    port=N in a command is replaced by it, so the text can
                    show the port a reader would use (8888) while the
                    check runs on a free one. After the commands, CMD gets
                    SIGTERM and must exit 0 within timeout.
    port=N          see server=

    transcripts.py --check    run every transcript; exit 1 with a unified
                              diff (chapter, line) for each that differs
                              (make test runs this)
    transcripts.py --update   rewrite the expected output of the blocks that
                              differ with what the run printed (make
                              transcripts); a block using `...` is reported
                              instead, to be edited by hand
    transcripts.py --force    as --update, and also refresh the blocks that
                              match only after normalising (new timestamps)
    transcripts.py ... CHAPTER_DIR...   only those chapters
"""
import difflib
import glob
import os
import re
import shlex
import signal
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"^<!-- transcript(?::\s*(.*?))?\s*-->$")
DEFAULT_TIMEOUT = 30.0
# Seconds the output of a killed command may take to end. Its process group
# is dead by then; an output still open belongs to a process that left the
# group (setsid, a daemon), which nothing here can reach: give up on it.
DRAIN_TIMEOUT = 5.0
ESCAPED = ("its output did not end within %g s of the kill: a process it "
           "started outside its process group (setsid, a daemon) still "
           "holds it open")

# (pattern, replacement), applied in order to every line of both sides.
NORMALISE = [
    (re.compile(r"0x[0-9a-fA-F]+"), "<PTR>"),
    (re.compile(r"\b1\d{9}\b"), "<TIME>"),
    (re.compile(r"\b\d[\d,]*(?:\.\d+)?\s?(?:[KMGT]i?)?(?:B|bytes|req|msg|ops|calls)?/s\b"),
     "<RATE>"),
    (re.compile(r"\b\d+\.\d+(?=\s?(?:s|ms|us|µs|ns)\b)"), "<DUR>"),
    (re.compile(r"((?:\d{1,3}\.){3}\d{1,3}|localhost|\]):\d{1,5}\b"),
     r"\1:<PORT>"),
    (re.compile(r"\b([Pp]ort) \d{1,5}\b"), r"\1 <PORT>"),
    (re.compile(r"==\d+=="), "==<PID>=="),
    (re.compile(r"\b(pid|PID|tid)([= ])\d+"), r"\1\2<PID>"),
    (re.compile(r"^\[\d+\]\s+\d+$"), "[<JOB>] <PID>"),
]


class Block:
    def __init__(self, md, line, options, start, end, commands):
        self.md = md            # path of the CHAPTER.md
        self.line = line        # 1-based line of the marker
        self.options = options  # dict; "vary" is a list
        self.start = start      # index of the first line inside the fence
        self.end = end          # index of the closing fence
        self.commands = commands  # [(command text, [expected lines])]


def parse_options(text, where):
    opts = {"timeout": DEFAULT_TIMEOUT, "stderr": "separate", "status": "0",
            "vary": [], "uniq": False, "server": None, "port": None}
    for word in shlex.split(text or ""):
        key, eq, value = word.partition("=")
        if key == "uniq" and not eq:
            opts["uniq"] = True
        elif key == "timeout" and eq:
            opts["timeout"] = float(value)
        elif key == "stderr" and value in ("merge", "separate"):
            opts["stderr"] = value
        elif key == "status" and (value == "any" or value.isdigit()):
            opts["status"] = value
        elif key == "vary" and eq:
            opts["vary"].append(re.compile(value))
        elif key in ("server", "port") and eq:
            opts[key] = value
        else:
            raise SystemExit("%s: unknown transcript option %r" % (where, word))
    return opts


def parse(md):
    with open(md) as f:
        lines = f.read().splitlines()
    blocks, i = [], 0
    while i < len(lines):
        m = MARK.match(lines[i])
        i += 1
        if not m:
            continue
        where = "%s:%d" % (os.path.relpath(md, REPO), i)
        opts = parse_options(m.group(1), where)
        if i >= len(lines) or lines[i] != "```console":
            raise SystemExit("%s: a transcript marker must be followed by a "
                             "```console block" % where)
        start = i + 1
        end = start
        while end < len(lines) and lines[end] != "```":
            end += 1
        if end == len(lines):
            raise SystemExit("%s: unclosed console block" % where)
        commands, j = [], start
        while j < end:
            if not lines[j].startswith("$ "):
                raise SystemExit("%s:%d: expected a '$ ' command line"
                                 % (os.path.relpath(md, REPO), j + 1))
            cmd = [lines[j][2:]]
            while cmd[-1].endswith("\\") and j + 1 < end:
                j += 1
                cmd.append(lines[j])
            j += 1
            out = []
            while j < end and not lines[j].startswith("$ "):
                out.append(lines[j])
                j += 1
            commands.append(("\n".join(cmd), out))
        blocks.append(Block(md, i, opts, start, end, commands))
        i = end + 1
    return lines, blocks


def normalise(lines, opts):
    out = []
    for line in lines:
        line = line.rstrip()
        for pattern, repl in NORMALISE:
            line = pattern.sub(repl, line)
        for pattern in opts["vary"]:
            line = pattern.sub("<VARY>", line)
        if opts["uniq"] and out and out[-1] == line:
            continue
        out.append(line)
    return out


def line_matches(want, have):
    if "..." not in want:
        return want == have
    parts = [re.escape(p) for p in want.split("...")]
    return re.fullmatch(".*".join(parts), have) is not None


def matches(want, have):
    """Whether the normalised expected lines match the normalised output."""
    memo = {}

    def walk(i, j):
        if (i, j) in memo:
            return memo[i, j]
        if i == len(want):
            ok = j == len(have)
        elif want[i] == "...":
            ok = walk(i + 1, j) or (j < len(have) and walk(i, j + 1))
        else:
            ok = j < len(have) and line_matches(want[i], have[j]) \
                and walk(i + 1, j + 1)
        memo[i, j] = ok
        return ok
    sys.setrecursionlimit(max(1000, 4 * (len(want) + len(have)) + 100))
    return walk(0, 0)


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def drain(proc):
    """After kill_group(): (stdout, stderr) as bytes, and None or the
    problem when the output did not end within DRAIN_TIMEOUT (it is then
    closed, and what it held is lost)."""
    try:
        out, err = proc.communicate(timeout=DRAIN_TIMEOUT)
        return out or b"", err or b"", None
    except subprocess.TimeoutExpired:
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
        proc.wait()
        return b"", b"", ESCAPED % DRAIN_TIMEOUT


def run_command(cmd, cwd, opts, env):
    """Run one command; return (output lines, stderr text, problem or None)."""
    merge = opts["stderr"] == "merge"
    proc = subprocess.Popen(
        ["bash", "-c", cmd], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT if merge else subprocess.PIPE,
        start_new_session=True)
    try:
        out, err = proc.communicate(timeout=opts["timeout"])
    except subprocess.TimeoutExpired:
        kill_group(proc)
        out, err, stuck = drain(proc)
        return (out.decode(errors="replace").splitlines(),
                err.decode(errors="replace"),
                "timed out after %g s" % opts["timeout"]
                + ("; " + stuck if stuck else ""))
    kill_group(proc)  # whatever it left running in the background
    problem = None
    if opts["status"] != "any" and proc.returncode != int(opts["status"]):
        problem = "exit status %d, expected %s" % (proc.returncode,
                                                   opts["status"])
    return (out.decode(errors="replace").splitlines(),
            (err or b"").decode(errors="replace"), problem)


class Server:
    """The hidden background process of server=CMD."""

    def __init__(self, cmd, cwd, timeout):
        self.timeout = timeout
        self.proc = subprocess.Popen(
            ["bash", "-c", "exec " + cmd], cwd=cwd, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            start_new_session=True)
        line = self._first_line()
        m = re.match(r"listening on \S+:(\d+)$", line)
        if not m:
            self.stop()
            raise RuntimeError("server %r printed %r, not 'listening on "
                               "HOST:PORT'" % (cmd, line))
        self.port = m.group(1)

    def _first_line(self):
        # readline() with a deadline: the server must speak within timeout.
        import selectors
        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + self.timeout
        buf = b""
        fd = self.proc.stdout.fileno()
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0 or not sel.select(left):
                break
            chunk = os.read(fd, 4096)
            if not chunk:
                break
            buf += chunk
        sel.close()
        return buf.split(b"\n")[0].decode(errors="replace")

    def stop(self):
        """SIGTERM; return a problem string or None."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            _, err = self.proc.communicate(timeout=self.timeout)
        except subprocess.TimeoutExpired:
            kill_group(self.proc)
            stuck = drain(self.proc)[2]
            return "the server did not stop within %g s of SIGTERM%s" % (
                self.timeout, "; " + stuck if stuck else "")
        kill_group(self.proc)
        if self.proc.returncode != 0:
            return "the server exited with status %d: %s" % (
                self.proc.returncode, err.decode(errors="replace").strip())
        return None


def run_block(block, chapter):
    """Run a block; return ([(command, actual lines)], [problems])."""
    opts = block.options
    env = dict(os.environ)
    server = None
    results, problems = [], []
    if opts["server"]:
        try:
            server = Server(opts["server"], chapter, opts["timeout"])
        except RuntimeError as e:
            return [], [str(e)]
        env["PORT"] = server.port
    try:
        for cmd, _ in block.commands:
            run = cmd
            if server and opts["port"]:
                run = re.sub(r"\b%s\b" % re.escape(opts["port"]), server.port,
                             run)
            out, err, problem = run_command(run, chapter, opts, env)
            results.append((cmd, out))
            if problem:
                problems.append("$ %s: %s%s" % (
                    cmd, problem, ("\n  stderr: " + err.strip().replace(
                        "\n", "\n  stderr: ")) if err.strip() else ""))
    finally:
        if server:
            problem = server.stop()
            if problem:
                problems.append(problem)
    return results, problems


def build(chapter):
    r = subprocess.run(["make", "-s", "-C", chapter], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    if r.returncode != 0:
        sys.stdout.write(r.stdout.decode(errors="replace"))
        raise SystemExit("transcripts: make -C %s failed"
                         % os.path.relpath(chapter, REPO))


def check_file(md, update, force=False):
    """Check (or update) one CHAPTER.md; return the number of bad blocks."""
    lines, blocks = parse(md)
    if not blocks:
        return 0
    chapter = os.path.dirname(md)
    rel = os.path.relpath(md, REPO)
    build(chapter)
    bad = 0
    rewrites = []
    for block in blocks:
        results, problems = run_block(block, chapter)
        opts = block.options
        want_raw, have_raw = [], []
        for (cmd, want), (_, have) in zip(block.commands, results):
            for k, part in enumerate(cmd.split("\n")):
                want_raw.append(("$ " if k == 0 else "") + part)
                have_raw.append(("$ " if k == 0 else "") + part)
            want_raw.extend(want)
            have_raw.extend(have)
        same = len(results) == len(block.commands) and all(
            matches(normalise(w, opts), normalise(h, opts))
            for (_, w), (_, h) in zip(block.commands, results))
        where = "%s:%d" % (rel, block.line)
        elided = any("..." in l for _, w in block.commands for l in w)
        if same and not problems:
            if force and not elided and have_raw != want_raw:
                rewrites.append((block, have_raw))
                print("transcripts: refreshed %s" % where)
            continue
        if update and not problems and not elided:
            rewrites.append((block, have_raw))
            print("transcripts: updated %s" % where)
            continue
        bad += 1
        print("transcripts: %s: the sample run differs from a real run:"
              % where)
        for p in problems:
            print("  " + p)
        if len(results) == len(block.commands):
            sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
                normalise(want_raw, opts), normalise(have_raw, opts),
                "%s (the text, normalised)" % where,
                "a real run (normalised)", lineterm=""))
            print("  the real run, as printed:")
            sys.stdout.writelines("    " + l + "\n" for l in have_raw)
    if rewrites:
        for block, have in sorted(rewrites, key=lambda r: -r[0].start):
            lines[block.start:block.end] = have
        with open(md, "w") as f:
            f.write("\n".join(lines) + "\n")
    return bad


def main():
    args = sys.argv[1:]
    force = "--force" in args
    update = "--update" in args or force
    if not update and "--check" not in args:
        print(__doc__)
        return 2
    dirs = [a for a in args if not a.startswith("--")]
    if dirs:
        mds = [os.path.join(os.path.abspath(d), "CHAPTER.md") for d in dirs]
    else:
        mds = sorted(glob.glob(os.path.join(REPO, "chapters", "*",
                                            "CHAPTER.md")))
    bad = 0
    count = 0
    for md in mds:
        count += len(parse(md)[1])
        bad += check_file(md, update, force)
    if bad:
        print("transcripts: %d sample run(s) differ; fix the text or the "
              "code, or run 'make transcripts' to take the real runs" % bad)
        return 1
    print("transcripts: %d sample run(s) in %d chapter(s) match a real run"
          % (count, len(mds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
