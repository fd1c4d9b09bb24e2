/*
 * proactor.c - chapter 06: the loop's I/O as operations on an io_uring.
 *
 * Chapter 05's sock.c waits for readiness, then makes the system call
 * itself. Here the system call is the thing submitted: an entry in the
 * ring's submission queue names the operation, its descriptor and its
 * buffer, and the kernel puts a completion (the result recv() would have
 * returned) in the completion queue when it is done. Each completion
 * finishes the Future of its operation, so the coroutines above do not
 * see the difference: they await Futures, as before.
 *
 * Every entry carries a pointer back to its operation (user_data); two
 * values that are not pointers mark the other completions: a cancel
 * request's own answer, which nobody needs (the operation's completion
 * says what happened), and the poll on the selector's epoll descriptor.
 */
#define _GNU_SOURCE /* MSG_NOSIGNAL, SOCK_CLOEXEC */
#include "proactor.h"

#include <errno.h>
#include <liburing.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#define TAG_IGNORE ((void *)0)
#define TAG_SELECTOR ((void *)1)
#define TAG_RX 2u    /* low bits of a kept receive's user_data (an op's
                        pointer has them 0: ops are 8-byte aligned) */
#define POOL_GROUP 0 /* the buffer group id of the pool */

enum op_kind {
    K_RECV, K_RECV_POOL, K_READ, K_READ_POOL, K_SEND, K_WRITE, K_ACCEPT,
    K_CONNECT, K_ACCEPT_MULTI, K_RECV_MULTI,
};

enum op_state {
    S_IDLE,       /* not in the kernel */
    S_IN_FLIGHT,  /* submitted (or queued to be), completion to come */
    S_CANCELLING, /* in flight, and a cancel was requested */
    S_STARVED,    /* a pooled recv waiting for a pool buffer */
    S_DONE,       /* a kept receive: completed, not proactor_rx_done() */
    S_FREE,       /* a kept receive's entry: unused */
};

/* A kept receive (proactor_rx_start()): its entry in the proactor's
 * table. The kernel's user_data names it by index and generation, so a
 * late completion or cancel finds the entry, never its owner, and never
 * an entry reused since. */
struct rx {
    void (*cb)(void *arg, int res); /* NULL once let go of */
    void *arg;
    int fd;
    union {
        int res;          /* S_DONE: the result */
        int next;         /* S_FREE, S_STARVED: the next on its list */
    };
    uint16_t gen;         /* bumped at every reuse of the entry */
    int16_t bid;          /* the pool buffer it holds, or -1 */
    unsigned char state;
    unsigned char is_socket;
};

struct proactor {
    loop_hook_t hook;          /* first: the hook is how a loop finds us */
    loop_t *loop;
    struct io_uring ring;
    struct io_uring_buf_ring *br; /* the pool's ring of free buffers */
    char *pool;                /* pool_count buffers of pool_size bytes */
    unsigned pool_count;
    size_t pool_size;
    proactor_op_t *starved;    /* pooled recvs waiting for a buffer, FIFO */
    proactor_op_t *starved_tail;
    struct rx *rx;             /* kept receives' entries; index = handle-1 */
    unsigned rx_cap;
    int rx_free;               /* first free entry, or -1 */
    int rx_starved, rx_starved_tail; /* waiting for a pool buffer, FIFO */
    void *blocks;              /* proactor_block_put()'s, linked through
                                  their first bytes */
    unsigned nblocks;
    int deferred;              /* DEFER_TASKRUN: completions come only
                                  inside io_uring_enter() */
    int sel_armed;             /* the poll on the selector is in flight */
    int sel_ready;             /* ... and completed in this wait */
    proactor_stats_t stats;
};

static void destroy_hook(loop_t *loop, loop_hook_t *hook);
static void rx_resubmit(proactor_t *p);
static void rx_complete(proactor_t *p, __u64 data, int res, unsigned flags);
static int op_cancel(future_t *future);
static void finish(proactor_op_t *op, int res, int was_cancelling);

/* ---- the ring ------------------------------------------------------------- */

/* A free entry in the submission queue. A full queue is handed to the
 * kernel first: the batch ends early, nothing is lost. */
static struct io_uring_sqe *get_sqe(proactor_t *p)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(&p->ring);

    if (sqe == NULL) {
        unsigned pending = io_uring_sq_ready(&p->ring);
        if (io_uring_submit(&p->ring) > 0) {
            p->stats.enters++;
            p->stats.submitted += pending - io_uring_sq_ready(&p->ring);
        }
        sqe = io_uring_get_sqe(&p->ring);
    }
    return sqe;
}

