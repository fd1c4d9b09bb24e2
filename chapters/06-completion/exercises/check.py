#!/usr/bin/env python3
"""check.py - the exercise runner, the same file in every chapter.

The chapter Makefile (through exercises/exercises.mk) builds the test
binaries; this script runs them, reads Criterion's reports and prints what a
student, a teacher or an autograder wants to know. Run from the chapter:

    check.py board             every exercise: kind and state (solved, ...)
    check.py run EX            one exercise, its test output shown
    check.py hint EX           the next hint of EX, one more per call
    check.py check             the project's own check: each exercise passes
                               on solution.c, fails on starter.c, and every
                               wrong answer fails with its `expect:` phrase
                               shown
    check.py grade             TAP and JUnit XML per exercise, plus
                               summary.json, under BUILD/grade/
    check.py combine FILE...   one board from several chapters' JSON results
    check.py find EX CHAPTER... which chapter holds EX (for the top Makefile)
    check.py wrong-patch EX FILE...
                               save each FILE, a whole wrong answer (its
                               first line the `/* wrong: ... | expect: ... */`
                               header, the rest solution.c with one
                               mistake), as wrong/NAME.patch

The wrong answers of an exercise are wrong/NAME.patch: the header line,
then a unified diff that turns solution.c into the wrong answer. Make
applies it with patch(1) to build BUILD/exercises/EX/wrong/NAME.c, the
whole file, and tests that. (A wrong/NAME.c, a whole file, works too.)

Every test run is bounded twice: exercises/guard.h inside the tests, and an
outer limit here (EX_TIMEOUT seconds, 120 by default) that ends the whole
run, so no answer, however wrong, can hang a run. Standard library only.
"""
import argparse
import concurrent.futures
import filecmp
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import xml.etree.ElementTree

TIMEOUT_S = int(os.environ.get("EX_TIMEOUT", "120"))
# Seconds the output of a finished (or killed) run may take to end. Past
# that, what still holds it is killed with the run's session; a process
# that left the session (setsid) cannot be reached, and is left behind.
DRAIN_S = 5
JOBS = int(os.environ.get("EX_JOBS", "2"))
WRONG_LINE = re.compile(r"^/\* wrong: (.+?) \| expect: (.+?) \*/\s*$")
KIND_LINE = re.compile(r"^\*\*Kind:\*\*\s*(.+?)\s*$", re.M)


def say(tag, text):
    print("  %-7s %s" % (tag, text), flush=True)


# ---- what is on disk --------------------------------------------------------

def exercises():
    """The chapter's exercises: folders of exercises/ that hold a test.c."""
    return sorted(d for d in os.listdir("exercises")
                  if os.path.isfile(os.path.join("exercises", d, "test.c")))


def resolve(name):
    """An exercise folder from EX: its full name, the name without its
    number, or a prefix of the full name that only one exercise has."""
    names = exercises()
    if name in names:
        return name
    hits = [e for e in names if e.split("-", 1)[-1] == name] or \
           [e for e in names if e.startswith(name)]
    if len(hits) == 1:
        return hits[0]
    chapter = os.path.basename(os.getcwd())
    sys.exit("check.py: %s exercise '%s' in %s; the exercises are: %s"
             % ("more than one" if hits else "no", name, chapter,
                ", ".join(names)))


def kind(ex):
    """The `**Kind:**` line of EXERCISE.md, or '-' when it has none."""
    try:
        with open(os.path.join("exercises", ex, "EXERCISE.md")) as f:
            m = KIND_LINE.search(f.read())
    except OSError:
        return "-"
    return m.group(1) if m else "-"


def wrong_answers(ex):
    """wrong/NAME.patch (and wrong/NAME.c) of ex, sorted by NAME."""
    folder = os.path.join("exercises", ex, "wrong")
    if not os.path.isdir(folder):
        return []
    return sorted(("wrong/" + f for f in os.listdir(folder)
                   if f.endswith((".c", ".patch"))),
                  key=lambda v: os.path.splitext(v))


def wrong_header(ex, variant):
    """(mistake, phrase) from a wrong answer's first line, or None."""
    with open(os.path.join("exercises", ex, variant)) as f:
        m = WRONG_LINE.match(f.readline())
    return (m.group(1), m.group(2)) if m else None


def ensure_answer(ex):
    """answer.c, copied from starter.c the first time; True if just made."""
    answer = os.path.join("exercises", ex, "answer.c")
    if os.path.exists(answer):
        return False
    shutil.copyfile(os.path.join("exercises", ex, "starter.c"), answer)
    say("NEW", "%s/%s: created from starter.c, edit it"
        % (chapter_name(), answer))
    return True


