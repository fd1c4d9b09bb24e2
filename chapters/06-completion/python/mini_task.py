"""mini_task.py - chapter 05: asyncio's Task cut down to the seven steps.

A model, written for this book, of what asyncio.Task does (the real one,
in CPython's Lib/asyncio/tasks.py, adds cancellation, contexts, names and
checks). It drives a coroutine on asyncio's own loop and Futures, so
asyncio.sleep() works under it unchanged. Compare it with mini_task in
tests/test_minitask.c: the C Task sends the Future's outcome into the
coroutine; here the Task sends None, and the Future's __await__ (shown in
the comment at the end) hands the result to the `await` expression.
"""
# [mini-task-py]
import asyncio


class MiniTask(asyncio.Future):             # a Task is a Future...
    def __init__(self, coro, loop):
        super().__init__(loop=loop)
        self._coro = coro                   # ...that drives a coroutine
        loop.call_soon(self._step)          # 1. the first step, queued

    def _step(self, exc=None):
        try:                                # 1, 7. resume it: always None,
            if exc is None:                 # or throw the error in
                awaited = self._coro.send(None)
            else:
                awaited = self._coro.throw(exc)
        except StopIteration as done:       # it returned
            self.set_result(done.value)
        except BaseException as error:      # it raised
            self.set_exception(error)
        else:
            if awaited is None:             # a bare yield (sleep(0)):
                self.get_loop().call_soon(self._step)   # just a turn
            else:                           # 2. it yielded a Future;
                print("  step: awaits a Future, hangs _wakeup on it")
                awaited.add_done_callback(self._wakeup)     # 3.
        # 4. back to the loop, which runs other things until 5. an event
        # finishes the Future; the Future queues _wakeup with call_soon

    def _wakeup(self, awaited):             # 6. runs one turn after 5.
        print("  wakeup: the Future is done, step again")
        try:
            awaited.result()                # only to see if it failed
        except BaseException as error:
            self._step(error)
        else:
            self._step()


async def hello_world():
    print("hello_world: sleeps 0.1 s")
    await asyncio.sleep(0.1)                # a Future, yielded to _step
    print("hello_world: woke up")
    return "Hello World!"


loop = asyncio.new_event_loop()
print(loop.run_until_complete(MiniTask(hello_world(), loop)))
loop.close()

# The other half, inside asyncio.Future, in outline:
#     def __await__(self):
#         if not self.done():
#             yield self              # out to the Task's _step (2.)
#         return self.result()        # resumed by send(None): the value
# [mini-task-py]