static char *pool_buffer(const proactor_t *p, int bid)
{
    return p->pool + (size_t)bid * p->pool_size;
}

/* Put a pool buffer back in the ring the kernel picks from. */
static void pool_put(proactor_t *p, int bid)
{
    io_uring_buf_ring_add(p->br, pool_buffer(p, bid), (unsigned)p->pool_size,
                          (unsigned short)bid,
                          io_uring_buf_ring_mask(p->pool_count), 0);
    io_uring_buf_ring_advance(p->br, 1);
    p->stats.pool_free++;
}

static int pool_init(proactor_t *p)
{
    size_t ring_bytes = p->pool_count * sizeof(struct io_uring_buf);

    /* mmap, not malloc: page-aligned as the kernel wants the ring, and
     * the buffers' pages cost memory only once data has been put in. */
    p->br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    p->pool = mmap(NULL, p->pool_count * p->pool_size,
                   PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p->br == MAP_FAILED || p->pool == MAP_FAILED)
        return -1;
    struct io_uring_buf_reg reg = {
        .ring_addr = (unsigned long)p->br,
        .ring_entries = p->pool_count,
        .bgid = POOL_GROUP,
    };
    int rc = io_uring_register_buf_ring(&p->ring, &reg, 0);
    if (rc < 0) {
        errno = rc == -EINVAL ? ENOSYS : -rc; /* before Linux 5.19 */
        return -1;
    }
    io_uring_buf_ring_init(p->br);
    for (unsigned i = 0; i < p->pool_count; i++)
        pool_put(p, (int)i);
    return 0;
}

static void pool_deinit(proactor_t *p)
{
    if (p->br != NULL && p->br != MAP_FAILED)
        munmap(p->br, p->pool_count * sizeof(struct io_uring_buf));
    if (p->pool != NULL && p->pool != MAP_FAILED)
        munmap(p->pool, p->pool_count * p->pool_size);
}

/* ---- submitting ------------------------------------------------------------ */

/* Fill an entry for @p op from its kind and fields; the op goes in flight. */
static int submit(proactor_op_t *op)
{
    proactor_t *p = op->proactor;
    struct io_uring_sqe *sqe = get_sqe(p);

    if (sqe == NULL) {
        errno = EBUSY;
        return -1;
    }
    switch (op->kind) {
    case K_RECV:
        io_uring_prep_recv(sqe, op->fd, op->buf, op->len, 0);
        break;
    case K_RECV_POOL:
    case K_READ_POOL:
    case K_RECV_MULTI:
        if (op->kind == K_RECV_POOL)
            io_uring_prep_recv(sqe, op->fd, NULL, p->pool_size, 0);
        else if (op->kind == K_READ_POOL)
            io_uring_prep_read(sqe, op->fd, NULL, (unsigned)p->pool_size,
                               (__u64)-1);
        else
            io_uring_prep_recv_multishot(sqe, op->fd, NULL, 0, 0);
        sqe->flags |= IOSQE_BUFFER_SELECT; /* the kernel picks the buffer */
        sqe->buf_group = POOL_GROUP;
        break;
    case K_READ: /* offset -1: the descriptor's own position, as read() */
        io_uring_prep_read(sqe, op->fd, op->buf, (unsigned)op->len,
                           (__u64)-1);
        break;
    case K_SEND:
        io_uring_prep_send(sqe, op->fd, op->buf, op->len, MSG_NOSIGNAL);
        break;
    case K_WRITE:
        io_uring_prep_write(sqe, op->fd, op->buf, (unsigned)op->len,
                            (__u64)-1);
        break;
    case K_ACCEPT:
        io_uring_prep_accept(sqe, op->fd, NULL, NULL, SOCK_CLOEXEC);
        break;
    case K_ACCEPT_MULTI:
        io_uring_prep_multishot_accept(sqe, op->fd, NULL, NULL, SOCK_CLOEXEC);
        break;
    case K_CONNECT:
        io_uring_prep_connect(sqe, op->fd, op->buf, (socklen_t)op->len);
        break;
    }
    io_uring_sqe_set_data(sqe, op);
    op->state = S_IN_FLIGHT;
    p->stats.in_flight++;
    return 0;
}

/* [proactor-start] */
/* Make @p op a pending operation of @p kind and queue it. The entry
 * reaches the kernel with the loop's next wait, together with every
 * other entry queued until then. */
