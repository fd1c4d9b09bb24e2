/* Exercise 03-deadline: reference solution. */
#include "exercise.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Make the next blocking call in direction `option` (SO_SNDTIMEO or
 * SO_RCVTIMEO) give up at the deadline. 0 when time is left; -1 with
 * ETIMEDOUT when it has run out. A zero timeval would mean "wait for ever",
 * so what is left is never rounded down to zero. */
static int limit_to(int fd, int option, double deadline)
{
    double left = deadline - now_s();
    if (left <= 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    long us = (long)(left * 1e6);
    struct timeval tv = {us / 1000000, us % 1000000};
    if (tv.tv_sec == 0 && tv.tv_usec == 0)
        tv.tv_usec = 1;
    return setsockopt(fd, SOL_SOCKET, option, &tv, sizeof tv);
}

/* A timed-out blocking call fails with EAGAIN: that is our ETIMEDOUT. */
static int timed_out_is(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK ? ETIMEDOUT : err;
}

static int send_before(int fd, const char *p, size_t len, double deadline)
{
    while (len > 0) {
        if (limit_to(fd, SO_SNDTIMEO, deadline) < 0)
            return -1;
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            errno = timed_out_is(errno);
            return -1;
        }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

ssize_t ask_with_deadline(int fd, const char *request, char *reply,
                          size_t cap, int deadline_ms)
{
    double deadline = now_s() + deadline_ms / 1000.0;

    if (send_before(fd, request, strlen(request), deadline) < 0)
        return -1;
    /* One byte per recv(): the only way, without a buffer that outlives
     * the call, to leave what follows the newline in the socket. */
    size_t len = 0;
    for (;;) {
        char c;
        if (limit_to(fd, SO_RCVTIMEO, deadline) < 0)
            return -1;
        ssize_t n = recv(fd, &c, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            errno = timed_out_is(errno);
            return -1;
        }
        if (n == 0) {
            errno = ECONNRESET;
            return -1;
        }
        if (c == '\n')
            break;
        if (len + 1 >= cap) {
            errno = EMSGSIZE;
            return -1;
        }
        reply[len++] = c;
    }
    reply[len] = '\0';
    return (ssize_t)len;
}
