/* wrong: sets SO_SNDTIMEO, the send timeout, so a silent client still blocks recv() for ever | expect: never returned for a client that sends nothing */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    struct timeval limit = {
        .tv_sec = idle_ms / 1000,
        .tv_usec = (idle_ms % 1000) * 1000,
    };
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) < 0)
        return -1;

    int rc = echo_serve(fd);
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        errno = ETIMEDOUT;
    return rc;
}
