/* wrong: one read() per event, the level-triggered habit: the bytes it leaves are never announced again | expect: never announced again */
#include "exercise.h"

#include <errno.h>
#include <unistd.h>

int drain_on_readable(int fd, drain_sink_t *sink)
{
    size_t room = sink->cap - sink->len;
    if (room == 0) {
        errno = ENOBUFS;
        return -1;
    }
    ssize_t got = read(fd, sink->data + sink->len,
                       room < DRAIN_CHUNK ? room : DRAIN_CHUNK);
    if (got > 0)
        sink->len += (size_t)got;
    else if (got == 0)
        sink->eof = 1;
    else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
        return -1;
    return 0;
}