def not_started(ex):
    answer = os.path.join("exercises", ex, "answer.c")
    return not os.path.exists(answer) or filecmp.cmp(
        answer, os.path.join("exercises", ex, "starter.c"), shallow=False)


# ---- building and running ---------------------------------------------------

class Run:
    """One run of a test binary: counts, output, and how it ended."""
    def __init__(self):
        self.built, self.passed, self.total = True, 0, None
        self.rc, self.timed_out, self.output = None, False, ""
        self.output_stuck = False

    @property
    def ok(self):
        return (self.built and not self.timed_out and not self.output_stuck
                and self.rc == 0
                and self.total is not None and self.passed == self.total)


def binary(args, ex, variant):
    return os.path.join(args.build, "exercises", ex,
                        os.path.splitext(variant)[0])


def build(args, ex, variant):
    """Build one test binary through make; (ok, compiler output)."""
    target = binary(args, ex, variant)
    p = subprocess.run(args.make.split() + ["-s", target],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       universal_newlines=True)
    return p.returncode == 0 and os.path.exists(target), p.stdout


def count_tests(path):
    try:
        out = subprocess.run([path, "--list"], stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL, timeout=30,
                             universal_newlines=True).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    counts = re.findall(r"^\S.*: (\d+) tests?$", out, re.M)
    return sum(int(n) for n in counts) if counts else None


def count_passed(xmlfile, tapfile):
    """Tests passed, from Criterion's JUnit XML report, else from its TAP
    report. (Its JSON report does not escape quotes in messages.)"""
    try:
        tree = xml.etree.ElementTree.parse(xmlfile)
        return sum(t.get("status") == "PASSED" for t in tree.iter("testcase"))
    except (OSError, xml.etree.ElementTree.ParseError):
        pass
    try:
        with open(tapfile) as f:
            return sum(line.startswith("ok ") for line in f)
    except OSError:
        return 0


def kill_session(pid):
    """SIGKILL every process of the session (and process group) pid led."""
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def run_tests(path, reports=None, echo=False):
    """Run a Criterion binary, bounded by TIMEOUT_S; a Run.

    reports: a path prefix; the run then keeps Criterion's reports as
    PREFIX.tap and PREFIX.xml. echo: copy the output to our stdout as it
    comes."""
    r = Run()
    r.total = count_tests(path)
    tmpdir = None
    if reports is None:
        tmpdir = tempfile.mkdtemp(prefix="check-")
        reports = os.path.join(tmpdir, "report")
    xmlfile, tapfile = reports + ".xml", reports + ".tap"
    # Its own session, so that a timeout ends Criterion and every test
    # process it started, not only the parent.
    p = subprocess.Popen([path, "--xml=" + xmlfile, "--tap=" + tapfile],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         start_new_session=True)
    chunks = []

    def pump():
        for line in iter(p.stdout.readline, b""):
            chunks.append(line)
            if echo:
                sys.stdout.write(line.decode("utf-8", "replace"))
                sys.stdout.flush()
    # A daemon: a reader stuck on an output that never ends must not keep
    # this script from exiting.
    reader = threading.Thread(target=pump, daemon=True)
    reader.start()
    try:
        r.rc = p.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        kill_session(p.pid)
        r.rc = p.wait()
        r.timed_out = True
    # The binary has ended, but a process it started may still hold the
    # output open (and run on): end the session, then stop waiting.
    reader.join(DRAIN_S)
    if reader.is_alive():
        kill_session(p.pid)
        reader.join(DRAIN_S)
    r.output = b"".join(chunks).decode("utf-8", "replace")
    if r.timed_out:
        note = ("\nTIMED OUT after %d s: the whole test run was stopped, "
                "as a test never returned (EX_TIMEOUT=seconds changes the "
                "limit)\n" % TIMEOUT_S)
        r.output += note
        if echo:
            sys.stdout.write(note)
    if not reader.is_alive():
        p.stdout.close()
    else:  # left open: closing it under the reader would kill the thread
        r.output_stuck = True
        note = ("\nOUTPUT NEVER ENDED: %d s after the test run ended, a "
                "process it started outside its session still held the "
                "output open; the rest of it is lost\n" % (2 * DRAIN_S))
        r.output += note
        if echo:
            sys.stdout.write(note)
    r.passed = count_passed(xmlfile, tapfile)
    if tmpdir is not None:
        shutil.rmtree(tmpdir)
    return r


