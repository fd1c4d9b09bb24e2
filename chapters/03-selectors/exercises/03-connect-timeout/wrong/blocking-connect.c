/* wrong: a plain blocking connect(), which waits as long as the kernel keeps retrying whatever the timeout | expect: TIMED OUT after 10 s: connect_timeout() did not return: a blocking connect() */
#include "exercise.h"

#include "selector.h"

#include <errno.h>
#include <stddef.h>
#include <unistd.h>

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
    int rc = connect(fd, addr, len); /* the kernel's own timeout */
    if (rc < 0) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    return fd;
}
