/* Exercise 01-idle-timeout: reference solution. */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    /* SO_RCVTIMEO bounds each recv() call, not the whole conversation, so a
     * client that keeps talking is never cut off. tv_usec must stay below a
     * second or setsockopt() fails with EDOM. */
    struct timeval limit = {
        .tv_sec = idle_ms / 1000,
        .tv_usec = (idle_ms % 1000) * 1000,
    };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0)
        return -1;

    int rc = echo_serve(fd);
    /* A timed-out recv() fails with EAGAIN (or its twin EWOULDBLOCK). */
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        errno = ETIMEDOUT;
    return rc;
}
