"""Python asyncio's event loop, timed the way bench_loop.c times ours.

    bench_asyncio.py timers N   N loop.call_at() with random deadlines in
                                the coming second, then (after an untimed
                                sleep) fire them all
    bench_asyncio.py soon N     N loop.call_soon() callbacks in 1,000 chains

Prints the seconds it took. Run by run_bench.py (with uvloop as the loop
when --uvloop is given and it can be imported).
"""
import asyncio
import random
import sys
import time


def bench_timers(loop, n):
    """Deadlines in the coming second, as bench_uv.c does: a deadline in the
    past would become a zero timeout in uvloop (libuv counts from now), and
    every timer would get the same key, with nothing left to sort. The
    second's sleep between arming and firing is not timed."""
    rnd = random.Random(1)
    base = loop.time()
    whens = [base + rnd.random() for _ in range(n)]
    fired = [0]

    def on_timer():
        fired[0] += 1
        if fired[0] == n:
            loop.stop()

    start = time.perf_counter()
    for w in whens:
        loop.call_at(w, on_timer)
    armed = time.perf_counter() - start
    time.sleep(1.01)  # every deadline passes; not timed
    start = time.perf_counter()
    loop.run_forever()
    took = armed + time.perf_counter() - start
    assert fired[0] == n
    return took


def bench_soon(loop, n):
    left = [n]

    def on_soon():
        left[0] -= 1
        if left[0] == 0:
            loop.stop()
        elif left[0] > 0:
            loop.call_soon(on_soon)

    start = time.perf_counter()
    for _ in range(1000):
        loop.call_soon(on_soon)
    loop.run_forever()
    return time.perf_counter() - start


def main():
    what, n = sys.argv[1], int(sys.argv[2])
    if "--uvloop" in sys.argv:
        import uvloop
        loop = uvloop.new_event_loop()
    else:
        loop = asyncio.new_event_loop()
    took = (bench_timers if what == "timers" else bench_soon)(loop, n)
    loop.close()
    print("%.6f" % took)


if __name__ == "__main__":
    main()