def save_log(args, ex, variant, text):
    log = binary(args, ex, variant) + ".log"
    os.makedirs(os.path.dirname(log), exist_ok=True)
    with open(log, "w") as f:
        f.write(text)
    return log


def describe(r):
    if not r.built:
        return "does not compile"
    if r.timed_out:
        return "timed out after %d s" % TIMEOUT_S
    if r.output_stuck:
        return "its output never ended"
    total = "?" if r.total is None else r.total
    return "%d/%s tests pass" % (r.passed, total)


# ---- the student's view -----------------------------------------------------

def cached_answer(args, ex):
    """The answer's last result if its binary has not changed since."""
    path = binary(args, ex, "answer.c")
    try:
        with open(path + ".result") as f:
            saved = json.load(f)
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    return saved if saved.get("stamp") == [st.st_mtime_ns, st.st_size] else None


def remember_answer(args, ex, result):
    path = binary(args, ex, "answer.c")
    if os.path.exists(path):
        st = os.stat(path)
        result = dict(result, stamp=[st.st_mtime_ns, st.st_size])
        with open(path + ".result", "w") as f:
            json.dump(result, f)


def result_of(ex, r):
    state = "solved" if r.ok else "not solved"
    return {"exercise": ex, "kind": kind(ex), "state": state,
            "passed": r.passed, "total": r.total, "detail": describe(r)}


def answer_result(args, ex, echo=False, use_cache=False):
    """Build and run the answer of ex; its result dict. With use_cache, an
    answer whose binary has not changed since its last run is not run
    again (its timeouts are not waited out twice)."""
    built, out = build(args, ex, "answer.c")
    if not built:
        if echo:
            sys.stdout.write(out)
        r = Run()
        r.built = False
        r.output = out
        save_log(args, ex, "answer.c", r.output)
        return result_of(ex, r)
    if use_cache:
        saved = cached_answer(args, ex)
        if saved is not None:
            return saved
        say("RUN", "%s/%s" % (chapter_name(), ex))
    r = run_tests(binary(args, ex, "answer.c"), echo=echo)
    save_log(args, ex, "answer.c", r.output)
    result = result_of(ex, r)
    remember_answer(args, ex, result)
    return result


def board_line(res, chapter=None):
    state = res["state"]
    if state != "not started":
        state += " (%s)" % res["detail"]
    cols = ([chapter] if chapter else []) + [res["exercise"], res["kind"],
                                              state]
    widths = ([15] if chapter else []) + [28, 14]
    return "  " + "".join(c.ljust(w) for c, w in zip(cols, widths)) + cols[-1]


def print_board(results, with_chapter):
    head = (["chapter"] if with_chapter else []) + ["exercise", "kind",
                                                     "state"]
    widths = ([15] if with_chapter else []) + [28, 14]
    print("  " + "".join(c.ljust(w) for c, w in zip(head, widths)) + head[-1])
    for res in results:
        print(board_line(res, res.get("chapter") if with_chapter else None))
    solved = sum(res["state"] == "solved" for res in results)
    print("%d of %d exercises solved. One exercise with its test output: "
          "make exercises EX=NN-name; a hint: make hint EX=NN-name"
          % (solved, len(results)))


def chapter_name():
    return os.path.basename(os.getcwd())


def totals(results):
    """The sums an autograder wants first."""
    return {"solved": sum(r["state"] == "solved" for r in results),
            "count": len(results),
            "passed": sum(r["passed"] for r in results),
            "total": sum(r["total"] or 0 for r in results),
            "score": round(sum(r.get("score", 0.0) for r in results), 3)}


def write_json(path, results, **extra):
    if path:
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        with open(path, "w") as f:
            json.dump(dict(extra, exercises=results, **totals(results)), f,
                      indent=2)
            f.write("\n")


def cmd_board(args):
    results = []
    for ex in exercises():
        ensure_answer(ex)
        if not_started(ex):
            res = {"exercise": ex, "kind": kind(ex), "state": "not started",
                   "passed": 0, "total": None, "detail": ""}
        else:
            res = answer_result(args, ex, use_cache=True)
        res.pop("stamp", None)
        res["chapter"] = chapter_name()
        results.append(res)
    write_json(args.json, results, chapter=chapter_name())
    if not args.quiet:
        print("Exercises of %s:" % chapter_name())
        print_board(results, with_chapter=False)
    return 0


