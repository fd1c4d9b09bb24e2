/* wrong: returns the EAGAIN a timed-out recv() leaves instead of ETIMEDOUT | expect: EAGAIN is what a timed-out recv() leaves */
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
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0)
        return -1;
    return echo_serve(fd);
}
