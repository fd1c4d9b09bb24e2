/* wrong: writer_refused() counts refused calls instead of refused bytes | expect: it counts the bytes refused, not the calls */
#include "exercise.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct writer {
    loop_t *loop;
    int fd;
    int old_flags;
    size_t limit;
    char *buf;        /* pending bytes are buf[head .. head + len) */
    size_t cap, head, len;
    size_t refused;
    int error;
    int watching;
};

writer_t *writer_create(loop_t *loop, int fd, size_t limit)
{
    if (limit == 0) {
        errno = EINVAL;
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return NULL;
    writer_t *w = calloc(1, sizeof *w);
    if (w == NULL)
        return NULL;
    if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0) {
        free(w);
        return NULL;
    }
    w->loop = loop;
    w->fd = fd;
    w->old_flags = flags;
    w->limit = limit;
    return w;
}

static void stop_watching(writer_t *w)
{
    if (w->watching) {
        loop_remove_writer(w->loop, w->fd);
        w->watching = 0;
    }
}

static void fail(writer_t *w, int err)
{
    w->error = err;
    w->head = w->len = 0;
    stop_watching(w);
}

/* Write as much as the descriptor takes; -1 on a lasting error. */
static ssize_t push(writer_t *w, const char *p, size_t n)
{
    size_t done = 0;
    while (done < n) {
        ssize_t k = write(w->fd, p + done, n - done);
        if (k < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            fail(w, errno);
            return -1;
        }
        done += (size_t)k;
    }
    return (ssize_t)done;
}

static void on_writable(loop_t *loop, void *arg)
{
    (void)loop;
    writer_t *w = arg;
    ssize_t k = push(w, w->buf + w->head, w->len);
    if (k < 0)
        return;
    w->head += (size_t)k;
    w->len -= (size_t)k;
    if (w->len == 0) {
        w->head = 0;
        stop_watching(w);
    }
}

static int keep(writer_t *w, const char *p, size_t n)
{
    if (w->head + w->len + n > w->cap) {
        memmove(w->buf, w->buf + w->head, w->len);
        w->head = 0;
        if (w->len + n > w->cap) {
            size_t cap = w->cap ? w->cap : 4096;
            while (cap < w->len + n)
                cap *= 2;
            if (cap > w->limit)
                cap = w->limit;
            char *buf = realloc(w->buf, cap);
            if (buf == NULL)
                return -1;
            w->buf = buf;
            w->cap = cap;
        }
    }
    memcpy(w->buf + w->head + w->len, p, n);
    w->len += n;
    if (!w->watching) {
        if (loop_add_writer(w->loop, w->fd, on_writable, w) < 0)
            return -1;
        w->watching = 1;
    }
    return 0;
}

int writer_write(writer_t *w, const void *data, size_t len)
{
    if (w->error != 0) {
        errno = w->error;
        return -1;
    }
    if (len == 0)
        return 0;
    if (w->len + len > w->limit) {
        w->refused++;
        errno = ENOBUFS;
        return -1;
    }
    const char *p = data;
    size_t done = 0;
    if (w->len == 0) {
        ssize_t k = push(w, p, len);
        if (k < 0) {
            errno = w->error;
            return -1;
        }
        done = (size_t)k;
    }
    if (done < len && keep(w, p + done, len - done) < 0)
        return -1;
    return 0;
}

size_t writer_pending(const writer_t *w)
{
    return w->len;
}

size_t writer_refused(const writer_t *w)
{
    return w->refused;
}

int writer_error(const writer_t *w)
{
    return w->error;
}

void writer_destroy(writer_t *w)
{
    if (w == NULL)
        return;
    stop_watching(w);
    fcntl(w->fd, F_SETFL, w->old_flags);
    free(w->buf);
    free(w);
}
