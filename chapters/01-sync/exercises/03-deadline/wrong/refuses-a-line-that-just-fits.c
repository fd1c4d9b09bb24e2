/* wrong: checks for room before looking at the byte, so a line that fits exactly (cap - 1 bytes) is refused | expect: is the size checked before the newline is seen */
#include "exercise.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Bound the next blocking call on fd by the time left; -1 ETIMEDOUT if none. */
static int arm(int fd, int opt, long long deadline)
{
    long long left = deadline - now_us();
    if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    struct timeval tv = { .tv_sec = left / 1000000, .tv_usec = left % 1000000 };
    return setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv);
}

static int timed_out(void)
{
    if (errno == EAGAIN || errno == EWOULDBLOCK)
        errno = ETIMEDOUT;
    return -1;
}

ssize_t ask_with_deadline(int fd, const char *request, char *reply,
                          size_t cap, int deadline_ms)
{
    long long deadline = now_us() + (long long)deadline_ms * 1000;
    size_t len = strlen(request), sent = 0;

    while (sent < len) {
        if (arm(fd, SO_SNDTIMEO, deadline) < 0)
            return -1;
        ssize_t n = send(fd, request + sent, len - sent, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return timed_out();
        }
        sent += (size_t)n;
    }

    size_t got = 0;
    for (;;) {
        if (arm(fd, SO_RCVTIMEO, deadline) < 0)
            return -1;
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return timed_out();
        }
        if (got == cap - 1) {
            errno = EMSGSIZE;
            return -1;
        }
        if (c == '\n')
            break;
        reply[got++] = c;
    }
    reply[got] = '\0';
    return (ssize_t)got;
}
