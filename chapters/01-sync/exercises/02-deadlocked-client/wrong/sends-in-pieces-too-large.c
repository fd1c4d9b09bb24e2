/* wrong: alternates send and receive, but in 1 MiB pieces, more than the socket buffers hold | expect: your client and the server are each waiting for the other */
#include "exercise.h"

#include "echo.h"
#include "net.h"

#include <sys/socket.h>

int echo_roundtrip(int fd, const void *msg, size_t len, void *reply)
{
    const char *out = msg;
    char *in = reply;
    const size_t piece = 1u << 20;

    while (len > 0) {
        size_t n = len < piece ? len : piece;
        if (net_send_all(fd, out, n) < 0 || net_recv_all(fd, in, n) < 0)
            return -1;
        out += n;
        in += n;
        len -= n;
    }
    return 0;
}
