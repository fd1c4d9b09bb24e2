#!/usr/bin/env python3
"""Check that the files a chapter says it copies unchanged are unchanged.

Chapters copy code forward on purpose, and what a chapter does not change
stays byte for byte the previous chapter's copy, so that `diff -r` between
two chapters shows only the lesson. Every chapter after the first says
which files those are, in its CHAPTER.md, as a paragraph right after the
hidden line

    <!-- copied-unchanged -->

for example

    Copied unchanged from chapter 01: `src/fib.c`, `src/fib.h`.

Every `code span` of that paragraph is a path relative to the chapter. This
check (run by make test) fails if a chapter after the first has no such
paragraph, if a listed file is missing from either chapter, or if it
differs from the previous chapter's copy; it also names, without failing,
the files that are identical but not listed.

    copies.py           check every chapter
"""
import filecmp
import glob
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MARK = "<!-- copied-unchanged -->"
SCANNED = ("src", "examples", "tests", "bench")


def listed(md):
    """The paths of the copied-unchanged paragraph, or None without one."""
    with open(md) as f:
        lines = f.read().splitlines()
    if MARK not in lines:
        return None
    i = lines.index(MARK) + 1
    para = []
    while i < len(lines) and lines[i].strip():
        para.append(lines[i])
        i += 1
    return re.findall(r"`([^`\s]+)`", " ".join(para))


def identical_files(prev, cur):
    same = []
    for top in SCANNED:
        for root, _, files in os.walk(os.path.join(cur, top)):
            for name in files:
                path = os.path.join(root, name)
                rel = os.path.relpath(path, cur)
                other = os.path.join(prev, rel)
                if os.path.isfile(other) and \
                        filecmp.cmp(path, other, shallow=False):
                    same.append(rel)
    return sorted(same)


def main():
    chapters = sorted(d for d in glob.glob(os.path.join(REPO, "chapters",
                                                        "[0-9][0-9]-*"))
                      if os.path.isfile(os.path.join(d, "CHAPTER.md")))
    problems, notes, checked = [], [], 0
    for prev, cur in zip(chapters, chapters[1:]):
        md = os.path.relpath(os.path.join(cur, "CHAPTER.md"), REPO)
        paths = listed(os.path.join(cur, "CHAPTER.md"))
        if paths is None:
            problems.append("%s: no '%s' paragraph listing the files copied "
                            "unchanged from %s" % (md, MARK,
                                                   os.path.basename(prev)))
            continue
        for rel in paths:
            a, b = os.path.join(prev, rel), os.path.join(cur, rel)
            checked += 1
            if not os.path.isfile(b):
                problems.append("%s lists %s, which this chapter does not "
                                "have" % (md, rel))
            elif not os.path.isfile(a):
                problems.append("%s lists %s, which %s does not have"
                                % (md, rel, os.path.basename(prev)))
            elif not filecmp.cmp(a, b, shallow=False):
                problems.append("%s says %s is copied unchanged, but it "
                                "differs: diff %s %s" % (
                                    md, rel, os.path.relpath(a, REPO),
                                    os.path.relpath(b, REPO)))
        extra = [p for p in identical_files(prev, cur) if p not in paths]
        if extra:
            notes.append("%s: identical to %s but not listed: %s"
                         % (md, os.path.basename(prev), ", ".join(extra)))
    for n in notes:
        print("copies: note: " + n)
    for p in problems:
        print("copies: " + p)
    if problems:
        return 1
    print("copies: all %d files the chapters list as copied unchanged are "
          "identical to the previous chapter's" % checked)
    return 0


if __name__ == "__main__":
    sys.exit(main())
