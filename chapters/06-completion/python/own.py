"""own.py - chapter 05: examples/own.c as asyncio writes it (Python 3.11+).

Two counters count down together in a task group, one step every 0.1 s;
asyncio.run() makes the loop, runs main() and closes the loop.
"""
# [own-py]
import asyncio


async def count(ident):
    for left in range(3, 0, -1):
        print(f"counter {ident}: {left}")
        await asyncio.sleep(0.1)


async def main():
    async with asyncio.TaskGroup() as tg:
        for ident in (1, 2):
            tg.create_task(count(ident))


asyncio.run(main())
# [own-py]