static future_t *start(proactor_op_t *op, proactor_t *p, unsigned kind,
                       int fd, void *buf, size_t len)
{
    future_init(&op->future, p->loop);
    op->future.cancel = op_cancel;
    op->proactor = p;
    op->next = NULL;
    op->kind = kind;
    op->fd = fd;
    op->buf = buf;
    op->len = len;
    op->bid = -1;
    op->res = 0;
    op->state = S_IDLE;
    op->let_go = 0;
    op->on_complete = NULL;
    if (submit(op) < 0)
        future_set_error(&op->future, errno);
    return &op->future;
}
/* [proactor-start] */

future_t *proactor_recv(proactor_op_t *op, proactor_t *p, int fd, void *buf,
                        size_t len)
{
    return start(op, p, K_RECV, fd, buf, len);
}

future_t *proactor_recv_pooled(proactor_op_t *op, proactor_t *p, int fd)
{
    return start(op, p, K_RECV_POOL, fd, NULL, 0);
}

future_t *proactor_read(proactor_op_t *op, proactor_t *p, int fd, void *buf,
                        size_t len)
{
    return start(op, p, K_READ, fd, buf, len);
}

future_t *proactor_read_pooled(proactor_op_t *op, proactor_t *p, int fd)
{
    return start(op, p, K_READ_POOL, fd, NULL, 0);
}

future_t *proactor_write(proactor_op_t *op, proactor_t *p, int fd,
                         const void *buf, size_t len)
{
    return start(op, p, K_WRITE, fd, (void *)(uintptr_t)buf, len);
}

void proactor_on_complete(proactor_op_t *op,
                          void (*cb)(proactor_op_t *, int, void *), void *arg)
{
    op->on_complete = cb;
    op->arg = arg;
}

future_t *proactor_send(proactor_op_t *op, proactor_t *p, int fd,
                        const void *buf, size_t len)
{
    /* The kernel only reads it; the op's field is not const because
     * receives share it. */
    return start(op, p, K_SEND, fd, (void *)(uintptr_t)buf, len);
}

future_t *proactor_accept(proactor_op_t *op, proactor_t *p, int fd)
{
    return start(op, p, K_ACCEPT, fd, NULL, 0);
}

future_t *proactor_connect(proactor_op_t *op, proactor_t *p, int fd,
                           const struct sockaddr *addr, socklen_t addrlen)
{
    return start(op, p, K_CONNECT, fd, (void *)(uintptr_t)addr, addrlen);
}

static int start_multishot(proactor_op_t *op, proactor_t *p, unsigned kind,
                           int fd, void (*cb)(proactor_op_t *, int, void *),
                           void *arg)
{
    start(op, p, kind, fd, NULL, 0);
    if (future_done(&op->future))
        return -1; /* errno from submit() */
    op->on_complete = cb;
    op->arg = arg;
    return 0;
}

int proactor_multishot_accept(proactor_op_t *op, proactor_t *p, int fd,
                              void (*cb)(proactor_op_t *, int, void *),
                              void *arg)
{
    return start_multishot(op, p, K_ACCEPT_MULTI, fd, cb, arg);
}

int proactor_multishot_recv(proactor_op_t *op, proactor_t *p, int fd,
                            void (*cb)(proactor_op_t *, int, void *),
                            void *arg)
{
    return start_multishot(op, p, K_RECV_MULTI, fd, cb, arg);
}

int proactor_multishot_active(const proactor_op_t *op)
{
    return op->state == S_IN_FLIGHT || op->state == S_CANCELLING;
}

/* ---- cancelling ------------------------------------------------------------ */

/* [proactor-cancel] */
/* Ask the kernel to cancel @p op. Its answer (found, not found, too late)
 * is ignored: the op's own completion comes either way and says how it
 * ended. Until then the buffer stays the kernel's. */
static void request_cancel(proactor_op_t *op)
{
    proactor_t *p = op->proactor;
    struct io_uring_sqe *sqe = get_sqe(p);

    op->state = S_CANCELLING;
    if (sqe == NULL)
        return; /* the op completes anyway, only later */
    io_uring_prep_cancel64(sqe, (__u64)(uintptr_t)op, 0);
    io_uring_sqe_set_data(sqe, TAG_IGNORE);
    p->stats.cancels++;
}
/* [proactor-cancel] */

