/* wrong: stops at the first read() that returns fewer bytes than asked, taking it for "the pipe is empty", so an end of file that follows is never seen | expect: returned before a read() said EAGAIN or 0 */
#include "exercise.h"

#include <errno.h>
#include <unistd.h>

int drain_on_readable(int fd, drain_sink_t *sink)
{
    for (;;) {
        size_t room = sink->cap - sink->len;
        if (room == 0) {
            errno = ENOBUFS;
            return -1;
        }
        if (room > DRAIN_CHUNK)
            room = DRAIN_CHUNK;
        ssize_t n = read(fd, sink->data + sink->len, room);
        if (n > 0) {
            sink->len += (size_t)n;
            if ((size_t)n < room)
                return 0; /* a short read: surely drained */
            continue;
        }
        if (n == 0) {
            sink->eof = 1;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}
