/*
 * echo.c - one client's whole conversation, from first byte to last.
 */
#include "echo.h"

#include "net.h"

#include <errno.h>
#include <sys/socket.h>

/* [echo-serve] */
int echo_serve(int fd)
{
    char buf[ECHO_CHUNK];

    for (;;) {
        ssize_t got = recv(fd, buf, sizeof buf, 0);
        if (got == 0) {
            /* The client is done sending, and everything it sent has been
             * echoed: tell it we are done too. */
            shutdown(fd, SHUT_WR);
            return 0;
        }
        if (got < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        if (net_send_all(fd, buf, (size_t)got) < 0)
            return -1;
    }
}
/* [echo-serve] */