static void unstarve(proactor_t *p, proactor_op_t *op)
{
    proactor_op_t **link = &p->starved, *prev = NULL;

    while (*link != NULL && *link != op) {
        prev = *link;
        link = &(*link)->next;
    }
    if (*link == NULL)
        return;
    *link = op->next;
    if (p->starved_tail == op)
        p->starved_tail = prev;
    op->next = NULL;
}

/* [proactor-cancel-hook] */
/* The Future's cancel hook: a request, except for a recv that is not in
 * the kernel at all (waiting for a pool buffer), which ends at once. */
static int op_cancel(future_t *future)
{
    proactor_op_t *op = (proactor_op_t *)future;

    switch (op->state) {
    case S_IN_FLIGHT:
        request_cancel(op);
        return 1;
    case S_CANCELLING:
        return 1;
    case S_STARVED:
        unstarve(op->proactor, op);
        op->state = S_IDLE;
        finish(op, -ECANCELED, 1);
        return 1;
    }
    future_set_cancelled(future);
    return 1;
}
/* [proactor-cancel-hook] */

void proactor_cancel_multishot(proactor_op_t *op)
{
    if (op->state == S_IN_FLIGHT)
        request_cancel(op);
}

/* ---- completing ------------------------------------------------------------- */

const char *proactor_op_data(const proactor_op_t *op)
{
    return op->bid >= 0 ? pool_buffer(op->proactor, op->bid) : NULL;
}

/* A buffer came back: the oldest recv that found the pool empty goes to
 * the kernel again. */
static void pool_release(proactor_t *p, int bid)
{
    pool_put(p, bid);
    proactor_op_t *waiting = p->starved;
    if (waiting != NULL) {
        unstarve(p, waiting);
        if (submit(waiting) < 0) {
            waiting->state = S_IDLE;
            finish(waiting, -errno, 0);
        }
    } else if (p->rx_starved >= 0) {
        rx_resubmit(p);
    }
}

void proactor_let_go(proactor_op_t *op)
{
    op->let_go = 1;
}

void proactor_release(proactor_op_t *op)
{
    if (op->bid < 0)
        return;
    pool_release(op->proactor, op->bid);
    op->bid = -1;
}

/* [pool-starve] */
/* A pooled recv the kernel found no buffer for: not an error for the
 * caller. It waits (holding nothing) until a buffer is released. */
static void starve(proactor_t *p, proactor_op_t *op)
{
    p->stats.nobufs++;
    if (p->stats.pool_free > 0 && submit(op) == 0)
        return; /* one came back since the kernel looked */
    op->state = S_STARVED;
    if (p->starved_tail != NULL)
        p->starved_tail->next = op;
    else
        p->starved = op;
    p->starved_tail = op;
}
/* [pool-starve] */

/* [proactor-complete] */
static void finish(proactor_op_t *op, int res, int was_cancelling)
{
    if (was_cancelling && res == -EINTR)
        res = -ECANCELED;
    if (op->on_complete != NULL) { /* a layer with Futures of its own */
        op->on_complete(op, res, op->arg);
        return;
    }
    if (res >= 0)
        future_set_result(&op->future, (void *)(intptr_t)res);
    else if (res == -ECANCELED)
        future_set_cancelled(&op->future);
    else
        future_set_error(&op->future, -res);
}

static void complete(proactor_t *p, proactor_op_t *op, int res,
                     unsigned flags)
{
    int was_cancelling = op->state == S_CANCELLING;

    p->stats.completions++;
    if (op->kind == K_ACCEPT_MULTI || op->kind == K_RECV_MULTI)
        op->bid = -1;         /* the last completion's went back already */
    if (flags & IORING_CQE_F_BUFFER) {
        op->bid = (int)(flags >> IORING_CQE_BUFFER_SHIFT);
        p->stats.pool_free--;
    }
    op->res = res;
    if (!(flags & IORING_CQE_F_MORE)) {
        op->state = S_IDLE;
        p->stats.in_flight--;
    }
    if (op->kind == K_ACCEPT_MULTI || op->kind == K_RECV_MULTI) {
        int bid = op->bid;    /* the callback may free op on its last */
        op->on_complete(op, res, op->arg);
        if (bid >= 0)         /* a recv's buffer lives for the callback */
            pool_release(p, bid);
        return;
    }
    if (res == -ENOBUFS && !was_cancelling &&
        (op->kind == K_RECV_POOL || op->kind == K_READ_POOL)) {
        starve(p, op);
        return;
    }
    finish(op, res, was_cancelling);
}
/* [proactor-complete] */

/* Every completion in the queue, without a system call: the queue is
 * memory shared with the kernel. */
