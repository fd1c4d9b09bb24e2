/* Exercise 02-deadlocked-client: your answer. See README.md. */
#include "exercise.h"

#include "net.h"

#include <errno.h>
#include <sys/socket.h>

/* Read exactly len bytes. */
static int recv_all(int fd, char *buf, size_t len)
{
    while (len > 0) {
        ssize_t got = recv(fd, buf, len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return -1;
        buf += got;
        len -= (size_t)got;
    }
    return 0;
}

int echo_roundtrip(int fd, const void *msg, size_t len, void *reply)
{
    /* ---- TODO(exercise): fix this -------------------------------------
     * Fine for a short message; hangs forever for a long one. Work out
     * why (who is waiting for whom?), then restructure it.
     * ------------------------------------------------------------------- */
    if (net_send_all(fd, msg, len) < 0)
        return -1;
    return recv_all(fd, reply, len);
}
