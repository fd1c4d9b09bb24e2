/* wrong: a read() interrupted by a signal (EINTR) is reported as a failure instead of being retried | expect: returned -1 with EINTR */
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
        ssize_t got = read(fd, sink->data + sink->len,
                           room < DRAIN_CHUNK ? room : DRAIN_CHUNK);
        if (got > 0) {
            sink->len += (size_t)got;
            continue;
        }
        if (got == 0) {
            sink->eof = 1;
            return 0;
        }
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0;
        return -1;
    }
}
