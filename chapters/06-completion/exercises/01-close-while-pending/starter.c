/*
 * starter.c - exercise 01-close-while-pending. Reading works; closing
 * does not yet: write reader_close(), and whatever on_recv() needs for it.
 */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>

struct reader {
    proactor_op_t op;       /* the recv */
    proactor_t *p;
    int fd;
    char *buf;
    size_t len;
    reader_data_fn *on_data;
    reader_done_fn *on_done;
    void *arg;
};

static void on_recv(proactor_op_t *op, int res, void *arg);

/* The reader is over: free it, then say so. */
static void end(reader_t *r, int err)
{
    reader_done_fn *on_done = r->on_done;
    void *arg = r->arg;

    free(r);
    on_done(arg, err);
}

/* Start the next recv into the caller's buffer. */
static void arm(reader_t *r)
{
    future_t *f = proactor_recv(&r->op, r->p, r->fd, r->buf, r->len);

    if (future_done(f)) {   /* not even queued: no completion will come */
        int err = 0;
        future_result(f, NULL, &err);
        end(r, err);
        return;
    }
    proactor_on_complete(&r->op, on_recv, r);
}

/* A recv's completion: res is the byte count, 0 at end of stream, or
 * -errno (proactor_on_complete() in proactor.h). */
static void on_recv(proactor_op_t *op, int res, void *arg)
{
    reader_t *r = arg;
    (void)op;

    if (res > 0) {
        r->on_data(r->arg, r->buf, (size_t)res);
        arm(r);
    } else {
        end(r, -res);
    }
}

reader_t *reader_open(proactor_t *p, int fd, char *buf, size_t len,
                      reader_data_fn *on_data, reader_done_fn *on_done,
                      void *arg)
{
    if (p == NULL || buf == NULL || len == 0 || on_data == NULL ||
        on_done == NULL) {
        errno = EINVAL;
        return NULL;
    }
    reader_t *r = calloc(1, sizeof *r);
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    *r = (reader_t){.p = p, .fd = fd, .buf = buf, .len = len,
                    .on_data = on_data, .on_done = on_done, .arg = arg};
    future_t *f = proactor_recv(&r->op, p, fd, buf, len);
    if (future_done(f)) {
        int err = 0;
        future_result(f, NULL, &err);
        free(r);
        errno = err;
        return NULL;
    }
    proactor_on_complete(&r->op, on_recv, r);
    return r;
}

void reader_close(reader_t *r)
{
    (void)r; /* TODO: the contract is in exercise.h */
}
