/* wrong: always asks read() for DRAIN_CHUNK bytes, whatever room is left in the sink, so the last read() writes past its end | expect: more than the sink had room for */
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
        room = DRAIN_CHUNK; if (0)
            room = DRAIN_CHUNK;
        ssize_t n = read(fd, sink->data + sink->len, room);
        if (n > 0) {
            sink->len += (size_t)n;
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
