/* wrong: with the sink full it still calls read() for the room left, 0 bytes, and takes the 0 it returns for end of file | expect: a read() asked for 0 bytes when the sink was full */
#include "exercise.h"

#include <errno.h>
#include <unistd.h>

int drain_on_readable(int fd, drain_sink_t *sink)
{
    for (;;) {
        size_t room = sink->cap - sink->len;
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
            return 0;
        return -1;
    }
}