def cmd_run(args):
    ex = resolve(args.exercise)
    ensure_answer(ex)
    print("== %s/%s (exercises/%s/EXERCISE.md), testing exercises/%s/answer.c"
          % (chapter_name(), ex, ex, ex), flush=True)
    res = answer_result(args, ex, echo=True)
    if res["state"] == "solved":
        print("== %s: solved (%s)" % (ex, res["detail"]))
        return 0
    print("== %s: not solved yet (%s). Read the messages above; "
          "`make hint EX=%s` gives a hint." % (ex, res["detail"], ex))
    return 1


def cmd_hint(args):
    ex = resolve(args.exercise)
    folder = os.path.join("exercises", ex, "hints")
    hints = sorted((int(f[:-3]), f) for f in
                   (os.listdir(folder) if os.path.isdir(folder) else [])
                   if re.fullmatch(r"\d+\.md", f))
    if not hints:
        print("%s has no hints: its EXERCISE.md is all there is." % ex)
        return 0
    level_file = os.path.join("exercises", ex, ".hint-level")
    try:
        with open(level_file) as f:
            shown = int(f.read().strip() or 0)
    except (OSError, ValueError):
        shown = 0
    level = min(shown + 1, len(hints))
    with open(level_file, "w") as f:
        f.write("%d\n" % level)
    print("== %s, hint %d of %d\n" % (ex, level, len(hints)))
    with open(os.path.join(folder, hints[level - 1][1])) as f:
        sys.stdout.write(f.read())
    if level == len(hints):
        print("\n(That is the last hint. Delete exercises/%s/.hint-level "
              "to start again from the first.)" % ex)
    else:
        print("\n(`make hint EX=%s` again for the next one.)" % ex)
    return 0


# ---- the project's check and the autograder ---------------------------------

def check_one(args, ex, variant):
    """Run one variant: (as expected?, one-line result, the Run, log)."""
    r = run_tests(binary(args, ex, variant))
    log = save_log(args, ex, variant, r.output)
    what = "%s: %s" % (ex, variant)
    if variant == "solution.c":
        if r.ok:
            return True, "%s passes all %s tests" % (what, r.total), r, log
        return False, ("%s FAILS its own tests (%s): fix the test or the "
                       "solution" % (what, describe(r))), r, log
    if r.ok:
        why = ("the tests cannot tell it from a solution"
               if variant == "starter.c" else
               "the tests miss its mistake: " + wrong_header(ex, variant)[0])
        return False, "%s PASSES every test (%s): %s" % (what, describe(r),
                                                         why), r, log
    if variant == "starter.c":
        return True, "%s fails (%s)" % (what, describe(r)), r, log
    phrase = wrong_header(ex, variant)[1]
    if phrase not in r.output:
        return False, ("%s fails (%s) but its output lacks the expected "
                       "phrase \"%s\"" % (what, describe(r), phrase)), r, log
    return True, "%s fails (%s), saying \"%s\"" % (what, describe(r),
                                                   phrase), r, log


def structure_problems(ex):
    """What the exercise convention asks for and ex lacks."""
    problems = []
    names = [os.path.splitext(v)[0] for v in wrong_answers(ex)]
    for variant in wrong_answers(ex):
        if wrong_header(ex, variant) is None:
            problems.append("%s: %s: its first line must be exactly "
                            "/* wrong: <mistake> | expect: <phrase> */"
                            % (ex, variant))
        if names.count(os.path.splitext(variant)[0]) > 1:
            problems.append("%s: %s: there is also a wrong answer of that "
                            "name with another extension; keep one"
                            % (ex, variant))
        if variant.endswith(".patch"):
            with open(os.path.join("exercises", ex, variant)) as f:
                if not any(line.startswith("@@ ") for line in f):
                    problems.append("%s: %s changes nothing in solution.c: "
                                    "it holds no diff hunk" % (ex, variant))
    if kind(ex) != "-":  # converted to the convention: hold it to it
        if len(wrong_answers(ex)) < 3:
            problems.append("%s: %d wrong answers in wrong/, at least 3 "
                            "expected" % (ex, len(wrong_answers(ex))))
        if not os.path.isfile(os.path.join("exercises", ex, "hints", "1.md")):
            problems.append("%s: no hints/1.md" % ex)
    return problems


def converted():
    """True when every exercise of the chapter follows the convention
    (a **Kind:** line): the chapter-wide rules then apply."""
    return bool(exercises()) and all(kind(ex) != "-" for ex in exercises())


