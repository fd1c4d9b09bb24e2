#!/usr/bin/env python3
"""Keep the code shown in each CHAPTER.md identical to the compiled files.

In a CHAPTER.md, a line

    <!-- snippet: examples/hello.c sync-loop -->

followed by a fenced code block means: this block is the region of
examples/hello.c (relative to the chapter) between the two lines that contain
[sync-loop], marker lines excluded. With no tag, the block is the whole file.
The same [tag] markers are the ones Doxygen's @snippet understands.

    snippets.py --check    exit 1 and show the first difference if any block
                           is out of date (make test runs this)
    snippets.py --update   rewrite the blocks from the sources (make snippets)
"""
import difflib
import glob
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = re.compile(r"^<!-- snippet: (\S+)(?: (\S+))? -->$")


def region(path, tag):
    with open(path) as f:
        lines = f.read().splitlines()
    if tag is None:
        return lines
    marks = [i for i, l in enumerate(lines) if "[%s]" % tag in l]
    if len(marks) != 2:
        raise SystemExit("%s: want exactly two [%s] markers, found %d"
                         % (path, tag, len(marks)))
    return lines[marks[0] + 1:marks[1]]


def process(md_path, update):
    chapter = os.path.dirname(md_path)
    with open(md_path) as f:
        lines = f.read().splitlines()
    out, i, stale = [], 0, []
    while i < len(lines):
        line = lines[i]
        out.append(line)
        i += 1
        m = MARK.match(line)
        if not m:
            continue
        src, tag = m.group(1), m.group(2)
        if i >= len(lines) or not lines[i].startswith("```"):
            raise SystemExit("%s:%d: a snippet marker must be followed by a "
                             "fenced code block" % (md_path, i))
        fence = lines[i]
        end = i + 1
        while end < len(lines) and lines[end] != "```":
            end += 1
        if end == len(lines):
            raise SystemExit("%s:%d: unclosed code block" % (md_path, i + 1))
        have = lines[i + 1:end]
        want = region(os.path.join(chapter, src), tag)
        if have != want:
            stale.append((src, tag, have, want))
        out.append(fence)
        out.extend(want)
        out.append("```")
        i = end + 1
    if update and stale:
        with open(md_path, "w") as f:
            f.write("\n".join(out) + "\n")
    return stale


def main():
    update = "--update" in sys.argv
    bad = 0
    for md in sorted(glob.glob(os.path.join(REPO, "chapters", "*",
                                            "CHAPTER.md"))):
        rel = os.path.relpath(md, REPO)
        for src, tag, have, want in process(md, update):
            bad += 1
            what = "%s %s" % (src, tag or "(whole file)")
            if update:
                print("snippets: updated %s: %s" % (rel, what))
            else:
                print("snippets: %s shows %s out of date:" % (rel, what))
                sys.stdout.writelines(l + "\n" for l in difflib.unified_diff(
                    have, want, "in the text", "in the source", lineterm=""))
    if bad and not update:
        print("snippets: run 'make snippets' to refresh the text")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
