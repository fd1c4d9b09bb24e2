/* wrong: treats every failed read() but EINTR like EAGAIN, so a real error (EIO, EBADF) is reported as success | expect: a read() failed with EIO and drain_on_readable() returned 0 */
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
            continue;
        }
        if (n == 0) {
            sink->eof = 1;
            return 0;
        }
        if (errno == EINTR)
            continue;
        if (errno != EINTR)
            return 0;
        return -1;
    }
}
