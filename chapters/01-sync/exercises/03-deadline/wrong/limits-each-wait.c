/* wrong: sets every wait to the full deadline_ms, an idle limit that a server dripping one byte at a time never reaches | expect: is your limit on the whole call, or only on each wait */
#include "exercise.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* A timed-out blocking call fails with EAGAIN: that is our ETIMEDOUT. */
static int timed_out_is(int err)
{
    return err == EAGAIN || err == EWOULDBLOCK ? ETIMEDOUT : err;
}

ssize_t ask_with_deadline(int fd, const char *request, char *reply,
                          size_t cap, int deadline_ms)
{
    struct timeval tv = {deadline_ms / 1000, (deadline_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) < 0
        || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) < 0)
        return -1;

    const char *p = request;
    size_t left = strlen(request);
    while (left > 0) {
        ssize_t n = send(fd, p, left, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            errno = timed_out_is(errno);
            return -1;
        }
        p += n;
        left -= (size_t)n;
    }
    size_t len = 0;
    for (;;) {
        char c;
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