def chapter_problems():
    """The chapter-wide rules of the convention, once it is converted."""
    if not converted():
        return []
    problems = []
    kinds = [kind(ex) for ex in exercises()]
    if not 3 <= len(kinds) <= 5:
        problems.append("%s: %d exercises; the convention asks for 3 to 5"
                        % (chapter_name(), len(kinds)))
    if "from scratch" not in kinds:
        problems.append("%s: no exercise of kind \"from scratch\""
                        % chapter_name())
    unknown = sorted(set(kinds) - {"warm-up", "core", "from scratch"})
    if unknown:
        problems.append("%s: unknown kind(s) %s; the kinds are warm-up, core "
                        "and from scratch" % (chapter_name(),
                                              ", ".join(unknown)))
    return problems


def cmd_check(args):
    jobs, problems = [], []
    for ex in exercises():
        problems += structure_problems(ex)
        if not wrong_answers(ex):
            say("NOTE", "%s: no wrong/ catalogue yet" % ex)
        for variant in ["solution.c", "starter.c"] + wrong_answers(ex):
            if variant.startswith("wrong/") and \
                    wrong_header(ex, variant) is None:
                continue
            jobs.append((ex, variant))
    problems += chapter_problems()
    for p in problems:
        say("FAIL", p)
    failed = len(problems)
    guarded = False
    with concurrent.futures.ThreadPoolExecutor(max(1, JOBS)) as pool:
        for ok, line, r, log in pool.map(lambda j: check_one(args, *j), jobs):
            say("ok" if ok else "FAIL", line)
            guarded |= "wrong/" in line and "TIMED OUT after" in r.output
            if not ok:
                failed += 1
                tail = r.output.strip().splitlines()[-12:]
                for t in tail:
                    print("          | " + t)
                print("          (whole output: %s)" % log)
    if converted() and not guarded:
        say("FAIL", "%s: no wrong answer blocks for ever; one must, to prove "
            "that guard.h stops it (\"TIMED OUT after\")" % chapter_name())
        failed += 1
    if failed:
        print("exercises-check: %d problem(s) in %s, listed above"
              % (failed, chapter_name()))
        return 1
    print("exercises-check: %d runs in %s, each as expected"
          % (len(jobs), chapter_name()))
    return 0


def cmd_grade(args):
    out = os.path.join(args.build, "grade")
    shutil.rmtree(out, ignore_errors=True)  # no report from an older run
    os.makedirs(out)
    results = []
    for ex in exercises():
        prefix = os.path.join(out, ex)
        if not_started(ex):
            # An untouched starter is no submission: it scores 0, whatever
            # its gap happens to pass.
            res = {"exercise": ex, "kind": kind(ex), "state": "not started",
                   "passed": 0, "total": None, "detail": ""}
            if build(args, ex, "starter.c")[0]:
                res["total"] = count_tests(binary(args, ex, "starter.c"))
        else:
            say("GRADE", "%s/%s" % (chapter_name(), ex))
            built, log = build(args, ex, "answer.c")
            if built:
                r = run_tests(binary(args, ex, "answer.c"), reports=prefix)
            else:
                r = Run()
                r.built = False
                r.output = log
                if build(args, ex, "starter.c")[0]:
                    r.total = count_tests(binary(args, ex, "starter.c"))
            with open(prefix + ".log", "w") as f:
                f.write(r.output)
            res = result_of(ex, r)
        res["chapter"] = chapter_name()
        res["score"] = round(res["passed"] / res["total"], 3) \
            if res["total"] and res["state"] != "not started" else 0.0
        res["reports"] = {s: prefix + "." + s for s in
                          ("tap", "xml", "log")
                          if os.path.exists(prefix + "." + s)}
        results.append(res)
    summary = os.path.join(out, "summary.json")
    write_json(summary, results, chapter=chapter_name())
    write_json(args.json, results, chapter=chapter_name())
    if not args.quiet:
        print_board(results, with_chapter=False)
        print("Grades: %s (TAP and JUnit XML per exercise beside it)"
              % summary)
    return 0


def cmd_combine(args):
    results = []
    for path in args.files:
        with open(path) as f:
            for res in json.load(f)["exercises"]:
                # Report paths are relative to their chapter's folder.
                if "reports" in res:
                    res["reports"] = {k: os.path.join(args.chapters_dir,
                                                      res["chapter"], v)
                                      for k, v in res["reports"].items()}
                results.append(res)
    if not results:
        print("No exercise results to show.")
        return 0
    print_board(results, with_chapter=True)
    if args.out:
        write_json(args.out, results)
        print("Results of every chapter: %s (a score per exercise: tests "
              "passed / total)" % args.out)
    return 0


