/* wrong: keeps only the whole seconds of idle_ms, so 300 ms becomes a zero timeout, which means none | expect: are the milliseconds below one second lost */
#include "exercise.h"

#include "echo.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

int echo_serve_with_timeout(int fd, int idle_ms)
{
    struct timeval tv = { .tv_sec = idle_ms / 1000,
                          .tv_usec = 0 };
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return -1;
    int rc = echo_serve(fd);
    if (rc < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        errno = ETIMEDOUT;
    return rc;
}
