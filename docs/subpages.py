#!/usr/bin/env python3
"""Doxygen input filter: nest each chapter's exercises, and its appendix
where it has one, under the chapter.

Doxygen runs this on every CHAPTER.md (FILTER_PATTERNS in docs/Doxyfile)
and reads what it prints instead of the file. The first Markdown link to
each exercises/NAME/EXERCISE.md, and the last one to APPENDIX.md (so that
the navigation lists the appendix after the exercises), becomes
`@subpage LABEL "TEXT"`, where LABEL is the `{#label}` of that file's
title: the link still leads to the page, and the HTML book's navigation
shows it as a child of its chapter. The file itself keeps its plain link,
so it works on a Git host too. Only the link changes, so line numbers stay
the file's own.
"""
import os
import re
import sys

LINK = re.compile(r"\[([^\]]*)\]\((exercises/[^/)]+/EXERCISE\.md)\)")
APPENDIX = re.compile(r"\[([^\]]*)\]\((APPENDIX\.md)\)")
LABEL = re.compile(r"\{#([A-Za-z0-9_-]+)\}")

path = sys.argv[1]
folder = os.path.dirname(path)
seen = set()


def subpage(m):
    target = m.group(2)
    if target in seen:
        return m.group(0)
    try:
        with open(os.path.join(folder, target), encoding="utf-8") as f:
            label = LABEL.search(f.readline())
    except OSError:
        label = None
    if label is None:
        return m.group(0)  # tests/links.py reports a link that leads nowhere
    seen.add(target)
    text = m.group(1).replace("`", "").replace('"', "'")
    return '@subpage %s "%s"' % (label.group(1), text)


with open(path, encoding="utf-8") as f:
    text = LINK.sub(subpage, f.read())
last = None
for last in APPENDIX.finditer(text):
    pass
if last is not None:
    text = text[:last.start()] + subpage(last) + text[last.end():]
sys.stdout.write(text)
