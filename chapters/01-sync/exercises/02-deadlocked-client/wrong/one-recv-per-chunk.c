/* wrong: takes one recv() as the whole echo of a chunk, though recv() may return fewer bytes | expect: a recv() may return fewer bytes than asked for */
#include "exercise.h"

#include "echo.h"
#include "net.h"

#include <sys/socket.h>

int echo_roundtrip(int fd, const void *msg, size_t len, void *reply)
{
    const char *out = msg;
    char *in = reply;

    while (len > 0) {
        size_t n = len < ECHO_CHUNK ? len : ECHO_CHUNK;
        if (net_send_all(fd, out, n) < 0 || recv(fd, in, n, 0) <= 0)
            return -1;
        out += n;
        in += n;
        len -= n;
    }
    return 0;
}
