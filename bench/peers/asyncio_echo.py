#!/usr/bin/env python3
"""The Python peers of the C10K comparison: an asyncio echo server written
the two ways asyncio offers, on asyncio's own loop or on uvloop.

    asyncio_echo.py [--host ADDR] [--port N] [--api streams|protocol] [--uvloop]

Same contract as the chapters' echo-server: the first stdout line is
`listening on HOST:PORT`, every byte comes back in order, the client's
half-close is answered by finishing the writes and closing, SIGINT/SIGTERM
exit 0. Both versions stop reading from a client whose unsent output passes
asyncio's high-water mark (streams: `await writer.drain()`; protocol:
pause_writing/resume_writing), like the book's servers.

uvloop must be importable by the interpreter that runs this file; on Debian
that is /usr/bin/python3 with python3-uvloop installed.
"""
import argparse
import asyncio
import signal
import sys


# [echo-streams-py]
async def stream_client(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
        await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        writer.close()
# [echo-streams-py]


# [echo-protocol-py]
class EchoProtocol(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport

    def data_received(self, data):
        self.transport.write(data)

    def eof_received(self):
        # Returning False closes the transport once the writes are flushed.
        return False

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()
# [echo-protocol-py]


async def serve(args):
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signo in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signo, stop.set)
    if args.api == "streams":
        server = await asyncio.start_server(stream_client, args.host,
                                            args.port, backlog=4096)
    else:
        server = await loop.create_server(EchoProtocol, args.host, args.port,
                                          backlog=4096)
    host, port = server.sockets[0].getsockname()[:2]
    print("listening on %s:%d" % (host, port), flush=True)
    await stop.wait()
    server.close()
    # Python 3.12's wait_closed() waits for every client; do not.


def main():
    ap = argparse.ArgumentParser(description="asyncio echo server (a peer "
                                 "of the C10K comparison)")
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8888)
    ap.add_argument("--api", choices=("streams", "protocol"),
                    default="streams")
    ap.add_argument("--uvloop", action="store_true",
                    help="run on uvloop instead of asyncio's loop")
    args = ap.parse_args()
    if not 0 <= args.port <= 65535:
        ap.error("--port must be 0 to 65535")
    if args.uvloop:
        try:
            import uvloop
        except ImportError:
            print("asyncio_echo: uvloop is not installed for %s"
                  % sys.executable, file=sys.stderr)
            return 3
        uvloop.install()
    try:
        asyncio.run(serve(args))
    except OSError as e:
        print("asyncio_echo: %s" % e, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
