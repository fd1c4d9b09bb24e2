/* wrong: stops reading at end of stream and reports success, though the echo is incomplete | expect: a reply cut short is an error */
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
        if (net_send_all(fd, out, n) < 0)
            return -1;
        size_t got = 0;
        while (got < n) {
            ssize_t r = recv(fd, in + got, n - got, 0);
            if (r < 0)
                return -1;
            if (r == 0)
                return 0; /* the server is done */
            got += (size_t)r;
        }
        out += n;
        in += n;
        len -= n;
    }
    return 0;
}