def cmd_find(args):
    """Print 'CHAPTER EXERCISE' for EX (or CHAPTER/EX) among the chapters."""
    want_ch, _, name = args.exercise.rpartition("/")
    found = []
    for exact in (True, False):
        for ch in args.chapters:
            ch = ch.rstrip("/")
            if want_ch and not os.path.basename(ch).startswith(want_ch):
                continue
            folder = os.path.join(ch, "exercises")
            names = sorted(d for d in os.listdir(folder) if os.path.isfile(
                os.path.join(folder, d, "test.c"))) if os.path.isdir(
                    folder) else []
            found += [(ch, e) for e in names if e == name or (
                not exact and (e.split("-", 1)[-1] == name
                               or e.startswith(name)))]
        if found:
            break
    if len(found) == 1:
        print("%s %s" % found[0])
        return 0
    if not found:
        sys.stderr.write("No exercise '%s' in any chapter.\n" % args.exercise)
    else:
        sys.stderr.write("EX=%s matches %s; name one, e.g. EX=%s/%s\n" % (
            args.exercise, ", ".join("%s/%s" % (os.path.basename(c), e)
                                     for c, e in found),
            os.path.basename(found[0][0]), found[0][1]))
    return 2


def cmd_wrong_patch(args):
    """Each FILE, a whole wrong answer, saved as wrong/NAME.patch."""
    ex = resolve(args.exercise)
    solution = os.path.join("exercises", ex, "solution.c")
    for path in args.files:
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path) as f:
            header, body = f.readline(), f.read()
        if not WRONG_LINE.match(header):
            sys.exit("check.py: %s: its first line must be exactly "
                     "/* wrong: <mistake> | expect: <phrase> */" % path)
        with tempfile.TemporaryDirectory(prefix="wrong-") as tmp:
            whole = os.path.join(tmp, name + ".c")
            with open(whole, "w") as f:
                f.write(body)
            diff = subprocess.run(
                ["diff", "-u", "--label", "solution.c", "--label",
                 "wrong/%s.c" % name, solution, whole],
                stdout=subprocess.PIPE, universal_newlines=True)
            if diff.returncode == 0:
                sys.exit("check.py: %s is solution.c itself, with no "
                         "mistake" % path)
            if diff.returncode != 1:
                sys.exit("check.py: diff failed on %s" % path)
            patch = os.path.join("exercises", ex, "wrong", name + ".patch")
            os.makedirs(os.path.dirname(patch), exist_ok=True)
            with open(patch, "w") as f:
                f.write(header + diff.stdout)
            # The round trip: patch(1) must give the file back.
            again = os.path.join(tmp, "again.c")
            subprocess.run(["patch", "-s", "-f", "--fuzz=0",
                            "--no-backup-if-mismatch", "-r", "-", "-o",
                            again, solution, patch], check=True)
            if not filecmp.cmp(again, whole, shallow=False):
                sys.exit("check.py: %s does not give %s back" % (patch, path))
        say("WROTE", patch)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--build", default="build",
                    help="the chapter's build folder (build/san-... too)")
    ap.add_argument("--make", default=os.environ.get("MAKE", "make"),
                    help="the make command that builds a test binary")
    sub = ap.add_subparsers(dest="cmd", required=True)
    for name in ("board", "grade"):
        p = sub.add_parser(name)
        p.add_argument("--json", help="also write the results there")
        p.add_argument("--quiet", action="store_true",
                       help="no board on stdout (the top Makefile prints one)")
    for name in ("run", "hint"):
        sub.add_parser(name).add_argument("exercise")
    sub.add_parser("check")
    p = sub.add_parser("combine")
    p.add_argument("--out", help="write every result there (JSON)")
    p.add_argument("--chapters-dir", default="chapters",
                   help="the chapters' folder, for the report paths")
    p.add_argument("files", nargs="*")
    p = sub.add_parser("find")
    p.add_argument("exercise")
    p.add_argument("chapters", nargs="+")
    p = sub.add_parser("wrong-patch")
    p.add_argument("exercise")
    p.add_argument("files", nargs="+")
    args = ap.parse_args()
    return globals()["cmd_" + args.cmd.replace("-", "_")](args)


if __name__ == "__main__":
    # Piped into head or a pager that quits early: end quietly, as cat does.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main())
