#!/usr/bin/env python3
"""Chapter 06's part of the guided tour, chapter 05's on io_uring: the
hello with fib on the executor and then inline, the Task/Future trace, and
the echo server with the concurrent client.

    python3 tour.py        (make tour builds first, then runs this)
"""
import os
import signal
import subprocess
import sys
import threading
import time

BUILD = os.path.join(os.path.dirname(os.path.abspath(__file__)), "build")
T0 = time.monotonic()


def say(text):
    print("\n" + text, flush=True)


def show(who, text):
    print("  %6.2f s  %-12s %s" % (time.monotonic() - T0, who, text),
          flush=True)


def echo_output(stream, who, keep=None):
    for raw in stream:
        line = raw.decode().rstrip("\n")
        if keep is None or keep(line):
            show(who, line)


def hello_run(extra, n):
    global T0
    T0 = time.monotonic()
    p = subprocess.Popen([os.path.join(BUILD, "hello"), "--interval", "0.2",
                          *extra], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    reader = threading.Thread(target=echo_output, args=(p.stdout,
                                                        "hello says"))
    reader.start()
    time.sleep(0.5)
    show("we type", str(n))
    p.stdin.write(b"%d\n" % n)
    p.stdin.flush()
    time.sleep(0.3)
    p.stdin.close()          # end of input: exits once fib is answered
    p.wait(timeout=120)
    reader.join()


def hello_part():
    say("hello: three tasks in a task group (the hello, the input reader, the "
        "answerer).\nfib(42) (half a second or so) goes to the executor, a "
        "worker thread; the\nanswer task awaits its Future. Watch the "
        "hellos:")
    hello_run([], 42)
    say("The hellos kept coming: the loop was free while a worker computed.\n"
        "Now the same with --inline, fib on the loop's own thread:")
    hello_run(["--inline"], 42)
    say("A gap: while fib runs inline, no coroutine can run, not even the "
        "hello.\nCooperative scheduling: only an AWAIT lets the loop go on.")


def trace_part():
    say("LOOP_TRACE=1: the 7 steps of CHAPTER.md, as the runtime prints them "
        "(task and future\nlines only; we type 7, then exit):")
    env = dict(os.environ, LOOP_TRACE="1")
    p = subprocess.run([os.path.join(BUILD, "hello"), "--interval", "10"],
                       input=b"7\nexit\n", capture_output=True, env=env,
                       timeout=30)
    for line in p.stderr.decode().splitlines():
        if " task " in line or " future " in line:
            print("    " + line.split("] ", 1)[1])
    say("step -> awaits future (2-3) -> future: result (5) -> step (6-7): "
        "the Task sends\nthe result back into the coroutine, which runs to "
        "its next await.")


def echo_part():
    global T0
    say("echo-server: one task per connection. echo-client opens 2,000 "
        "connections,\n500 at a time (a Semaphore), sends 50,000 bytes on "
        "each and checks every byte:")
    T0 = time.monotonic()
    srv = subprocess.Popen([os.path.join(BUILD, "echo-server"), "--port",
                            "0"], stdout=subprocess.PIPE,
                           stderr=subprocess.DEVNULL)
    line = srv.stdout.readline().decode().strip()
    show("server says", line)
    port = line.rsplit(":", 1)[1]
    r = subprocess.run([os.path.join(BUILD, "echo-client"), "--port", port,
                        "--connections", "2000", "--bytes", "50000",
                        "--parallel", "500"], capture_output=True,
                       timeout=120)
    show("client says", r.stdout.decode().strip())
    srv.send_signal(signal.SIGTERM)
    show("server", "SIGTERM -> exit status %d" % srv.wait(timeout=5))
    say("Each connection's body is chapter 01's recv/send loop on a stream: "
        "read, write,\ndrain. SIGTERM cancelled the main coroutine, which "
        "stopped listening and\ncancelled the task group holding the "
        "connections.")


def io_uring_refused():
    """chapter 06: hello, with no input, ends at once where io_uring works;
    where it is refused it says why in one line (returned here)."""
    r = subprocess.run([os.path.join(BUILD, "hello")],
                       stdin=subprocess.DEVNULL, capture_output=True,
                       timeout=10)
    err = r.stderr.decode(errors="replace").strip()
    return err.splitlines()[-1] if r.returncode != 0 and err else None


def main():
    print("=" * 72)
    print("Chapter 06-completion: chapter 05's coroutines on io_uring")
    print("=" * 72)
    why = io_uring_refused()  # chapter 06
    if why is not None:
        say("skipped: " + why)
        return 0
    hello_part()
    trace_part()
    echo_part()
    return 0


if __name__ == "__main__":
    sys.exit(main())
