#!/bin/sh
# resync06.sh - rebuild chapter 06 from today's chapter 05, keeping the lesson.
#
# Chapter 06 is chapter 05 plus the completion layer. Its differences are
# not kept as patches but recovered from git: a three-way merge per file,
#
#   base   = chapters/05-coroutines at the commit chapter 06 was last
#            synced with (tools/resync06.base holds it),
#   ours   = chapters/06-completion as it is now (the lesson),
#   theirs = chapters/05-coroutines as it is now (in the work tree).
#
# So a file chapter 06 never changed becomes chapter 05's again; a file
# both changed is merged line by line (git merge-file), and only lines both
# touched conflict; files only chapter 06 has (proactor.*, the uring tests
# and bench) stay; files chapter 05 added come over, files it removed go.
# CHAPTER.md (and APPENDIX.md) is each chapter's own: only CHAPTER.md's
# copied-unchanged list is rewritten. So are the exercises themselves
# (exercises/NN-name/): chapter 06 teaches completion with its own; only
# the machinery beside them (check.py, exercises.mk, guard.h) is synced.
# That is more robust than patch files (which fail on moved context) or
# whole-file copies (which silently drop chapter 05's new changes).
#
#   tools/resync06.sh            merge; on success, record the new base
#   tools/resync06.sh --dry-run  list what would change, touch nothing
#
# Run it from a clean work tree with chapter 05's changes committed. After a
# run with conflicts, resolve the <<<<<<< markers it lists, build and test
# (make -C chapters/06-completion test), then record the base yourself:
#   git rev-parse HEAD > tools/resync06.base   (HEAD: holding today's ch05)
# Exit status: 0 merged cleanly, 1 conflicts left to resolve, 2 usage.
set -eu

top=$(git rev-parse --show-toplevel)
cd "$top"
c05=chapters/05-coroutines
c06=chapters/06-completion
dry=0
[ "${1:-}" = "--dry-run" ] && dry=1
[ $# -le $dry ] || { echo "usage: tools/resync06.sh [--dry-run]" >&2; exit 2; }

base=$(cat tools/resync06.base)
git cat-file -e "$base^{commit}" || { echo "resync06: base $base is not a commit here" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/base"
git archive "$base" "$c05" | tar -x -C "$tmp/base"
b="$tmp/base/$c05"

conflicts=""
say() { printf '%-10s %s\n' "$1" "$2"; }

# Every file chapter 05 has now (tracked, so build/ never comes along).
for f in $(git ls-files "$c05" | sed "s|^$c05/||"); do
    [ "$f" = CHAPTER.md ] && continue   # each chapter has its own text
    [ "$f" = APPENDIX.md ] && continue  # and its own appendix
    case $f in exercises/[0-9]*/*) continue ;; esac  # and its exercises
    new="$c05/$f"; ours="$c06/$f"; old="$b/$f"
    if [ ! -e "$ours" ]; then
        if [ -e "$old" ]; then
            say kept-out "$f (chapter 06 removed it)"
            continue
        fi
        say added "$f"
        [ $dry = 1 ] || { mkdir -p "$(dirname "$ours")"; cp -p "$new" "$ours"; }
    elif cmp -s "$ours" "$new"; then
        :
    elif [ ! -e "$old" ] || cmp -s "$ours" "$old"; then
        # chapter 06 left it as chapter 05 had it: take today's
        say updated "$f"
        [ $dry = 1 ] || cp -p "$new" "$ours"
    elif cmp -s "$old" "$new"; then
        :   # only chapter 06 changed it: the lesson, keep it
    else
        if [ $dry = 1 ]; then
            say merge "$f"
            continue
        fi
        if git merge-file -L chapter-06 -L base-05 -L chapter-05 \
                "$ours" "$old" "$new"; then
            say merged "$f"
        else
            say CONFLICT "$f"
            conflicts="$conflicts $f"
        fi
    fi
done

# Files chapter 05 had at the base but has no more.
for f in $(cd "$b" && find . -type f | sed 's|^\./||'); do
    [ -e "$c05/$f" ] && continue
    [ "$f" = CHAPTER.md ] && continue
    [ "$f" = APPENDIX.md ] && continue
    case $f in exercises/[0-9]*/*) continue ;; esac
    [ -e "$c06/$f" ] || continue
    if cmp -s "$c06/$f" "$b/$f"; then
        say removed "$f"
        [ $dry = 1 ] || rm "$c06/$f"
    else
        say CONFLICT "$f (chapter 05 removed it, chapter 06 changed it)"
        conflicts="$conflicts $f"
    fi
done

[ $dry = 1 ] && exit 0

# The paragraph of CHAPTER.md listing the files copied unchanged (checked by
# tests/copies.py), rewritten from what is identical now.
python3 - "$c05" "$c06" <<'PY'
import os, sys, textwrap
sys.path.insert(0, "tests")
import copies
c05, c06 = sys.argv[1:]
md = os.path.join(c06, "CHAPTER.md")
lines = open(md).read().split("\n")
i = lines.index(copies.MARK) + 1
j = i
while j < len(lines) and lines[j].strip():
    j += 1
same = copies.identical_files(c05, c06)
text = ("Copied unchanged from chapter 05, byte for byte (`make test` "
        "checks it): " + ", ".join("`%s`" % f for f in same) + ".")
lines[i:j] = textwrap.fill(text, 76, break_on_hyphens=False,
                           break_long_words=False).split("\n")
open(md, "w").write("\n".join(lines))
PY

if [ -n "$conflicts" ]; then
    echo "resync06: resolve by hand in $c06:$conflicts" >&2
    echo "then: make -C $c06 test; git rev-parse HEAD > tools/resync06.base" >&2
    exit 1
fi
git rev-parse HEAD > tools/resync06.base
echo "resync06: merged cleanly; base is now $(cat tools/resync06.base)"
echo "next: make -C $c06 test"
