/*
 * solution.c - exercise 03-relay: two sockets joined through the
 * proactor's buffer pool, one pool buffer at most per direction.
 */
#include "exercise.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>

/* One direction: from -> to. At most one of its two operations is in the
 * kernel at a time: a pooled recv, or a send from the buffer that recv
 * filled. */
typedef struct dir {
    struct relay *r;
    int from, to;
    proactor_op_t rop;      /* the recv; holds the pool buffer after it */
    proactor_op_t sop;      /* the send of that buffer's bytes */
    proactor_op_t *busy;    /* the op in the kernel, or NULL */
    const char *data;       /* the bytes to send: in rop's pool buffer */
    size_t len, off;        /* how many; how many the kernel took */
    int ended;              /* end of stream passed on */
} dir_t;

struct relay {
    proactor_t *p;
    dir_t d[2];
    relay_done_fn *done;
    void *arg;
    int stopping;           /* cancelled or failed: no new operation */
    int err;                /* what done says */
    int holding;            /* inside stop(): no end yet */
};

static void on_recv(proactor_op_t *op, int res, void *arg);
static void on_sent(proactor_op_t *op, int res, void *arg);

/* The end, once nothing of the relay is in the kernel. */
static void maybe_end(struct relay *r)
{
    if (r->holding || r->d[0].busy != NULL || r->d[1].busy != NULL)
        return;
    if (!r->stopping && !(r->d[0].ended && r->d[1].ended))
        return;
    relay_done_fn *done = r->done;
    void *arg = r->arg;
    int err = r->err;

    free(r);
    done(arg, err);
}

/* Stop both directions: cancel what is in the kernel; the completions
 * that follow end the relay. */
static void stop(struct relay *r, int err)
{
    if (r->stopping)
        return;
    r->stopping = 1;
    r->err = err;
    r->holding = 1;         /* a cancel may complete at once */
    for (int i = 0; i < 2; i++) {
        if (r->d[i].busy != NULL)
            future_cancel(&r->d[i].busy->future);
    }
    r->holding = 0;
    maybe_end(r);
}

/* Start @p fut's op with @p cb, or stop the relay if it was refused. */
static int started(dir_t *d, proactor_op_t *op, future_t *fut,
                   void (*cb)(proactor_op_t *, int, void *))
{
    if (future_done(fut)) {
        int err = 0;
        future_result(fut, NULL, &err);
        return -err;
    }
    proactor_on_complete(op, cb, d);
    d->busy = op;
    return 0;
}

static int recv_next(dir_t *d)
{
    return started(d, &d->rop,
                   proactor_recv_pooled(&d->rop, d->r->p, d->from), on_recv);
}

static int send_rest(dir_t *d)
{
    return started(d, &d->sop,
                   proactor_send(&d->sop, d->r->p, d->to, d->data + d->off,
                                 d->len - d->off), on_sent);
}

static void on_recv(proactor_op_t *op, int res, void *arg)
{
    dir_t *d = arg;
    struct relay *r = d->r;
    int rc = 0;

    d->busy = NULL;
    if (r->stopping) {
        proactor_release(op);           /* bytes that beat the cancel */
    } else if (res > 0) {
        d->data = proactor_op_data(op); /* sent from the pool buffer */
        d->len = (size_t)res;
        d->off = 0;
        rc = send_rest(d);
        if (rc < 0)
            proactor_release(op);
    } else if (res == 0) {
        shutdown(d->to, SHUT_WR);       /* the other way goes on */
        d->ended = 1;
    } else {
        rc = res;
    }
    if (rc < 0)
        stop(r, -rc);
    else
        maybe_end(r);
}

static void on_sent(proactor_op_t *op, int res, void *arg)
{
    dir_t *d = arg;
    struct relay *r = d->r;
    int rc = 0;
    (void)op;

    d->busy = NULL;
    if (res > 0)
        d->off += (size_t)res;
    if (r->stopping || res < 0) {
        proactor_release(&d->rop);
        rc = r->stopping ? 0 : res;
    } else if (d->off < d->len) {
        rc = send_rest(d);              /* a short send: the rest */
        if (rc < 0)
            proactor_release(&d->rop);
    } else {
        proactor_release(&d->rop);      /* the kernel is done with it */
        rc = recv_next(d);
    }
    if (rc < 0)
        stop(r, -rc);
    else
        maybe_end(r);
}

relay_t *relay_start(proactor_t *p, int a, int b, relay_done_fn *done,
                     void *arg)
{
    if (p == NULL || done == NULL || a < 0 || b < 0 || a == b) {
        errno = EINVAL;
        return NULL;
    }
    struct relay *r = calloc(1, sizeof *r);
    if (r == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    r->p = p;
    r->done = done;
    r->arg = arg;
    r->d[0] = (dir_t){.r = r, .from = a, .to = b};
    r->d[1] = (dir_t){.r = r, .from = b, .to = a};
    int rc = recv_next(&r->d[0]);
    if (rc < 0) {
        free(r);
        errno = -rc;
        return NULL;
    }
    rc = recv_next(&r->d[1]);
    if (rc < 0)
        stop(r, -rc);       /* d[0]'s recv is in the kernel: done later */
    return r;
}

void relay_cancel(relay_t *r)
{
    stop(r, ECANCELED);
}
