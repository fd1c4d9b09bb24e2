/* Exercise 02-deadlocked-client: your answer. See EXERCISE.md. */
#include "exercise.h"

#include "echo.h"
#include "net.h"

int echo_roundtrip(int fd, const void *msg, size_t len, void *reply)
{
    /* ---- TODO(exercise): fix this -------------------------------------
     * Fine for a short message; hangs for ever for a long one. Work out
     * why (who is waiting for whom?), then restructure it.
     * ------------------------------------------------------------------- */
    if (net_send_all(fd, msg, len) < 0)
        return -1;
    return net_recv_all(fd, reply, len);
}
