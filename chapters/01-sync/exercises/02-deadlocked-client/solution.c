/* Exercise 02-deadlocked-client: reference solution. */
#include "exercise.h"

#include "echo.h"
#include "net.h"


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
        if (net_send_all(fd, out, chunk) < 0 || net_recv_all(fd, in, chunk) < 0)
            return -1;
        out += chunk;
        in += chunk;
        len -= chunk;
    }
    return 0;
}
