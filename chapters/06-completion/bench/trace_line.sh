#!/bin/sh
# trace_line.sh - walk one input line through hello: how many function
# calls, in how many source files, and how many epoll_ctl system calls.
#
#   sh bench/trace_line.sh [LINES [GAP_S]]     (from the chapter folder)
#
# 1. Calls and files. hello is rebuilt with -finstrument-functions (every
#    function of src/ and examples/ reports its entry to bench/trace_calls.c)
#    into build/trace/. It gets the line "0" LINES times (default 8), GAP_S
#    seconds apart (default 0.4), then "exit", with --interval 86400 so that
#    no hello falls in between. Between two lines the program sleeps, so
#    the recorded calls fall into bursts separated by silence: the first is
#    start-up, then one burst per line, the last is `exit`. Each line's
#    burst is everything the line causes: the wake-up, the read, the parse,
#    the queue, the answer (fib(0) is one call, so fib's recursion does not
#    count), the executor's thread and its wake-up of the loop, the print,
#    and the way back to sleep. A "file" is a source file that defines a
#    function called; a "crossing" is a call from one file into another.
#    Lines 3 on are the steady state (line 1 may register, line 2 may
#    finish what line 1 started).
# 2. epoll_ctl. The plain build (make) under `strace -f -c -e trace=epoll_ctl`,
#    first with 1,000 and 2,000 lines piped in at once, then with 10 and 20
#    lines 0.05 s apart (each one its own wake-up, as typed lines are). In
#    steady state the count must not grow with the number of lines.
#
# TRACE_SEQUENCE=1 also prints the last line's calls in the order made.
# OPT=-O2 builds optimised: the counts stay the same (gcc instruments
# inlined functions too); only the crossings move, as call sites inside
# inlined code are then named after the function they were inlined into.
#
# Needs cc, addr2line, python3 and (for part 2) strace. Timing does not
# matter: the counts are the same on a loaded machine, as long as GAP_S
# stays well above the time one line takes.
set -eu
cd "$(dirname "$0")/.."
LINES=${1:-8}
GAP=${2:-0.4}
OUT=build/trace
mkdir -p "$OUT"

cc -std=c11 -O2 -g -c bench/trace_calls.c -o "$OUT/trace_calls.o"
# -O0 by default: every call site is named after its own function.
# DWARF 4: with gcc 12's default DWARF 5, binutils 2.40's addr2line names a
# header's static inline function (list.h's, task.h's) after the .c file
# that includes it, which hid list.h from the file count and made its
# calls look like calls inside each includer.
cc -std=c11 ${OPT:--O0} -g -gdwarf-4 -pthread -finstrument-functions -Isrc \
   -D_POSIX_C_SOURCE=200809L src/*.c examples/hello.c "$OUT/trace_calls.o" \
   -o "$OUT/hello" -pthread -ldl -lm

feed() { # count gap: `count` lines "0", `gap` s apart, then exit
    sleep 0.5
    i=0
    while [ "$i" -lt "$1" ]; do
        echo 0
        sleep "$2"
        i=$((i + 1))
    done
    echo exit
}

feed "$LINES" "$GAP" |
    TRACE_OUT="$OUT/calls.txt" "$OUT/hello" --interval 86400 >/dev/null

python3 - "$OUT/hello" "$OUT/calls.txt" "$GAP" <<'EOF'
import collections, os, subprocess, sys

binary, path, gap = sys.argv[1], sys.argv[2], float(sys.argv[3])
recs = []
with open(path) as f:
    for line in f:
        ns, fn, site, thread = line.split()
        recs.append((int(ns), int(fn, 16), int(site, 16), int(thread)))
recs.sort()

# Name every address once: the function and the file it is in. A call
# site is a return address; one byte back is inside the call.
addrs = sorted({r[1] for r in recs} | {r[2] - 1 for r in recs})
res = subprocess.run(["addr2line", "-f", "-e", binary] +
                     ["%#x" % a for a in addrs],
                     capture_output=True, text=True, check=True).stdout
out = res.splitlines()
where = {}
for i, a in enumerate(addrs):
    func, loc = out[2 * i], out[2 * i + 1]
    src = loc.split(":")[0]
    where[a] = (func, os.path.basename(src) if src != "??" else "?")

# Bursts: split wherever the program was silent for half a gap.
bursts, cur = [], []
for r in recs:
    if cur and r[0] - cur[-1][0] > gap / 2 * 1e9:
        bursts.append(cur)
        cur = []
    cur.append(r)
bursts.append(cur)
lines = bursts[1:-1]
if not lines:
    sys.exit("trace_line: no line bursts found (%d bursts)" % len(bursts))

def stats(b):
    files = {where[r[1]][1] for r in b}
    crossings = sum(1 for r in b if where[r[2] - 1][1] != where[r[1]][1])
    return len(b), len(files), crossings

all_stats = [stats(b) for b in lines]
steady = all_stats[2:] or all_stats
print("hello, one line \"0\" every %.2f s, %d lines:" % (gap, len(lines)))
print("  calls per line:     %s" % " ".join(str(s[0]) for s in all_stats))
print("  files per line:     %s" % " ".join(str(s[1]) for s in all_stats))
print("  crossings per line: %s" % " ".join(str(s[2]) for s in all_stats))
calls = sorted(s[0] for s in steady)
print("steady state (lines 3 on): %d calls in %d files, %d file crossings"
      % (calls[len(calls) // 2], max(s[1] for s in steady),
         max(s[2] for s in steady)))

# The last steady line, by file and by function, in call order.
b = lines[-1]
by_file = collections.Counter(where[r[1]][1] for r in b)
entered = collections.Counter(where[r[1]][1] for r in b
                              if where[r[2] - 1][1] != where[r[1]][1])
print("\nline %d by file (calls, times entered from another file):"
      % len(lines))
for name, n in by_file.most_common():
    print("  %-16s %4d %4d" % (name, n, entered[name]))
if os.environ.get("TRACE_SEQUENCE"):
    print("\nline %d in call order (T2, T3: other threads):" % len(lines))
    print(" ".join(("T%d:" % r[3] if r[3] != b[0][3] else "") +
                   where[r[1]][0] for r in b))
by_fn = collections.Counter((where[r[1]][1], where[r[1]][0]) for r in b)
print("\nline %d by function (calls):" % len(lines))
for (name, func), n in sorted(by_fn.items(), key=lambda kv: (-kv[1], kv[0])):
    print("  %4d  %s: %s" % (n, name, func))
EOF

if ! command -v strace >/dev/null 2>&1; then
    echo "epoll_ctl: strace not installed, skipped"
    exit 0
fi
make -s build/hello >/dev/null
epoll_ctls() { # strace -c's call count for epoll_ctl (0 if none)
    strace -f -c -e trace=epoll_ctl -o "$OUT/strace.txt" "$@" \
        --interval 86400 >/dev/null
    awk '$NF == "epoll_ctl" { print $4; found = 1 }
         END { if (!found) print 0 }' "$OUT/strace.txt"
}
echo
for n in 1000 2000; do
    c=$(yes 0 | head -n "$n" | epoll_ctls build/hello)
    echo "epoll_ctl, $n lines piped in at once: $c"
done
for n in 10 20; do
    c=$(feed "$n" 0.05 | epoll_ctls build/hello)
    echo "epoll_ctl, $n lines 0.05 s apart: $c"
done
