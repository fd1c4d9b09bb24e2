/* wrong: loops over whole chunks only, so the bytes after the last full chunk never make the round trip | expect: the last 17 bytes were never read back */
#include "exercise.h"

#include "echo.h"
#include "net.h"

#include <sys/socket.h>

int echo_roundtrip(int fd, const void *msg, size_t len, void *reply)
{
    const char *out = msg;
    char *in = reply;

    while (len >= ECHO_CHUNK) {
        if (net_send_all(fd, out, ECHO_CHUNK) < 0
            || net_recv_all(fd, in, ECHO_CHUNK) < 0)
            return -1;
        out += ECHO_CHUNK;
        in += ECHO_CHUNK;
        len -= ECHO_CHUNK;
    }
    return 0;
}