static void reap(proactor_t *p)
{
    struct io_uring_cqe *cqe;

    while (io_uring_peek_cqe(&p->ring, &cqe) == 0) {
        void *data = io_uring_cqe_get_data(cqe);
        int res = cqe->res;
        unsigned flags = cqe->flags;

        io_uring_cqe_seen(&p->ring, cqe); /* before the callbacks: they
                                           * may submit and reap again */
        if (data == TAG_SELECTOR) {
            p->sel_armed = 0;
            p->sel_ready = 1;
        } else if (((uintptr_t)data & 3) == TAG_RX) {
            rx_complete(p, (__u64)(uintptr_t)data, res, flags);
        } else if (data != TAG_IGNORE) {
            complete(p, data, res, flags);
        }
    }
}

/* ---- kept receives ----------------------------------------------------------- */

/* What the kernel's entry carries: index and generation, tagged. */
static __u64 rx_user_data(const proactor_t *p, unsigned i)
{
    return (__u64)p->rx[i].gen << 32 | (__u64)i << 2 | TAG_RX;
}

static int rx_submit(proactor_t *p, unsigned i)
{
    struct io_uring_sqe *sqe = get_sqe(p);
    struct rx *r = &p->rx[i];

    if (sqe == NULL) {
        errno = EBUSY;
        return -1;
    }
    if (r->is_socket)
        io_uring_prep_recv(sqe, r->fd, NULL, p->pool_size, 0);
    else
        io_uring_prep_read(sqe, r->fd, NULL, (unsigned)p->pool_size,
                           (__u64)-1);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = POOL_GROUP;
    io_uring_sqe_set_data64(sqe, rx_user_data(p, i));
    r->state = S_IN_FLIGHT;
    p->stats.in_flight++;
    return 0;
}

/* More entries: the table doubles, the new ones go on the free list.
 * Handles are indices, so moving the table moves nothing they name. */
static int rx_grow(proactor_t *p)
{
    unsigned cap = p->rx_cap ? p->rx_cap * 2 : 16;
    struct rx *t = cap > 0xffffffffu / 4 ? NULL
                   : realloc(p->rx, cap * sizeof *t);

    if (t == NULL) {
        errno = ENOMEM;
        return -1;
    }
    for (unsigned i = p->rx_cap; i < cap; i++) {
        t[i] = (struct rx){.state = S_FREE, .bid = -1};
        t[i].next = i + 1 < cap ? (int)i + 1 : p->rx_free;
    }
    p->rx_free = (int)p->rx_cap;
    p->rx = t;
    p->rx_cap = cap;
    return 0;
}

/* The entry is unused again; its pool buffer, if any, goes back. */
static void rx_free_entry(proactor_t *p, unsigned i)
{
    struct rx *r = &p->rx[i];
    int bid = r->bid;

    r->bid = -1;
    r->cb = NULL;
    r->state = S_FREE;
    r->gen++;                 /* a late cancel of the old one misses */
    r->next = p->rx_free;
    p->rx_free = (int)i;
    if (bid >= 0)
        pool_release(p, bid); /* may submit a starved one: no realloc */
}

/* Finished for its owner: the callback, which may do anything (start
 * receives, so move the table: nothing of it is used after). */
static void rx_finish(proactor_t *p, unsigned i, int res)
{
    struct rx *r = &p->rx[i];

    r->state = S_DONE;
    r->res = res;
    r->cb(r->arg, res);
}

static void rx_unstarve(proactor_t *p, unsigned i)
{
    int *link = &p->rx_starved, prev = -1;

    while (*link >= 0 && *link != (int)i) {
        prev = *link;
        link = &p->rx[*link].next;
    }
    if (*link < 0)
        return;
    *link = p->rx[i].next;
    if (p->rx_starved_tail == (int)i)
        p->rx_starved_tail = prev;
}

/* As starve(): an empty pool is waited out, holding nothing. */
static void rx_starve(proactor_t *p, unsigned i)
{
    p->stats.nobufs++;
    if (p->stats.pool_free > 0 && rx_submit(p, i) == 0)
        return;
    p->rx[i].state = S_STARVED;
    p->rx[i].next = -1;
    if (p->rx_starved_tail >= 0)
        p->rx[p->rx_starved_tail].next = (int)i;
    else
        p->rx_starved = (int)i;
    p->rx_starved_tail = (int)i;
}

/* A buffer came back and no op waits for one: the oldest starved kept
 * receive goes to the kernel again. */
