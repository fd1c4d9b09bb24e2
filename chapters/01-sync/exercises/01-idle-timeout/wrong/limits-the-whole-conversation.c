/* wrong: counts idle_ms from the start of the call, so a client that keeps talking is cut off | expect: the limit is on silence, not on the whole conversation */
#include "exercise.h"

#include "echo.h"
#include "net.h"

#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

static long elapsed_ms(const struct timespec *start)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (now.tv_sec - start->tv_sec) * 1000
           + (now.tv_nsec - start->tv_nsec) / 1000000;
}

int echo_serve_with_timeout(int fd, int idle_ms)
{
    struct timespec start;
    char buf[ECHO_CHUNK];

    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        long left = idle_ms - elapsed_ms(&start);
        if (left <= 0) {
            errno = ETIMEDOUT;
            return -1;
        }
        struct timeval limit = {.tv_sec = left / 1000,
                                .tv_usec = (left % 1000) * 1000};
        if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) < 0)
            return -1;
        ssize_t n = recv(fd, buf, sizeof buf, 0);
        if (n == 0)
            return shutdown(fd, SHUT_WR);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                errno = ETIMEDOUT;
            return -1;
        }
        if (net_send_all(fd, buf, (size_t)n) < 0)
            return -1;
    }
}
