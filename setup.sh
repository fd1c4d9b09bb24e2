#!/bin/sh
# setup.sh - install what this book needs, and nothing when it is all there.
#
#   ./setup.sh          check, and install what is missing (apt-get; through
#                       sudo when not root, saying what it runs)
#   ./setup.sh --check  only check: list what is missing, exit 1 if anything is
#
# On a system without apt-get it prints the install command to run instead.
set -eu

# command, pc/pkg-config-name, py/python-module, rt/clang-runtime-library
# or f/absolute-file : Debian package (clang and its libFuzzer runtime fuzz
# the input parser in `make test`; patch makes the exercises' wrong answers
# from wrong/*.patch; nc.openbsd is the client the chapters' text uses,
# with -N; strace counts chapter 05's epoll_ctl calls in its tests and
# bench/trace_line.sh; the last four are the peers and the plot of
# `make bench`: libuv, uvloop, Node and gnuplot; liburing is chapter 06's
# io_uring)
NEEDS="
cc:build-essential
make:make
patch:patch
pkg-config:pkg-config
pc/criterion:libcriterion-dev
clang:clang
rt/fuzzer:libclang-rt-dev
doxygen:doxygen
dot:graphviz
f//usr/share/doxygen-awesome-css/doxygen-awesome.css:doxygen-awesome-css
python3:python3
nc.openbsd:netcat-openbsd
strace:strace
pc/libuv:libuv1-dev
pc/liburing:liburing-dev
py/uvloop:python3-uvloop
node:nodejs
gnuplot:gnuplot-nox
"

check_only=0
[ "${1:-}" = "--check" ] && check_only=1

missing=""
for need in $NEEDS; do
    what=${need%%:*}
    pkg=${need#*:}
    case $what in
        pc/*) command -v pkg-config >/dev/null 2>&1 &&
                  pkg-config --exists "${what#pc/}" && continue ;;
        # Debian installs python3-* modules for /usr/bin/python3, which need
        # not be the python3 first on PATH: either one will do.
        py/*) for py in /usr/bin/python3 python3; do
                  "$py" -c "import ${what#py/}" >/dev/null 2>&1 && continue 2
              done ;;
        # clang names the file of a runtime library it has, and echoes
        # the bare name back when it has none.
        rt/*) command -v clang >/dev/null 2>&1 &&
                  [ -f "$(clang -print-file-name="libclang_rt.${what#rt/}-$(uname -m).a")" ] &&
                  continue ;;
        f/*)  [ -e "${what#f/}" ] && continue ;;
        *)    command -v "$what" >/dev/null 2>&1 && continue ;;
    esac
    missing="$missing $pkg"
done

if [ -z "$missing" ]; then
    echo "setup: everything this book needs is installed"
    exit 0
fi

echo "setup: missing:$missing"
[ $check_only -eq 1 ] && exit 1

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: this is not a Debian/Ubuntu system, so nothing was installed."
    echo "Install the equivalents of the packages above, for example:"
    echo "  Fedora:  sudo dnf install gcc make pkgconf criterion-devel clang compiler-rt \\"
    echo "                            doxygen graphviz python3 libuv-devel python3-uvloop nodejs gnuplot netcat"
    echo "  Arch:    sudo pacman -S gcc make pkgconf criterion clang compiler-rt \\"
    echo "                          doxygen graphviz python libuv python-uvloop nodejs gnuplot openbsd-netcat"
    echo "  macOS:   brew install criterion llvm doxygen graphviz pkg-config python \\"
    echo "                        libuv node gnuplot && python3 -m pip install uvloop"
    echo "  and, for the HTML book's theme, doxygen-awesome.css and"
    echo "  doxygen-awesome-sidebar-only.css from"
    echo "  https://github.com/jothepro/doxygen-awesome-css in /usr/share/doxygen-awesome-css/"
    echo "then run the command again."
    exit 1
fi

if [ "$(id -u)" -eq 0 ]; then
    sudo=""
elif command -v sudo >/dev/null 2>&1; then
    sudo="sudo"
else
    echo "setup: not root and no sudo; as root, run:"
    echo "  apt-get update && apt-get install -y$missing"
    exit 1
fi

run() {
    echo "setup: running: $*"
    "$@"
}
# DEBIAN_FRONTEND keeps package scripts from asking questions.
run $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -q
run $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $missing
echo "setup: done"
