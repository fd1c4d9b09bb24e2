/* wrong: read() returning 0 is taken as "nothing more for now", like EAGAIN, so end of file is never reported | expect: end of file was never seen */
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
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0 || errno == EAGAIN || errno == EWOULDBLOCK)
            return 0; /* nothing to read: done for now */
        return -1;
    }
}