static void rx_resubmit(proactor_t *p)
{
    unsigned i = (unsigned)p->rx_starved;

    rx_unstarve(p, i);
    if (rx_submit(p, i) < 0)
        rx_finish(p, i, -errno);
}

static void rx_complete(proactor_t *p, __u64 data, int res, unsigned flags)
{
    unsigned i = (unsigned)(data & 0xffffffffu) >> 2;
    struct rx *r = &p->rx[i];
    int was_cancelling = r->state == S_CANCELLING;

    p->stats.completions++;
    p->stats.in_flight--;
    if (flags & IORING_CQE_F_BUFFER) {
        r->bid = (int16_t)(flags >> IORING_CQE_BUFFER_SHIFT);
        p->stats.pool_free--;
    }
    if (r->cb == NULL) {      /* let go of: nobody to tell */
        rx_free_entry(p, i);
        return;
    }
    if (res == -ENOBUFS && !was_cancelling) {
        rx_starve(p, i);
        return;
    }
    if (was_cancelling && (res == -EINTR || res == -ENOBUFS))
        res = -ECANCELED;
    rx_finish(p, i, res);
}

proactor_rx_t proactor_rx_start(proactor_t *p, int fd, int is_socket,
                                void (*cb)(void *arg, int res), void *arg)
{
    if (p->rx_free < 0 && rx_grow(p) < 0)
        return 0;
    unsigned i = (unsigned)p->rx_free;
    struct rx *r = &p->rx[i];

    p->rx_free = r->next;
    r->cb = cb;
    r->arg = arg;
    r->fd = fd;
    r->is_socket = is_socket != 0;
    r->bid = -1;
    if (rx_submit(p, i) < 0) {
        rx_free_entry(p, i);
        errno = EBUSY;
        return 0;
    }
    return i + 1;
}

const char *proactor_rx_data(const proactor_t *p, proactor_rx_t rx,
                             size_t *len)
{
    const struct rx *r = &p->rx[rx - 1];
    int some = r->state == S_DONE && r->bid >= 0 && r->res > 0;

    *len = some ? (size_t)r->res : 0;
    return some ? pool_buffer(p, r->bid) : NULL;
}

void proactor_rx_cancel(proactor_t *p, proactor_rx_t rx)
{
    unsigned i = rx - 1;
    struct rx *r = &p->rx[i];

    if (r->state == S_STARVED) { /* not in the kernel: ends at once */
        rx_unstarve(p, i);
        rx_finish(p, i, -ECANCELED);
        return;
    }
    if (r->state != S_IN_FLIGHT)
        return;
    r->state = S_CANCELLING;
    struct io_uring_sqe *sqe = get_sqe(p);
    if (sqe == NULL)
        return;               /* it completes anyway, only later */
    io_uring_prep_cancel64(sqe, rx_user_data(p, i), 0);
    io_uring_sqe_set_data(sqe, TAG_IGNORE);
    p->stats.cancels++;
}

void proactor_rx_done(proactor_t *p, proactor_rx_t rx)
{
    rx_free_entry(p, rx - 1);
}

void proactor_rx_let_go(proactor_t *p, proactor_rx_t rx)
{
    unsigned i = rx - 1;
    struct rx *r = &p->rx[i];

    if (r->state == S_IN_FLIGHT || r->state == S_CANCELLING) {
        proactor_rx_cancel(p, rx);
        r = &p->rx[i];
        r->cb = NULL;         /* its completion frees the entry */
        return;
    }
    if (r->state == S_STARVED)
        rx_unstarve(p, i);
    rx_free_entry(p, i);
}

/* ---- blocks ------------------------------------------------------------------ */

void *proactor_block_get(proactor_t *p)
{
    void *block = p->blocks;

    if (block == NULL) {
        block = malloc(PROACTOR_POOL_SIZE);
        if (block == NULL)
            errno = ENOMEM;
        return block;
    }
    memcpy(&p->blocks, block, sizeof p->blocks);
    p->nblocks--;
    return block;
}

void proactor_block_put(proactor_t *p, void *block)
{
    if (block == NULL)
        return;
    if (p->nblocks >= PROACTOR_BLOCKS_KEPT) {
        free(block);
        return;
    }
    memcpy(block, &p->blocks, sizeof p->blocks);
    p->blocks = block;
    p->nblocks++;
}

/* ---- the loop's wait ---------------------------------------------------------- */

/* One io_uring_enter(): hand over every queued entry and wait for at
 * least one completion, at most @p timeout_ms. */
