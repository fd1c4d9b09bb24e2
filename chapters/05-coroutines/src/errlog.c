/*
 * errlog.c - log lines that are dropped, not waited for, when stderr is full.
 *
 * Setting O_NONBLOCK on stderr would be the textbook way, but the flag
 * lives in the open file description, which stderr shares with the shell,
 * the terminal, make, or whatever else writes to the same place: they would
 * all start to see EAGAIN. So the descriptor stays blocking, and poll() with
 * a timeout of zero asks first whether it can take a line now. On Linux a
 * pipe is writable while it has a free page; a line is far shorter, and
 * shorter than PIPE_BUF, so one write() takes it whole without waiting.
 * (Another process writing to the same pipe could fill it between the two
 * calls; a descriptor of one's own, non-blocking, closes that gap.)
 */
#include "errlog.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

/* Room for the drop notice (under 80 bytes even for the largest count) and
 * one line. */
#define BUF_MAX (80 + ERRLOG_LINE_MAX)

static int can_write_now(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLOUT};
    int n;
    while ((n = poll(&p, 1, 0)) < 0 && errno == EINTR)
        ;
    return n == 1 && (p.revents & POLLOUT) && !(p.revents & POLLERR);
}

int errlog_printf(errlog_t *log, const char *fmt, ...)
{
    char buf[BUF_MAX];
    size_t len = 0;

    if (log->dropped > 0)
        len = (size_t)snprintf(buf, sizeof buf, "[%lu log lines dropped: "
                               "stderr could not take them]\n", log->dropped);
    /* At most ERRLOG_LINE_MAX - 1 bytes of text, then the newline where
     * vsnprintf() put its NUL: a longer line is cut, not dropped. */
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + len, ERRLOG_LINE_MAX, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    len += (size_t)n < ERRLOG_LINE_MAX ? (size_t)n : ERRLOG_LINE_MAX - 1;
    buf[len++] = '\n';

    ssize_t written = -1;
    if (can_write_now(log->fd)) {
        while ((written = write(log->fd, buf, len)) < 0 && errno == EINTR)
            ;
    }
    if (written != (ssize_t)len) {
        log->dropped++; /* a partial line counts as lost */
        return 0;
    }
    log->dropped = 0;
    return 1;
}
