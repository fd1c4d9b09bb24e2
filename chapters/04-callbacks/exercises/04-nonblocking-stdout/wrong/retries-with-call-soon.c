/* wrong: on EAGAIN, retries on the loop's next turn (call_soon) instead of waiting until the descriptor is writable | expect: instead of waiting until the descriptor is writable */
#include "exercise.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct writer {
    loop_t *loop;
    int fd;         /* the caller's */
    int old_flags;  /* fd's file status flags before writer_create() */
    char *buf;      /* waiting bytes [start, start + len); owned */
    size_t start, len, cap;
    size_t limit;
    size_t refused;
    int err;        /* what ended the writer, or 0 */
    int watching;   /* a loop writer callback is registered */
};

static void on_writable(loop_t *loop, void *arg);

writer_t *writer_create(loop_t *loop, int fd, size_t limit)
{
    if (limit == 0) {
        errno = EINVAL;
        return NULL;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return NULL;
    writer_t *w = calloc(1, sizeof *w);
    if (w == NULL) {
        fcntl(fd, F_SETFL, flags);
        errno = ENOMEM;
        return NULL;
    }
    w->loop = loop;
    w->fd = fd;
    w->old_flags = flags;
    w->limit = limit;
    return w;
}

/* write() once, EINTR retried: bytes written, or -1 with errno. */
static ssize_t write_some(int fd, const char *data, size_t len)
{
    ssize_t n;

    do
        n = write(fd, data, len);
    while (n < 0 && errno == EINTR);
    return n;
}

static void stop_watching(writer_t *w)
{
    w->watching = 0; /* a queued retry sees it and does nothing */
}

/* A write failed for good: nothing more will ever go out. */
static void end_with(writer_t *w, int err)
{
    w->err = err;
    w->start = w->len = 0;
    stop_watching(w);
}

static int keep(writer_t *w, const char *data, size_t len)
{
    if (w->start + w->len + len > w->cap) {
        if (w->start > 0) { /* slide what waits to the front first */
            memmove(w->buf, w->buf + w->start, w->len);
            w->start = 0;
        }
        if (w->len + len > w->cap) {
            size_t cap = w->cap ? w->cap : 4096;
            while (cap < w->len + len)
                cap *= 2;
            char *buf = realloc(w->buf, cap);
            if (buf == NULL)
                return -1;
            w->buf = buf;
            w->cap = cap;
        }
    }
    memcpy(w->buf + w->start + w->len, data, len);
    w->len += len;
    return 0;
}

int writer_write(writer_t *w, const void *data, size_t len)
{
    size_t sent = 0;

    if (w->err != 0) {
        errno = w->err;
        return -1;
    }
    if (len == 0)
        return 0;
    if (len > w->limit || w->len > w->limit - len) {
        w->refused += len;
        errno = ENOBUFS;
        return -1;
    }
    if (w->len == 0) { /* nothing waits: this may go at once */
        ssize_t n = write_some(w->fd, data, len);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            end_with(w, errno);
            return -1;
        }
        sent = n > 0 ? (size_t)n : 0;
        if (sent == len)
            return 0;
    }
    if (keep(w, (const char *)data + sent, len - sent) < 0) {
        errno = ENOMEM; /* the bytes already sent are gone: end here */
        end_with(w, ENOMEM);
        return -1;
    }
    if (!w->watching) { /* try again on the next turn of the loop */
        if (loop_call_soon(w->loop, on_writable, w) < 0) {
            end_with(w, ENOMEM);
            errno = ENOMEM;
            return -1;
        }
        w->watching = 1;
    }
    return 0;
}

static void on_writable(loop_t *loop, void *arg)
{
    writer_t *w = arg;
    if (w->watching == 0)
        return; /* ended meanwhile */
    ssize_t n = write_some(w->fd, w->buf + w->start, w->len);

    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            end_with(w, errno);
        else
            loop_call_soon(loop, on_writable, w); /* not yet: again */
        return;
    }
    w->start += (size_t)n;
    w->len -= (size_t)n;
    if (w->len == 0) {
        w->start = 0;
        w->watching = 0;
    } else {
        loop_call_soon(loop, on_writable, w);
    }
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
    return w->err;
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