static int enter(proactor_t *p, int timeout_ms)
{
    unsigned pending = io_uring_sq_ready(&p->ring);
    int rc;

    if (timeout_ms == 0 || io_uring_cq_ready(&p->ring) > 0) {
        /* No wait. Deferred completions need the call all the same. */
        if (pending == 0 && !p->deferred)
            return 0; /* nothing to say, nothing to wait for */
        rc = p->deferred ? io_uring_submit_and_get_events(&p->ring)
                         : io_uring_submit(&p->ring);
    } else if (timeout_ms < 0) {
        rc = io_uring_submit_and_wait(&p->ring, 1);
    } else {
        struct __kernel_timespec ts = {
            .tv_sec = timeout_ms / 1000,
            .tv_nsec = (long long)(timeout_ms % 1000) * 1000000,
        };
        struct io_uring_cqe *cqe;
        rc = io_uring_submit_and_wait_timeout(&p->ring, &cqe, 1, &ts, NULL);
    }
    p->stats.enters++;
    p->stats.submitted += pending - io_uring_sq_ready(&p->ring);
    /* A timeout or a signal only ends the wait; a full completion queue
     * (EBUSY) is emptied by the reap that follows. */
    if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EBUSY &&
        rc != -EAGAIN) {
        errno = -rc;
        return -1;
    }
    return 0;
}

/* The selector's epoll descriptor, watched as one more operation. A
 * one-shot poll, re-armed after every selector_select(): a level-triggered
 * descriptor still ready then makes epoll readable again, and the new
 * poll completes at once, so readers stay level-triggered. */
static int arm_selector(proactor_t *p, selector_t *sel)
{
    int fd = selector_fd(sel);
    if (fd < 0)
        return -1;
    struct io_uring_sqe *sqe = get_sqe(p);
    if (sqe == NULL) {
        errno = EBUSY;
        return -1;
    }
    io_uring_prep_poll_add(sqe, fd, POLLIN);
    io_uring_sqe_set_data(sqe, TAG_SELECTOR);
    p->sel_armed = 1;
    return 0;
}

/* [proactor-wait] */
static int proactor_wait(loop_t *loop, selector_t *sel, int timeout_ms,
                         void *arg)
{
    proactor_t *p = arg;
    (void)loop;

    if (!p->sel_armed && arm_selector(p, sel) < 0)
        return -1;
    if (enter(p, timeout_ms) < 0)
        return -1;
    p->sel_ready = 0;
    reap(p); /* finishes Futures: their Tasks' steps join phase 4 */
    return p->sel_ready ? selector_select(sel, 0) : 0;
}
/* [proactor-wait] */

/* ---- life ------------------------------------------------------------------- */

static int ring_init(proactor_t *p, unsigned entries)
{
    struct io_uring_params params;

    /* SUBMIT_ALL: one bad entry does not stop the rest of the batch
     * (Linux 5.18). DEFER_TASKRUN (6.1, with SINGLE_ISSUER: only the
     * loop's thread submits): the kernel finishes operations (copies a
     * receive's bytes, posts the completion) only inside our wait, all
     * in one go, instead of interrupting the thread for each as the data
     * arrives: much less CPU per echo with many connections (c10k), for
     * two io_uring_enter() per echo instead of one with a single
     * connection (the send's completion ends the wait before the next
     * receive's). Each flag falls back if the kernel lacks it; without
     * them, the ring still works. */
    memset(&params, 0, sizeof params);
    params.flags = IORING_SETUP_SUBMIT_ALL | IORING_SETUP_COOP_TASKRUN |
                   IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
    int rc = io_uring_queue_init_params(entries, &p->ring, &params);
    if (rc == -EINVAL) {
        memset(&params, 0, sizeof params);
        params.flags = IORING_SETUP_SUBMIT_ALL;
        rc = io_uring_queue_init_params(entries, &p->ring, &params);
    }
    if (rc == -EINVAL) {
        memset(&params, 0, sizeof params);
        rc = io_uring_queue_init_params(entries, &p->ring, &params);
    }
    if (rc < 0) {
        errno = -rc;
        return -1;
    }
    p->deferred = (params.flags & IORING_SETUP_DEFER_TASKRUN) != 0;
    return 0;
}

