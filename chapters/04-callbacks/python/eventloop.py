"""eventloop.py - a callback event loop in a few dozen lines, the shape of
asyncio's BaseEventLoop and of src/loop.c: a ready queue, timers in a heap,
reader callbacks on a selector, stop().

One iteration is the four phases of loop.c: wait (not at all if callbacks
are ready, else until the earliest timer), read the clock, queue the due
timers, run what was queued when the phase began.
"""
import collections
import heapq
import itertools
import selectors
import time


class Handle:
    """A queued or scheduled callback; cancel() makes the loop skip it."""

    def __init__(self, callback, args):
        self.callback, self.args = callback, args
        self.cancelled = False

    def cancel(self):
        self.cancelled = True


class EventLoop:
    def __init__(self, selector=None):
        self._selector = selector or selectors.DefaultSelector()
        self._ready = collections.deque()  # Handles to run, in order
        self._timers = []                  # heap of (when, seq, Handle)
        self._seq = itertools.count()      # equal deadlines: first armed first
        self._readers = {}                 # fd -> Handle
        self._stopping = False

    def time(self):
        return time.monotonic()  # read afresh at every call, as asyncio does

    def call_soon(self, callback, *args):
        handle = Handle(callback, args)
        self._ready.append(handle)
        return handle

    def call_later(self, delay, callback, *args):
        return self.call_at(self.time() + delay, callback, *args)

    def call_at(self, when, callback, *args):
        handle = Handle(callback, args)
        heapq.heappush(self._timers, (when, next(self._seq), handle))
        return handle

    def add_reader(self, fd, callback, *args):
        self.remove_reader(fd)
        self._readers[fd] = Handle(callback, args)
        self._selector.register(fd, selectors.EVENT_READ)

    def remove_reader(self, fd):
        handle = self._readers.pop(fd, None)
        if handle is not None:
            handle.cancel()  # an event already queued for it is skipped
            self._selector.unregister(fd)

    def stop(self):
        self._stopping = True  # the current iteration finishes first

    def run_forever(self):
        self._stopping = False
        while not self._stopping:
            self._run_once()

    # [run-once]
    def _run_once(self):
        # 1. wait for the readers, at most until the earliest timer
        if self._ready or self._stopping:
            timeout = 0
        elif self._timers:
            timeout = max(0, self._timers[0][0] - self.time())
        else:
            timeout = None
        for key, _ in self._selector.select(timeout):
            self._ready.append(self._readers[key.fd])
        # 2. the clock, once; 3. every due timer joins the queue
        now = self.time()
        while self._timers and self._timers[0][0] <= now:
            self._ready.append(heapq.heappop(self._timers)[2])
        # 4. run what is queued now; what they queue waits for next time
        for _ in range(len(self._ready)):
            handle = self._ready.popleft()
            if not handle.cancelled:
                handle.callback(*handle.args)
    # [run-once]
