/* Exercise 02-edge-triggered: reference solution. */
#include "exercise.h"

#include <errno.h>
#include <unistd.h>

int drain_on_readable(int fd, drain_sink_t *sink)
{
    /* The edge will not come again for bytes already there: take them all,
     * until the kernel says there are no more (EAGAIN) or never will be. */
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
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK)
            return 0; /* drained: now the next edge will be reported */
        return -1;
    }
}
