/* wrong: takes "writable" for "connected" and never asks the socket how the attempt ended | expect: writable after a non-blocking connect() means the attempt finished, successfully or not */
#include "exercise.h"

#include "selector.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

/* Wait until fd is writable: a non-blocking connect() has finished, one
 * way or the other. 1 finished, 0 time is up, -1 error. */
static int wait_writable(int fd, int timeout_ms)
{
    selector_t *sel = selector_create(SELECTOR_DEFAULT);
    if (sel == NULL)
        return -1;
    int n = -1;
    if (selector_register(sel, fd, SELECTOR_WRITE, NULL) == 0)
        n = selector_select(sel, timeout_ms); /* EINTR is retried inside */
    int err = errno;
    selector_destroy(sel);
    errno = err;
    return n;
}

int connect_timeout(const struct sockaddr *addr, socklen_t len,
                    int timeout_ms)
{
    if (timeout_ms < 0) {
        errno = EINVAL;
        return -1;
    }
    int fd = socket(addr->sa_family, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int flags = fcntl(fd, F_GETFL);
    int rc = flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    if (rc == 0 && connect(fd, addr, len) < 0) {
        if (errno != EINPROGRESS)
            rc = -1;
        else if ((rc = wait_writable(fd, timeout_ms)) == 0) {
            errno = ETIMEDOUT;
            rc = -1;
        } else if (rc > 0)
            rc = 0; /* writable: connected */
    }
    if (rc == 0)
        rc = fcntl(fd, F_SETFL, flags); /* blocking again, as promised */
    if (rc < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}
