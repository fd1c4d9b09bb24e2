"""linebuf.py - complete lines out of os.read() chunks, as src/linebuf.c.

Never read a selector-watched descriptor through a buffered file object
(sys.stdin.readline()): a line can sit in its buffer while the selector,
which only sees the kernel's side, says nothing is readable.
"""
from contract import LINE_MAX


class LineBuffer:
    def __init__(self):
        self.data = bytearray()
        self.eof = False

    def feed(self, chunk):
        """Add what one os.read() returned (b"" is end of input). An
        unfinished line longer than LINE_MAX + 2 bytes keeps only that
        much: it will be refused for its length, whatever comes next."""
        if not chunk:
            self.eof = True
        self.data += chunk
        tail = self.data.rfind(b"\n") + 1
        del self.data[tail + LINE_MAX + 2:]

    def next_line(self):
        """The next complete line without its newline, or None. At end of
        input, a last line without a newline counts."""
        end = self.data.find(b"\n")
        if end < 0 and not (self.eof and self.data):
            return None
        if end < 0:
            end = len(self.data)
        line = bytes(self.data[:end])
        del self.data[:end + 1]
        return line
