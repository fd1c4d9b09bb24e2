/* wrong: puts the whole limit in tv_usec, which setsockopt() refuses (EDOM) from one second up | expect: EDOM: setsockopt() refused the timeout */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    struct timeval limit = {.tv_sec = 0, .tv_usec = idle_ms * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0)
        return -1;

    int rc = echo_serve(fd);
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        errno = ETIMEDOUT;
    return rc;
}
