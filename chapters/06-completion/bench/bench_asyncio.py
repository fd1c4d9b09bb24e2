#!/usr/bin/env python3
"""The same four measurements as bench_coro.c, on CPython's asyncio loop
or on uvloop: python3 bench_asyncio.py asyncio|uvloop. Prints lines
"name value unit" like bench-coro."""
import asyncio
import sys
import time
import tracemalloc


async def yielder(n):
    for _ in range(n):
        await asyncio.sleep(0)


async def nothing():
    return 1


async def steps(tasks, n):
    start = time.perf_counter()
    await asyncio.gather(*[asyncio.ensure_future(yielder(n))
                           for _ in range(tasks)])
    return (time.perf_counter() - start) / (tasks * (n + 1)) * 1e9


async def gather(tasks):
    start = time.perf_counter()
    await asyncio.gather(*[asyncio.ensure_future(nothing())
                           for _ in range(tasks)])
    return (time.perf_counter() - start) / tasks * 1e9


async def suspended_bytes(tasks):
    ev = asyncio.Event()

    async def waiter():
        await ev.wait()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    all_ = [asyncio.ensure_future(waiter()) for _ in range(tasks)]
    await asyncio.sleep(0)
    during = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    ev.set()
    await asyncio.gather(*all_)
    return (during - before) / tasks


async def main():
    # The machine is shared: the fastest of a few runs, as in bench_coro.c.
    print("one_task %.1f ns" % min([await steps(1, 200000)
                                    for _ in range(3)]))
    print("many_tasks %.1f ns" % min([await steps(10000, 100)
                                      for _ in range(3)]))
    await gather(100000)
    print("gather %.1f ns" % min([await gather(100000) for _ in range(2)]))
    print("bytes %.0f B" % await suspended_bytes(20000))


if __name__ == "__main__":
    if sys.argv[1:] == ["uvloop"]:
        import uvloop
        uvloop.install()
    asyncio.run(main())
