/* wrong: hands timeout_ms to a wait that counts in seconds, so half a second becomes eight minutes | expect: does your wait end once timeout_ms milliseconds (not seconds) have passed */
#include "exercise.h"

#include "selector.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

/* Wait for the non-blocking connect() on fd to finish: 0 connected, -1
 * with errno. */
static int wait_connected(int fd, int timeout_ms)
{
    selector_t *sel = selector_create(SELECTOR_DEFAULT);
    if (sel == NULL)
        return -1;
    int n = -1;
    if (selector_register(sel, fd, SELECTOR_WRITE, NULL) == 0)
        n = selector_select(sel, timeout_ms * 1000);
    int err = errno;
    selector_destroy(sel);
    if (n < 0) {
        errno = err;
        return -1;
    }
    if (n == 0) {
        errno = ETIMEDOUT;
        return -1;
    }
    int soerr = 0;
    socklen_t sl = sizeof soerr;
    if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0)
        return -1;
    if (soerr != 0) {
        errno = soerr;
        return -1;
    }
    return 0;
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
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        goto fail;
    if (connect(fd, addr, len) < 0) {
        if (errno != EINPROGRESS)
            goto fail;
        if (wait_connected(fd, timeout_ms) < 0)
            goto fail;
    }
    if (fcntl(fd, F_SETFL, flags) < 0)
        goto fail;
    return fd;
fail:;
    int err = errno;
    close(fd);
    errno = err;
    return -1;
}
