/*
 * linebuf.c - split the bytes of read() into lines, in a buffer we own.
 */
#include "linebuf.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void linebuf_init(linebuf_t *lb)
{
    lb->start = lb->len = lb->skipped = lb->scanned = 0;
    lb->eof = 0;
}

/* [linebuf-read] */
ssize_t linebuf_read(linebuf_t *lb, int fd)
{
    if (lb->start > 0) { /* slide the unfinished line to the front */
        memmove(lb->data, lb->data + lb->start, lb->len - lb->start);
        lb->len -= lb->start;
        lb->start = 0;
    }
    if (lb->len == LINEBUF_SIZE) { /* a line longer than the buffer: */
        lb->skipped += lb->len;    /* count its bytes, keep none */
        lb->len = lb->scanned = 0;
    }
    ssize_t got;
    do
        got = read(fd, lb->data + lb->len, LINEBUF_SIZE - lb->len);
    while (got < 0 && errno == EINTR);
    if (got > 0)
        lb->len += (size_t)got;
    else if (got == 0)
        lb->eof = 1;
    return got;
}
/* [linebuf-read] */

int linebuf_next(linebuf_t *lb, const char **line, size_t *len)
{
    char *begin = lb->data + lb->start;
    size_t avail = lb->len - lb->start;
    char *nl = memchr(begin + lb->scanned, '\n', avail - lb->scanned);
    size_t taken;

    if (nl != NULL) {
        taken = (size_t)(nl - begin);
        lb->start += taken + 1;
    } else if (lb->eof && (avail > 0 || lb->skipped > 0)) {
        taken = avail; /* the last line, without a newline */
        lb->start = lb->len;
    } else {
        lb->scanned = avail;
        return 0;
    }
    *line = begin;
    *len = lb->skipped + taken;
    lb->skipped = lb->scanned = 0;
    return 1;
}