proactor_t *proactor_attach(loop_t *loop, const proactor_options_t *options)
{
    proactor_options_t o = options ? *options : (proactor_options_t){0};
    proactor_t *p = (proactor_t *)loop_find_destroy_hook(loop, destroy_hook);

    if (p != NULL)
        return p;
    if (loop_backend(loop) != SELECTOR_EPOLL) {
        errno = ENOTSUP; /* the ring watches the selector's epoll fd */
        return NULL;
    }
    p = calloc(1, sizeof *p);
    if (p == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    p->loop = loop;
    p->rx_free = p->rx_starved = p->rx_starved_tail = -1;
    p->pool_count = o.pool_count ? o.pool_count : 256;
    p->pool_size = o.pool_size ? o.pool_size : PROACTOR_POOL_SIZE;
    if ((p->pool_count & (p->pool_count - 1)) != 0 || p->pool_count > 32768) {
        free(p);
        errno = EINVAL;
        return NULL;
    }
    if (ring_init(p, o.entries ? o.entries : 256) < 0) {
        int err = errno;
        free(p);
        errno = err;
        return NULL;
    }
    if (pool_init(p) < 0) {
        int err = errno;
        pool_deinit(p);
        io_uring_queue_exit(&p->ring);
        free(p);
        errno = err;
        return NULL;
    }
    loop_add_destroy_hook(loop, &p->hook, destroy_hook);
    loop_set_wait(loop, proactor_wait, p);
    return p;
}

proactor_t *proactor_get(loop_t *loop)
{
    return proactor_attach(loop, NULL);
}

/* The loop is going: nothing may be called back any more, but the kernel
 * may still write into buffers of operations in flight. Cancel them all
 * and wait until each has completed (bounded) before the memory goes.
 * The one exception: ops their owners let go of (proactor_let_go()) get
 * their completions, so that their callbacks free them. */
static void destroy_hook(loop_t *loop, loop_hook_t *hook)
{
    proactor_t *p = (proactor_t *)hook;
    struct io_uring_sqe *sqe = get_sqe(p);
    (void)loop;

    p->starved = p->starved_tail = NULL; /* a release submits none now */
    if (sqe != NULL) {
        io_uring_prep_cancel64(sqe, 0, IORING_ASYNC_CANCEL_ANY);
        io_uring_sqe_set_data(sqe, TAG_IGNORE);
    }
    io_uring_submit(&p->ring);
    for (int tries = 0; (p->stats.in_flight > 0 || p->sel_armed) &&
                        tries < 100; tries++) {
        struct __kernel_timespec ts = {.tv_sec = 0, .tv_nsec = 10000000};
        struct io_uring_cqe *cqe;
        io_uring_wait_cqe_timeout(&p->ring, &cqe, &ts);
        while (io_uring_peek_cqe(&p->ring, &cqe) == 0) {
            proactor_op_t *op = io_uring_cqe_get_data(cqe);
            if (op == TAG_SELECTOR)
                p->sel_armed = 0;
            else if (((uintptr_t)op & 3) == TAG_RX)
                p->stats.in_flight--; /* its entry goes with the table */
            else if (op != TAG_IGNORE) {
                int res = cqe->res, last = !(cqe->flags & IORING_CQE_F_MORE);
                unsigned flags = cqe->flags;

                io_uring_cqe_seen(&p->ring, cqe);
                if (last)
                    p->stats.in_flight--;
                if (op->let_go && op->on_complete != NULL) {
                    op->bid = flags & IORING_CQE_F_BUFFER ?
                              (int)(flags >> IORING_CQE_BUFFER_SHIFT) : -1;
                    if (last)
                        op->state = S_IDLE;
                    op->on_complete(op, res, op->arg); /* may free op */
                }
                continue;
            }
            io_uring_cqe_seen(&p->ring, cqe);
        }
    }
    io_uring_queue_exit(&p->ring);
    pool_deinit(p);
    while (p->blocks != NULL) {
        void *next;
        memcpy(&next, p->blocks, sizeof next);
        free(p->blocks);
        p->blocks = next;
    }
    free(p->rx);
    free(p);
}

void proactor_get_stats(const proactor_t *p, proactor_stats_t *stats)
{
    *stats = p->stats;
}

const char *proactor_strerror(int err)
{
    switch (err) {
    case ENOSYS:
    case EPERM:
    case EACCES:
        return "io_uring is not available here: the kernel is too old "
               "(Linux 5.19 or later needed), or a seccomp filter or the "
               "kernel.io_uring_disabled setting refuses it";
    case ENOTSUP:
        return "the io_uring proactor needs the epoll backend (its ring "
               "watches the selector's epoll descriptor), not this one";
    default:
        return strerror(err);
    }
}
