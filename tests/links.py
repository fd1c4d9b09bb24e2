#!/usr/bin/env python3
"""Check that every link in the book works, on a Git host and in the HTML.

    links.py          check the Markdown: README.md, docs/*.md, and every
                      chapter's CHAPTER.md, APPENDIX.md (where it has one)
                      and exercises/*/EXERCISE.md
                      (make test runs this)
    links.py --html   check the HTML book in docs/html after Doxygen wrote
                      it (make docs runs this)

In the Markdown, every relative link or image `[text](path#anchor)` must
name a file or folder that exists, relative to the file holding the link;
an anchor into a .md file must be a `{#label}` there or the slug a Git host
makes of one of its headings. `@ref` and `\\ref` are refused outside code:
on a Git host they are dead text. Link to the .md file instead: Doxygen
turns a relative link to a Markdown file it reads into a link to that
file's page, so one link works in both places.

In the HTML, every local href and src must name a file Doxygen wrote, and
every #anchor into a page must be an id or name in it.
"""
import glob
import html.parser
import os
import re
import sys
import urllib.parse

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REF = re.compile(r"[@\\]ref\b\s*[\w.-]*")
LABEL = re.compile(r"\{#([A-Za-z0-9_-]+)\}")
HEADING = re.compile(r"^#{1,6}\s+(.*?)\s*(?:\{#[^}]*\})?\s*#*\s*$")


def markdown_files():
    files = [os.path.join(REPO, "README.md")]
    files += sorted(glob.glob(os.path.join(REPO, "docs", "*.md")))
    for ch in sorted(glob.glob(os.path.join(REPO, "chapters", "*", ""))):
        files += glob.glob(os.path.join(ch, "CHAPTER.md"))
        files += glob.glob(os.path.join(ch, "APPENDIX.md"))
        files += sorted(glob.glob(os.path.join(ch, "exercises", "*",
                                               "EXERCISE.md")))
    return [f for f in files if os.path.exists(f)]


def prose_lines(path):
    """(line number, text) outside fenced code, with code spans blanked."""
    with open(path) as f:
        lines = f.read().splitlines()
    fence = None
    for n, line in enumerate(lines, 1):
        stripped = line.lstrip()
        if fence is None and re.match(r"(```|~~~)", stripped):
            fence = stripped[:3]
            continue
        if fence is not None:
            if stripped.startswith(fence):
                fence = None
            continue
        if line.startswith("    ") or line.startswith("\t"):
            continue  # an indented code block (or a nested list's code)
        yield n, re.sub(r"`[^`]*`", "``", line)


def slug(heading):
    """The anchor a Git host (GitHub's rule) makes of a heading."""
    text = re.sub(r"[`*_]", "", heading).strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


_anchors = {}


def anchors(path):
    if path not in _anchors:
        found = set()
        for _, line in prose_lines(path):
            found.update(LABEL.findall(line))
            m = HEADING.match(line)
            if m:
                found.add(slug(m.group(1)))
        _anchors[path] = found
    return _anchors[path]


def check_markdown():
    problems = []
    count = 0
    for md in markdown_files():
        rel = os.path.relpath(md, REPO)
        for n, line in prose_lines(md):
            for m in REF.finditer(line):
                problems.append("%s:%d: %s is dead text on a Git host; link "
                                "to the .md file instead" % (rel, n,
                                                             m.group(0)))
            for m in LINK.finditer(line):
                target = m.group(1)
                count += 1
                if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                    continue  # http:, https:, mailto:
                path, _, frag = target.partition("#")
                path = urllib.parse.unquote(path)
                full = os.path.normpath(os.path.join(os.path.dirname(md),
                                                     path)) if path else md
                if not os.path.exists(full):
                    problems.append("%s:%d: %s: no such file" % (rel, n,
                                                                 target))
                elif not full.startswith(REPO + os.sep):
                    problems.append("%s:%d: %s: outside the repository"
                                    % (rel, n, target))
                elif frag and full.endswith(".md") and \
                        frag not in anchors(full):
                    problems.append("%s:%d: %s: no anchor #%s in %s"
                                    % (rel, n, target, frag,
                                       os.path.relpath(full, REPO)))
    return count, problems


class Refs(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key):
                self.links.append((tag, a[key]))


def check_html(root):
    pages = {}
    for path in glob.glob(os.path.join(root, "*.html")):
        p = Refs()
        with open(path, encoding="utf-8", errors="replace") as f:
            p.feed(f.read())
        pages[os.path.basename(path)] = p
    if "index.html" not in pages:
        return 0, ["%s: no index.html; run make docs first" % root]
    problems, count = [], 0
    for name, page in sorted(pages.items()):
        for tag, link in page.links:
            if re.match(r"[a-zA-Z][a-zA-Z0-9+.-]*:", link) or \
                    link.startswith("javascript"):
                continue
            count += 1
            path, _, frag = link.partition("#")
            path = urllib.parse.unquote(path)
            if path and not os.path.exists(os.path.join(root, path)):
                problems.append("docs/html/%s: <%s> %s: no such file"
                                % (name, tag, link))
            elif frag and (path or name).endswith(".html"):
                target = pages.get(os.path.basename(path or name))
                if target is not None and frag not in target.ids:
                    problems.append("docs/html/%s: <%s> %s: no anchor #%s"
                                    % (name, tag, link, frag))
    return count, problems


def main():
    if "--html" in sys.argv[1:]:
        count, problems = check_html(os.path.join(REPO, "docs", "html"))
        what = "local links in the HTML book"
    else:
        count, problems = check_markdown()
        what = "links in the Markdown"
    for p in problems:
        print("links: " + p)
    if problems:
        print("links: %d broken of %d %s" % (len(problems), count, what))
        return 1
    print("links: all %d %s work" % (count, what))
    return 0


if __name__ == "__main__":
    sys.exit(main())
