/*
 * solution.c - exercise 01-close-while-pending: a reader whose close
 * waits for the recv the kernel still holds.
 */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>

struct reader {
    proactor_op_t op;       /* the recv; pending whenever we are not in
                             * on_data */
    proactor_t *p;
    int fd;
    char *buf;
    size_t len;
    reader_data_fn *on_data;
    reader_done_fn *on_done;
    void *arg;
    int closing;            /* reader_close() was called */
};

static void on_recv(proactor_op_t *op, int res, void *arg);

static void end(reader_t *r, int err)
{
    reader_done_fn *on_done = r->on_done;
    void *arg = r->arg;

    free(r);                /* nothing of it is in the kernel now */
    on_done(arg, err);
}

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

/* The recv's own completion: only now is the buffer ours again. It may
 * carry bytes even after a cancel, if they were there first. */
static void on_recv(proactor_op_t *op, int res, void *arg)
{
    reader_t *r = arg;
    (void)op;

    if (res > 0) {
        r->on_data(r->arg, r->buf, (size_t)res);
        if (r->closing)
            end(r, ECANCELED);
        else
            arm(r);
    } else if (res == 0) {
        end(r, r->closing ? ECANCELED : 0);
    } else {
        /* After a close, the close is what ended it, whatever error
         * came too late for the cancel */
        end(r, r->closing ? ECANCELED : -res);
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
    r->closing = 1;
    /* A request: the recv's completion still comes, through on_recv(),
     * and ends the reader there. Inside on_data nothing is in flight,
     * and on_recv() ends it when on_data returns. */
    future_cancel(&r->op.future);
}
