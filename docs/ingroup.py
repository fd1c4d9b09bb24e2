#!/usr/bin/env python3
"""Doxygen input filter: put a chapter's header in that chapter's group.

Doxygen runs this on every header (FILTER_PATTERNS in docs/Doxyfile) and
reads what it prints instead of the file. It prints the file unchanged and
appends a comment block that adds the file to the group of the chapter
its path names: chapters/03-selectors/src/selector.h joins @ref ch03.

The headers themselves carry no @ingroup line, so a header that a chapter
copies unchanged stays byte-identical to the previous chapter's copy.
The block goes after the last line, so every line number Doxygen reports
is still the file's own.
"""
import re
import sys

path = sys.argv[1]
with open(path, encoding="utf-8") as f:
    text = f.read()
sys.stdout.write(text)
m = re.search(r"(?:^|/)chapters/(\d\d)-[^/]+/", path.replace("\\", "/"))
if m:
    if not text.endswith("\n"):
        sys.stdout.write("\n")
    sys.stdout.write("/** @file\n *  @ingroup ch%s\n */\n" % m.group(1))
