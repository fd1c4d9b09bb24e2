/* wrong: treats EAGAIN like EINTR and reads again, so the loop never ends once the pipe is empty | expect: TIMED OUT after 10 s: drain_on_readable() did not return */
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
        if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
            continue; /* "try again", it says */
        return -1;
    }
}
