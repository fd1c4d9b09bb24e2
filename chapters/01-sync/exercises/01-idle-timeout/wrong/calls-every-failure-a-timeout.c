/* wrong: reports every failure as ETIMEDOUT, so a client that resets the connection looks like a silent one | expect: only a silent client is a timeout */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    struct timeval tv = { .tv_sec = idle_ms / 1000,
                          .tv_usec = (idle_ms % 1000) * 1000 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return -1;
    int rc = echo_serve(fd);
    if (rc < 0)
        errno = ETIMEDOUT;
    return rc;
}
