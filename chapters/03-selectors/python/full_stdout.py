#!/usr/bin/env python3
"""full_stdout.py - asyncio stalls on a full stdout as build/hello does,
unless stdout is one more descriptor of the loop.

    full_stdout.py print|transport

Answers input lines as hello does (fib(n), `exit` to quit), on asyncio,
with no hellos. With `print`, each answer is a print(): a blocking write,
even inside a coroutine. When stdout is a pipe nobody reads, the pipe
fills, that write blocks the loop's only thread, and an `exit` waiting on
stdin is never read. With `transport`, stdout is a write transport of the
loop (loop.connect_write_pipe()): non-blocking, what the pipe does not
take kept in the transport's buffer, which the loop drains whenever the
pipe is writable. Past BUFFER_MAX unsent bytes, answers are dropped (the
rule this program picks for output nobody takes), so memory stays
bounded and the loop stays free to read `exit`.

Both transports make their descriptor non-blocking; the program puts the
flag back as it found it when it ends (not when it is killed).
"""
import asyncio
import os
import signal
import sys

from contract import answer, say as print_line

BUFFER_MAX = 64 * 1024  # unsent bytes past which answers are dropped


async def main(mode):
    loop = asyncio.get_running_loop()
    transport = None
    say = print_line  # print(..., flush=True): blocks while the pipe is full
    if mode == "transport":
        transport, _ = await loop.connect_write_pipe(
            asyncio.Protocol, os.fdopen(os.dup(1), "wb", buffering=0))

        def say(text, file=sys.stdout):
            if file is not sys.stdout:
                print_line(text, file=file)  # error lines: stderr, as before
            elif transport.get_write_buffer_size() < BUFFER_MAX:
                transport.write(text.encode() + b"\n")

    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader),
                                 os.fdopen(os.dup(0), "rb", buffering=0))
    while True:
        line = await reader.readline()
        if line == b"" or answer(line.rstrip(b"\n"), say):
            break
    if transport is not None:
        transport.abort()  # nobody reads: drop what is still unsent


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    if len(sys.argv) != 2 or sys.argv[1] not in ("print", "transport"):
        sys.exit("usage: full_stdout.py print|transport")
    # asyncio's pipe transports set O_NONBLOCK, a flag of the file
    # description: on a terminal, the shell's too. Hand it back as found.
    # (They are given duplicates of 0 and 1, so that closing them leaves
    # 0 and 1 open for this.)
    blocking = {fd: os.get_blocking(fd) for fd in (0, 1)}
    try:
        asyncio.run(main(sys.argv[1]))
    except ValueError as e:  # a regular file: asyncio's pipes refuse it
        sys.exit("full_stdout.py: %s (stdin and stdout must be pipes or "
                 "terminals)" % e)
    finally:
        for fd, was in blocking.items():
            os.set_blocking(fd, was)
