/* Exercise 02-deadlocked-client: reference solution. */
#include "exercise.h"

#include "echo.h"
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
    const char *out = msg;
    char *in = reply;

    /* Sending everything first deadlocks: the server blocks sending echoes
     * that we are not reading, so it stops reading, so our send blocks too.
     * Send a chunk small enough to fit in the socket buffers, take its echo
     * back, and only then send the next one. */
    while (len > 0) {
        size_t chunk = len < ECHO_CHUNK ? len : ECHO_CHUNK;
        if (net_send_all(fd, out, chunk) < 0 || recv_all(fd, in, chunk) < 0)
            return -1;
        out += chunk;
        in += chunk;
        len -= chunk;
    }
    return 0;
}
