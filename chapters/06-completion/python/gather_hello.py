"""gather_hello.py - two coroutines run together with asyncio.gather.

The Python that examples/gather-hello.c mirrors: each coroutine sleeps,
then returns a string; a done callback on the gather prints both results
in argument order; then the loop is closed.
"""
# [gather-hello-py]
import asyncio


async def hello_world():
    await asyncio.sleep(0.2)
    return "Hello World!"


async def hello_python():
    await asyncio.sleep(0.1)
    return "Hello Python!"


def print_results(gathered):
    print(gathered.result())


loop = asyncio.new_event_loop()
tasks = [loop.create_task(hello_world()), loop.create_task(hello_python())]
both = asyncio.gather(*tasks)
both.add_done_callback(print_results)
loop.run_until_complete(both)
loop.close()
# [gather-hello-py]
