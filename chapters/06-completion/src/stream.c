/*
 * stream.c - streams: reads as sub-coroutines run in the reading Task's
 * own step, a write that sends at once and queues only the rest, a drain
 * for flow control, and open_connection / serve on top.
 *
 * asyncio reads in the transport's callback, into the StreamReader's
 * buffer, whenever the socket is readable, and the reader coroutines take
 * from that buffer. Here nothing reads unless a read is awaited: the
 * awaiting Task calls read() itself, straight into the caller's buffer
 * when it can. So an idle connection holds no buffer, and the socket's own
 * receive buffer, not ours, is where unread bytes wait (flow control
 * towards the peer for free: asyncio has to pause the transport for it).
 *
 * Chapter 06: the same streams on completion. A read that needs bytes
 * submits a receive into a pool buffer (proactor.h) and awaits it; a
 * plain read then copies the bytes straight to its caller, any other
 * read has them copied into the stream's buffer, from which the same
 * reader code as chapter 05's hands them out. A write copies into the
 * queue and submits a send of it; the queue's bytes are the kernel's
 * until that completes. The sections changed are marked
 * "chapter 06"; buffering, lines, limits and the server are chapter 05's.
 */
#define _GNU_SOURCE
#include "stream.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "net.h"
#include "proactor.h" /* chapter 06 */
#include "task.h"

/* stream_t::flags */
enum {
    S_EOF = 1 << 0,        /* read() returned 0 */
    S_READING = 1 << 1,    /* a read frame is handed out */
    S_RECEIVING = 1 << 2,  /* chapter 06: a receive is in the kernel */
    S_CANCELREAD = 1 << 3, /* chapter 06: ... and its cancel was asked */
    S_DIRECT = 1 << 4,     /* chapter 06: the waiting read is a plain
                              read(): it may take a pool buffer's bytes */
    S_HELD = 1 << 5,       /* chapter 06: ... and they wait in s->rx */
    S_DROPPING = 1 << 6,   /* dropping an over-long line to its separator */
    S_LINEMODE = 1 << 7,   /* readline: the tail at EOF is a line */
    S_HASLINE = 1 << 8,    /* stream_line() is valid */
    S_WRITER = 1 << 9,     /* chapter 06: a send is in the kernel */
    S_WANTEOF = 1 << 10,   /* write_eof asked */
    S_SHUT = 1 << 11,      /* shutdown(SHUT_WR) done */
    S_CLOSING = 1 << 12,   /* close asked */
    S_SOCKET = 1 << 13,    /* send() with MSG_NOSIGNAL */
    S_CONNCLOSE = 1 << 14, /* a server's connection: its handler is done,
                              the Task waits for the close (conn_step) */
    S_CLOSEWAIT = 1 << 15, /* s->drain is wait_closed's Future now */
};

/* A buffer much larger than what it holds shrinks past this size. */
#define STREAM_CHUNK 16384

#define INT_RESULT(n) ((void *)(intptr_t)(n))

/* ---- frames that fail at once ------------------------------------------- */

/* A misused call (a second read, a bad argument) must not touch the frame
 * of the read in progress, so it gets this one: the loop's thread's own,
 * run to its end as soon as it is awaited, which is why every read frame
 * is to be awaited at once. */
typedef struct failing {
    coro_t co;
    int err;
} failing_t;

static _Thread_local failing_t failing_frame;
static _Thread_local future_t failing_future;

static int failing_body(coro_t *co)
{
    CORO_BEGIN(co);
    CORO_FAIL(co, ((failing_t *)co)->err);
    CORO_END(co);
}

static coro_t *failed_frame(int err)
{
    coro_init(&failing_frame.co, failing_body);
    failing_frame.err = err;
    return &failing_frame.co;
}

static future_t *finished(future_t *f, loop_t *loop, int err)
{
    future_init(f, loop);
    if (err)
        future_set_error(f, err);
    else
        future_set_result(f, NULL);
    return f;
}

/* ---- set-up ------------------------------------------------------------- */

static void init_flags(stream_t *s, loop_t *loop, int fd, unsigned flags)
{
    memset(s, 0, sizeof *s);
    s->loop = loop;
    s->fd = fd;
    s->flags = flags;
    s->limit = STREAM_LIMIT_DEFAULT;
    s->high = STREAM_HIGH_DEFAULT;
    s->low = STREAM_LOW_DEFAULT;
    /* finished: nobody waits (see on_readable) */
    finished(&s->readable, loop, 0);
    finished(&s->drain, loop, 0);
}

void stream_init(stream_t *s, loop_t *loop, int fd)
{
    unsigned flags = 0;
    struct stat st;

    /* chapter 06: blocking or not, a file or not, the kernel reads it
     * the same way; only sockets need send() instead of write(). */
    if (fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode))
        flags |= S_SOCKET;
    init_flags(s, loop, fd, flags);
}

void stream_set_limit(stream_t *s, size_t limit)
{
    if (limit < 1)
        limit = 1;
    s->limit = limit > (1u << 30) ? (1u << 30) : (uint32_t)limit;
}

void stream_set_write_limits(stream_t *s, size_t high, size_t low)
{
    if (high > (1u << 30))
        high = 1u << 30;
    s->high = (uint32_t)high;
    s->low = low > high ? (uint32_t)high : (uint32_t)low;
}

/* ---- the read buffer ---------------------------------------------------- */

static size_t buffered(const stream_t *s)
{
    return s->rend - s->rhead;
}

static void free_rbuf(stream_t *s)
{
    free(s->rbuf);
    s->rbuf = NULL;
    s->rhead = s->rend = s->rcap = 0;
    s->flags &= ~S_HASLINE;
}

/* Hand @p n bytes out. Emptied, the buffer goes, unless a line handed
 * out by this very call still lives in it. */
static void consume(stream_t *s, size_t n)
{
    s->rhead += (uint32_t)n;
    if (s->rhead == s->rend && !(s->flags & S_HASLINE))
        free_rbuf(s);
}

/* A new read call: the last line may go now. What is left moves to the
 * front; a buffer much larger than its contents shrinks. */
static void release_line(stream_t *s)
{
    size_t n = buffered(s);

    s->flags &= ~S_HASLINE;
    if (s->rbuf == NULL)
        return;
    if (n == 0) {
        free_rbuf(s);
        return;
    }
    memmove(s->rbuf, s->rbuf + s->rhead, n);
    s->rhead = 0;
    s->rend = (uint32_t)n;
    if (s->rcap > 4 * n && s->rcap > STREAM_CHUNK) {
        char *p = realloc(s->rbuf, n);
        if (p != NULL) {
            s->rbuf = p;
            s->rcap = (uint32_t)n;
        }
    }
}

/* Make room for @p n more bytes at the end. */
static int grow_rbuf(stream_t *s, size_t n)
{
    size_t need = (size_t)s->rend + n;
    size_t cap = 2 * (size_t)s->rcap;

    if (need <= s->rcap)
        return 0;
    if (need > UINT32_MAX) {
        errno = ENOMEM;
        return -1;
    }
    if (cap < need || cap > UINT32_MAX)
        cap = need;
    char *p = realloc(s->rbuf, cap);
    if (p == NULL) {
        errno = ENOMEM;
        return -1;
    }
    s->rbuf = p;
    s->rcap = (uint32_t)cap;
    return 0;
}

/* Put bytes a cancelled readexactly had taken back in front. */
static void unread(stream_t *s, const char *p, size_t n)
{
    size_t have = buffered(s);

    if (n == 0)
        return;
    release_line(s);
    if (grow_rbuf(s, n) < 0)
        return; /* out of memory: they stay in the caller's buffer only */
    memmove(s->rbuf + n, s->rbuf, have);
    memcpy(s->rbuf, p, n);
    s->rend = (uint32_t)(have + n);
    s->partial = 0;
}

/* ---- system calls ------------------------------------------------------- */

static void store_error(stream_t *s, int err)
{
    if (s->error == 0)
        s->error = err;
}

/* ---- chapter 06: receiving --------------------------------------------- */

/* A stream's send in the kernel. malloc'd, not in the stream: a
 * stream closed (its storage about to go) while it is in the kernel lets
 * go of it (s = NULL), and the completion frees it. (A receive needs no
 * such record: the proactor keeps it, see proactor_rx_start().) */
struct stream_op {
    proactor_op_t op;  /* first */
    stream_t *s;       /* the stream, or NULL once it let go */
    char *chunk;       /* send: the queue's bytes, the kernel's until the
                        * send completes */
    uint32_t off, len; /* send: [off, len) of chunk not sent yet */
    uint32_t cap;      /* chunk's size (a proactor block's, or not) */
    proactor_t *p;     /* where a block goes back */
};

/* Append received bytes to the buffer. */
static int append(stream_t *s, const char *p, size_t n)
{
    if (grow_rbuf(s, n) < 0)
        return -1;
    memcpy(s->rbuf + s->rend, p, n);
    s->rend += (uint32_t)n;
    return 0;
}

/* The received bytes held in s->rx's pool buffer: up to @p n to @p dst,
 * the rest to the stream's buffer; the pool buffer goes back. */
static size_t take_held(stream_t *s, char *dst, size_t n)
{
    proactor_t *p = proactor_get(s->loop);
    size_t len, k;
    const char *data = proactor_rx_data(p, s->rx, &len);

    k = len < n ? len : n;
    if (k > 0)
        memcpy(dst, data, k);
    if (len > k && append(s, data + k, len - k) < 0)
        store_error(s, ENOMEM); /* the bytes are lost: a hole */
    proactor_rx_done(p, s->rx);
    s->rx = 0;
    s->flags &= ~S_HELD;
    return k;
}

/* [stream-received] */
/* The receive completed. A plain read waits for it: the bytes stay in the
 * pool buffer for that read's own step to take (one copy, no stream
 * buffer; not here: its buffer may be shared, see read_body). Otherwise
 * they go to the stream's buffer at once (even when the read that asked
 * for them was cancelled meanwhile: no byte lost). Then the read waiting
 * on s->readable wakes. */
static void on_received(void *arg, int res)
{
    stream_t *s = arg;
    int cancelled = res == -ECANCELED || (s->flags & S_CANCELREAD);

    s->flags &= ~(S_RECEIVING | S_CANCELREAD);
    if (res > 0 && !cancelled && (s->flags & S_DIRECT) &&
        !future_done(&s->readable))
        s->flags |= S_HELD;
    else
        take_held(s, NULL, 0);
    if (res == 0)
        s->flags |= S_EOF;
    else if (res < 0 && res != -ECANCELED)
        store_error(s, -res);
    if (future_done(&s->readable))
        return;
    if (cancelled)
        future_set_cancelled(&s->readable);
    else
        future_set_result(&s->readable, NULL);
}
/* [stream-received] */

/* The waiting read is cancelled: a request to the kernel; s->readable
 * finishes with the receive's completion. */
static int receive_cancel(future_t *f)
{
    stream_t *s = (stream_t *)((char *)f - offsetof(stream_t, readable));

    if (!(s->flags & S_RECEIVING))
        return future_set_cancelled(f) == FUTURE_OK;
    s->flags |= S_CANCELREAD;
    proactor_rx_cancel(proactor_get(s->loop), s->rx);
    return 1;
}

/* [stream-receive] */
/* Submit a receive into a pool buffer: the kernel picks the buffer when
 * bytes arrive, so a connection waiting for its peer holds none. Its
 * record is the proactor's (a handle here), not the stream's: the
 * stream may be gone before the kernel lets go of it. */
static future_t *receive(stream_t *s)
{
    proactor_t *p = proactor_get(s->loop);

    future_init(&s->readable, s->loop);
    s->readable.cancel = receive_cancel;
    if (p != NULL)
        s->rx = proactor_rx_start(p, s->fd, (s->flags & S_SOCKET) != 0,
                                  on_received, s);
    if (p == NULL || s->rx == 0)
        future_set_error(&s->readable, errno);
    else
        s->flags |= S_RECEIVING;
    return &s->readable;
}
/* [stream-receive] */

/* Closing: a receive still in the kernel is asked to stop, and cleans up
 * after itself; bytes held for a read go back unread. */
static void let_go_of_receive(stream_t *s)
{
    if (s->rx != 0)
        proactor_rx_let_go(proactor_get(s->loop), s->rx);
    s->rx = 0;
    s->flags &= ~(S_RECEIVING | S_CANCELREAD | S_HELD);
}

/* ---- reading ------------------------------------------------------------ */

/* A read ends. (chapter 06: no selector registration to renew.) */
static void read_done(stream_t *s)
{
    s->flags &= ~S_READING;
}

#define READ_RETURN(s, co, n)                                               \
    do {                                                                    \
        intptr_t read_return_n_ = (intptr_t)(n);                            \
        read_done(s);                                                       \
        CORO_RETURN(co, INT_RESULT(read_return_n_));                        \
    } while (0)

#define READ_FAIL(s, co, e)                                                 \
    do {                                                                    \
        int read_fail_err_ = (e);                                           \
        read_done(s);                                                       \
        CORO_FAIL(co, read_fail_err_);                                      \
    } while (0)

static stream_t *stream_of(coro_t *co)
{
    return (stream_t *)((char *)co - offsetof(stream_t, co));
}

static int ended(const stream_t *s)
{
    return (s->flags & (S_EOF | S_CLOSING)) != 0;
}

/* Hand buffered bytes to the caller's buffer. */
static size_t take(stream_t *s, char *dst, size_t n)
{
    size_t k = buffered(s) < n ? buffered(s) : n;

    memcpy(dst, s->rbuf + s->rhead, k);
    consume(s, k);
    return k;
}

/* [stream-read] */
/* chapter 06: the kernel receives into a pool buffer, never into the
 * caller's: a buffer handed to the kernel is the kernel's until the
 * completion, and the caller may share it with other connections. The
 * read's own step copies the bytes over. */
static int read_body(coro_t *co)
{
    stream_t *s = stream_of(co);

    CORO_BEGIN(co);
    if (s->want == 0)
        READ_RETURN(s, co, 0);
    for (;;) {
        if (buffered(s) > 0)
            READ_RETURN(s, co, take(s, s->dst, s->want));
        if (ended(s))
            READ_RETURN(s, co, 0);
        if (s->error)
            READ_FAIL(s, co, s->error);
        s->flags |= S_DIRECT;
        AWAIT_CATCH(co, receive(s)); /* bytes, end or error: see above */
        s->flags &= ~S_DIRECT;
        if ((s->flags & S_HELD) && !co->err)
            READ_RETURN(s, co, take_held(s, s->dst, s->want));
        if (s->flags & S_HELD)
            take_held(s, NULL, 0);   /* cancelled: the bytes stay */
        if (co->err)
            READ_FAIL(s, co, co->err);
    }
    CORO_END(co);
}
/* [stream-read] */

static int readexactly_body(coro_t *co)
{
    stream_t *s = stream_of(co);

    CORO_BEGIN(co);
    for (;;) {
        if (buffered(s) > 0)
            s->partial += take(s, s->dst + s->partial, s->want - s->partial);
        if (s->partial == s->want) {
            s->partial = 0;
            READ_RETURN(s, co, s->want);
        }
        if (ended(s))
            READ_FAIL(s, co, ENODATA);
        if (s->error)
            READ_FAIL(s, co, s->error);
        AWAIT_CATCH(co, receive(s));      /* chapter 06 */
        if (co->err == ECANCELED)         /* no byte lost: put them back */
            unread(s, s->dst, s->partial);
        if (co->err)
            READ_FAIL(s, co, co->err);
    }
    CORO_END(co);
}

/* Where the separator starts in the buffer, searching from s->scan; if it
 * is not there, remember how far it surely is not. */
static int find_sep(stream_t *s, size_t *at)
{
    size_t seplen = s->want;
    size_t n = buffered(s);

    if (n < seplen) {
        s->scan = 0;
        return 0;
    }
    const char *base = s->rbuf + s->rhead;
    for (size_t i = s->scan; i + seplen <= n; i++) {
        if (base[i] == s->sep[0] && memcmp(base + i, s->sep, seplen) == 0) {
            *at = i;
            return 1;
        }
    }
    s->scan = (uint32_t)(n - seplen + 1);
    return 0;
}

/* The rest of an over-long line: drop it up to its separator. */
static void drop_to_sep(stream_t *s)
{
    size_t at;
    size_t keep = s->want - 1; /* may be the start of a separator */

    if (find_sep(s, &at)) {
        consume(s, at + s->want);
        s->flags &= ~S_DROPPING;
    } else if (buffered(s) > keep) {
        consume(s, buffered(s) - keep);
    }
    s->scan = 0;
}

/* Look for a whole line in the buffer. Returns its length, 0 if more
 * bytes are needed, or -1 with errno EMSGSIZE (over the limit). */
static ssize_t cut_line(stream_t *s)
{
    size_t at;

    if (s->flags & S_DROPPING) {
        drop_to_sep(s);
        if (s->flags & S_DROPPING)
            return 0;
    }
    if (find_sep(s, &at)) {
        s->scan = 0;
        if (at > s->limit) {            /* found, but too far: drop it */
            consume(s, at + s->want);
            errno = EMSGSIZE;
            return -1;
        }
        s->line = s->rhead;
        s->flags |= S_HASLINE;
        consume(s, at + s->want);
        return (ssize_t)(at + s->want);
    }
    if (buffered(s) >= s->want && buffered(s) - s->want + 1 > s->limit) {
        s->flags |= S_DROPPING;         /* the rest goes when it comes */
        drop_to_sep(s);
        errno = EMSGSIZE;
        return -1;
    }
    return 0;
}

/* End of stream with no separator: readline's last line, readuntil's
 * incomplete read (the bytes stay readable at stream_line()). */
static size_t cut_tail(stream_t *s)
{
    size_t n = buffered(s);

    if (s->flags & S_DROPPING) {        /* the over-long line's end */
        s->flags &= ~S_DROPPING;
        consume(s, n);
        return 0;
    }
    if (n == 0)
        return 0;
    s->line = s->rhead;
    s->flags |= S_HASLINE;
    consume(s, n);
    return n;
}

/* [stream-readuntil] */
static int readuntil_body(coro_t *co)
{
    stream_t *s = stream_of(co);
    ssize_t got;

    CORO_BEGIN(co);
    for (;;) {
        got = cut_line(s);
        if (got != 0)
            break;
        if (ended(s)) {
            size_t tail = cut_tail(s);

            if (s->flags & S_LINEMODE)
                READ_RETURN(s, co, tail);
            s->partial = tail;
            READ_FAIL(s, co, ENODATA);
        }
        if (s->error)
            READ_FAIL(s, co, s->error);
        AWAIT_CATCH(co, receive(s)); /* chapter 06; bytes stay buffered */
        if (co->err)
            READ_FAIL(s, co, co->err);
    }
    if (got < 0)
        READ_FAIL(s, co, EMSGSIZE);
    READ_RETURN(s, co, got);
    CORO_END(co);
}
/* [stream-readuntil] */

/* A new read: one at a time; the last line goes now. */
static coro_t *begin(stream_t *s, coro_fn *fn, unsigned mode)
{
    s->flags &= ~S_LINEMODE;
    s->flags |= S_READING | mode;
    release_line(s);
    s->partial = 0;
    s->scan = 0;
    coro_init(&s->co, fn);
    return &s->co;
}

coro_t *stream_read(stream_t *s, void *buf, size_t n)
{
    if (s->flags & S_READING)
        return failed_frame(EBUSY);
    s->flags &= ~S_DROPPING;      /* raw bytes from now: nothing to drop */
    s->dst = buf;
    s->want = n;
    return begin(s, read_body, 0);
}

coro_t *stream_readexactly(stream_t *s, void *buf, size_t n)
{
    if (s->flags & S_READING)
        return failed_frame(EBUSY);
    s->flags &= ~S_DROPPING;
    s->dst = buf;
    s->want = n;
    return begin(s, readexactly_body, 0);
}

coro_t *stream_readuntil(stream_t *s, const void *sep, size_t seplen)
{
    if (s->flags & S_READING)
        return failed_frame(EBUSY);
    if (seplen == 0)
        return failed_frame(EINVAL);
    s->sep = sep;
    s->want = seplen;
    return begin(s, readuntil_body, 0);
}

coro_t *stream_readline(stream_t *s)
{
    if (s->flags & S_READING)
        return failed_frame(EBUSY);
    s->sep = "\n";
    s->want = 1;
    return begin(s, readuntil_body, S_LINEMODE);
}

const char *stream_line(const stream_t *s)
{
    return (s->flags & S_HASLINE) ? s->rbuf + s->line : NULL;
}

size_t stream_partial(const stream_t *s)
{
    return s->partial;
}

int stream_at_eof(const stream_t *s)
{
    return ended(s) && buffered(s) == 0;
}

/* ---- writing ------------------------------------------------------------ */

/* chapter 06: what the queue holds plus what the kernel is sending. */
static size_t queued(const stream_t *s)
{
    return s->wend - s->whead + (s->wop ? s->wop->len - s->wop->off : 0);
}

/* chapter 06: a queue of a message of some KiB is one of the proactor's
 * blocks (proactor_block_get()): it comes and goes with every message. */
#define STREAM_BLOCK_MIN 4096

static void free_bytes(proactor_t *p, char *buf, uint32_t cap)
{
    if (cap == PROACTOR_POOL_SIZE && p != NULL)
        proactor_block_put(p, buf);
    else
        free(buf);
}

static void free_queue(stream_t *s)
{
    free_bytes(s->wcap == PROACTOR_POOL_SIZE ? proactor_get(s->loop) : NULL,
               s->wbuf, s->wcap); /* chapter 06 */
    s->wbuf = NULL;
    s->whead = s->wend = s->wcap = 0;
}

/* Append to the queue: into its free room, else to the front of it (the
 * sent bytes' place), else into a larger one. */
static int enqueue(stream_t *s, const char *p, size_t n)
{
    size_t len = s->wend - s->whead; /* chapter 06: the queue's part */

    if (n > UINT32_MAX - len) {
        errno = ENOMEM;
        return -1;
    }
    if (s->wcap - s->wend < n && s->whead > 0) {
        memmove(s->wbuf, s->wbuf + s->whead, len);
        s->whead = 0;
        s->wend = (uint32_t)len;
    }
    if (s->wbuf == NULL && n >= STREAM_BLOCK_MIN && n <= PROACTOR_POOL_SIZE &&
        proactor_get(s->loop) != NULL) {             /* chapter 06 */
        s->wbuf = proactor_block_get(proactor_get(s->loop));
        if (s->wbuf == NULL)
            return -1;
        s->wcap = PROACTOR_POOL_SIZE;
    }
    if (s->wcap - s->wend < n) {
        size_t cap = 2 * (size_t)s->wcap;
        if (cap < len + n || cap > UINT32_MAX)
            cap = len + n;
        char *q = realloc(s->wbuf, cap);
        if (q == NULL) {
            errno = ENOMEM;
            return -1;
        }
        s->wbuf = q;
        s->wcap = (uint32_t)cap;
    }
    memcpy(s->wbuf + s->wend, p, n);
    s->wend += (uint32_t)n;
    return 0;
}

static void finish_close(stream_t *s);

static void wake_drain(stream_t *s, int err)
{
    if (future_done(&s->drain) || (s->flags & S_CLOSEWAIT))
        return;
    if (err)
        future_set_error(&s->drain, err);
    else
        future_set_result(&s->drain, NULL);
}

/* ---- chapter 06: sending ------------------------------------------------- */

static void send_chunk(struct stream_op *o);

/* A send the kernel is done with: its bytes and record go. */
static void free_send(stream_t *s, struct stream_op *o)
{
    if (s != NULL) {
        s->wop = NULL;
        s->flags &= ~S_WRITER;
    }
    free_bytes(o->p, o->chunk, o->cap);
    free(o);
}

/* A send still in the kernel (the stream is closing or failed): asked to
 * stop, and left to free itself and its bytes when it completes. */
static void let_go_of_send(stream_t *s)
{
    struct stream_op *o = s->wop;

    s->wop = NULL;
    s->flags &= ~S_WRITER;
    if (o == NULL)
        return;
    o->s = NULL;
    proactor_let_go(&o->op);      /* its callback frees it, even late */
    future_cancel(&o->op.future);
}

/* The connection failed while sending: nothing queued can go out. */
static void write_failed(stream_t *s, int err)
{
    store_error(s, err);
    free_queue(s);
    let_go_of_send(s);
    wake_drain(s, s->error);
    if (s->flags & S_CLOSING)
        finish_close(s);
}

/* The queue has gone out: what was waiting for that happens now. */
static void flushed(stream_t *s)
{
    free_queue(s);
    if ((s->flags & S_WANTEOF) && !(s->flags & S_SHUT)) {
        s->flags |= S_SHUT;
        if (shutdown(s->fd, SHUT_WR) < 0)
            store_error(s, errno);
    }
    if (s->flags & S_CLOSING)
        finish_close(s);
}

/* [stream-flush] */
/* Hand the whole queue to the kernel as one send; writes that come while
 * it is in flight start a new queue behind it. */
static void send_queue(stream_t *s)
{
    struct stream_op *o = calloc(1, sizeof *o);

    if (o == NULL) {
        write_failed(s, ENOMEM);
        return;
    }
    o->s = s;
    o->chunk = s->wbuf;
    o->cap = s->wcap;
    o->p = proactor_get(s->loop);
    o->off = s->whead;
    o->len = s->wend;
    s->wbuf = NULL;
    s->whead = s->wend = s->wcap = 0;
    s->wop = o;
    s->flags |= S_WRITER;
    send_chunk(o);
}

static void on_sent(proactor_op_t *op, int res, void *arg);

static void send_chunk(struct stream_op *o)
{
    stream_t *s = o->s;
    proactor_t *p = proactor_get(s->loop);
    const char *at = o->chunk + o->off;
    size_t n = o->len - o->off;
    future_t *f = p == NULL ? NULL
                  : (s->flags & S_SOCKET) ? proactor_send(&o->op, p, s->fd, at, n)
                                          : proactor_write(&o->op, p, s->fd, at, n);
    int err = EBUSY;

    if (f != NULL && !future_done(f)) {
        proactor_on_complete(&o->op, on_sent, o);
        return;
    }
    if (f == NULL)
        err = errno;
    else
        future_result(f, NULL, &err);
    free_send(s, o);                /* never reached the kernel: ours */
    write_failed(s, err);
}

/* A send completed: the rest of a short one goes again; then the queue
 * that grew meanwhile; once all is out, whoever waited for that. */
static void on_sent(proactor_op_t *op, int res, void *arg)
{
    struct stream_op *o = arg;
    stream_t *s = o->s;

    (void)op;
    if (s == NULL || res <= 0) {    /* let go of, or failed */
        free_send(s, o);
        if (s != NULL)
            write_failed(s, res == 0 || res == -ECANCELED ? EPIPE : -res);
        return;
    }
    o->off += (uint32_t)res;
    if (queued(s) <= s->low)
        wake_drain(s, 0);
    if (o->off < o->len) {
        send_chunk(o);
        return;
    }
    free_send(s, o);
    if (queued(s) > 0)
        send_queue(s);
    else
        flushed(s);
}
/* [stream-flush] */

/* [stream-write] */
/* chapter 06: always a copy. The caller's bytes may change as soon as
 * this returns; the kernel sends from the queue, which stays put. */
int stream_write(stream_t *s, const void *data, size_t n)
{
    if (s->flags & (S_CLOSING | S_WANTEOF)) {
        errno = EPIPE;
        return -1;
    }
    if (s->error) {
        errno = s->error;
        return -1;
    }
    if (n == 0)
        return 0;
    if (enqueue(s, data, n) < 0) {
        write_failed(s, errno);       /* a hole in the byte stream */
        errno = s->error;
        return -1;
    }
    if (!(s->flags & S_WRITER))
        send_queue(s);                /* goes with the loop's next wait */
    if (s->error) {
        errno = s->error;
        return -1;
    }
    return 0;
}
/* [stream-write] */

size_t stream_write_buffer_size(const stream_t *s)
{
    return queued(s);
}

future_t *stream_drain(stream_t *s)
{
    if (s->flags & S_CLOSEWAIT)      /* the storage is wait_closed's */
        return finished(&failing_future, s->loop,
                        (s->flags & S_CLOSING) ? EPIPE
                        : s->error             ? s->error
                                               : EBUSY);
    if (!future_done(&s->drain))
        return finished(&failing_future, s->loop, EBUSY);
    if (s->error)
        return finished(&s->drain, s->loop, s->error);
    if (s->flags & S_CLOSING)
        return finished(&s->drain, s->loop, EPIPE);
    future_init(&s->drain, s->loop);
    if (queued(s) <= s->high)
        future_set_result(&s->drain, NULL);
    return &s->drain;
}

int stream_write_eof(stream_t *s)
{
    int err = (s->flags & S_CLOSING) ? EPIPE
              : s->error             ? s->error
              : !(s->flags & S_SOCKET) ? ENOTSOCK
                                      : 0;

    if (err) {
        errno = err;
        return -1;
    }
    if (s->flags & S_WANTEOF)
        return 0;
    s->flags |= S_WANTEOF;
    if (queued(s) == 0) {
        s->flags |= S_SHUT;
        if (shutdown(s->fd, SHUT_WR) < 0) {
            store_error(s, errno);
            return -1;
        }
    }
    return 0;
}

/* ---- closing ------------------------------------------------------------ */

/* The descriptor goes; nothing on the loop refers to the stream after. */
static void finish_close(stream_t *s)
{
    if (s->fd < 0)
        return;
    let_go_of_send(s); /* chapter 06: an abort's send still in flight */
    close(s->fd);
    s->fd = -1;
    free_queue(s);
    wake_drain(s, EPIPE);
    if ((s->flags & S_CLOSEWAIT) && !future_done(&s->drain))
        future_set_result(&s->drain, NULL);
}

void stream_close(stream_t *s)
{
    if (s->flags & S_CLOSING)
        return;
    s->flags |= S_CLOSING;
    s->flags &= ~S_DROPPING;
    free_rbuf(s);
    let_go_of_receive(s);             /* chapter 06 */
    if (!future_done(&s->readable))   /* a waiting read sees the end */
        future_set_result(&s->readable, NULL);
    if (queued(s) == 0)
        finish_close(s);
}

void stream_abort(stream_t *s)
{
    free_queue(s);
    stream_close(s);
    finish_close(s);   /* closing already, with bytes queued: now */
}

/* wait_closed cancelled: the frame holding the stream is about to go. */
static int closed_cancel(future_t *f)
{
    stream_t *s = (stream_t *)((char *)f - offsetof(stream_t, drain));

    future_set_cancelled(f);
    stream_abort(s);
    return 1;
}

future_t *stream_wait_closed(stream_t *s)
{
    if (s->flags & S_CLOSEWAIT)
        return &s->drain;
    if (!future_done(&s->drain)) {  /* a drain waits in the storage */
        if (!(s->flags & S_CLOSING))
            return finished(&failing_future, s->loop, EBUSY);
        wake_drain(s, EPIPE);     /* closing: no drain will finish */
    }
    s->flags |= S_CLOSEWAIT;
    future_init(&s->drain, s->loop);
    s->drain.cancel = closed_cancel;
    if (s->fd < 0)
        future_set_result(&s->drain, NULL);
    return &s->drain;
}

/* ---- clients ------------------------------------------------------------ */

/* asyncio sets TCP_NODELAY on every TCP stream: a reply written in two
 * pieces must not wait for the peer's delayed ACK. Not TCP: no harm. */
static void set_nodelay(int fd)
{
    int one = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

/* A socket this file made or accepted: non-blocking, no need to ask. */
static void init_socket(stream_t *s, loop_t *loop, int fd)
{
    init_flags(s, loop, fd, S_SOCKET);
    set_nodelay(fd);
}

/* chapter 06: the connect is an operation submitted to the kernel; its
 * completion says how it went (no getsockopt(SO_ERROR) needed). */

/* Start connecting to c->ai. 0: submitted (await c->op's Future), -1:
 * this address failed (c->err). */
static int connect_start(stream_connect_t *c)
{
    const struct addrinfo *ai = c->ai;
    proactor_t *p = proactor_get(c->loop);

    if (p == NULL || (c->op = malloc(sizeof *c->op)) == NULL) {
        c->err = p == NULL ? errno : ENOMEM;
        return -1;
    }
    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                   SOCK_CLOEXEC, ai->ai_protocol);
    if (c->fd < 0) {
        c->err = errno;
        free(c->op);
        c->op = NULL;
        return -1;
    }
    proactor_connect(c->op, p, c->fd, ai->ai_addr, ai->ai_addrlen);
    return 0;
}

/* The connect completed (or failed, or was cancelled): 1 connected, -1
 * not (c->err). */
static int connect_result(stream_connect_t *c, int err)
{
    free(c->op);
    c->op = NULL;
    if (err == 0)
        return 1;
    c->err = err;
    close(c->fd);
    c->fd = -1;
    return -1;
}

static void connect_end(stream_connect_t *c)
{
    if (c->list)
        freeaddrinfo(c->list);
    c->list = NULL;
    c->ai = NULL;
}

/* [open-connection] */
static int connect_body(coro_t *co)
{
    stream_connect_t *c = (stream_connect_t *)co;
    int rc;

    CORO_BEGIN(co);
    for (; c->ai != NULL; c->ai = c->ai->ai_next) {
        rc = connect_start(c);
        if (rc == 0) {                         /* chapter 06 */
            AWAIT_CATCH(co, &c->op->future);   /* ends with the kernel's
                                                * answer, even cancelled */
            rc = connect_result(c, co->err);
            if (co->err == ECANCELED) {
                connect_end(c);
                CORO_FAIL(co, ECANCELED);
            }
        }
        if (rc == 1) {
            connect_end(c);
            init_socket(c->out, c->loop, c->fd);
            CORO_RETURN(co, NULL);
        }
    }
    connect_end(c);
    CORO_FAIL(co, c->err);
    CORO_END(co);
}
/* [open-connection] */

coro_t *stream_open_connection(stream_connect_t *c, loop_t *loop,
                               const char *host, unsigned short port,
                               stream_t *out)
{
    struct addrinfo hints;
    char service[8];
    int rc;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(service, sizeof service, "%u", port);
    coro_init(&c->co, connect_body);
    c->loop = loop;
    c->out = out;
    c->fd = -1;
    c->err = EADDRNOTAVAIL;
    c->list = NULL;
    c->op = NULL; /* chapter 06 */
    rc = getaddrinfo(host, service, &hints, &c->list);
    if (rc == EAI_MEMORY)
        c->err = ENOMEM;
    else if (rc == EAI_SYSTEM)
        c->err = errno;
    if (rc != 0)
        c->list = NULL;
    c->ai = c->list;
    return &c->co;
}

/* ---- servers ------------------------------------------------------------ */

/* stream_server_t::flags */
enum {
    L_SERVING = 1 << 0,    /* a serve frame is handed out */
    L_PAUSED = 1 << 1,     /* waiting out an EMFILE and the like */
    L_CLOSED = 1 << 2,     /* stream_server_close() was called */
    L_FAILING = 1 << 3,    /* accept() failed and was reported: say when
                              it works again */
};

/* Accepts in a row before the serve lets the loop run the rest. */
#define ACCEPT_BATCH 64

static void report(stream_server_error_cb *fn, void *arg, int err,
                   const char *what)
{
    if (fn != NULL)
        fn(arg, err, what);
}

int stream_server_listen(stream_server_t *srv, loop_t *loop,
                         const char *host, unsigned short port, char *where)
{
    char here[NET_ADDRSTR_MAX];
    int fd = net_listen(host, port, where ? where : here);

    memset(srv, 0, sizeof *srv);
    srv->loop = loop;
    srv->fd = -1;
    finished(&srv->wait, loop, 0);
    loop_timer_init(&srv->retry);
    if (fd < 0)
        return -1;
    /* chapter 06: nothing to register (the serve's multishot accept
     * watches the socket), but the ring that will is made now, as asyncio's
     * start_server registers its socket: a loop that cannot have one
     * (io_uring refused; ENOTSUP: not on epoll) fails the listen, before
     * the program says it is listening. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || proactor_get(loop) == NULL) {
        int err = errno;
        close(fd);
        errno = err;
        return -1;
    }
    srv->fd = fd;
    return 0;
}

void stream_server_on_error(stream_server_t *srv, stream_server_error_cb *fn,
                            void *arg)
{
    srv->on_error = fn;
    srv->on_error_arg = arg;
}

static void on_retry(loop_t *loop, void *arg)
{
    stream_server_t *srv = arg;

    (void)loop;
    if (!future_done(&srv->wait))
        future_set_result(&srv->wait, NULL);
}

static future_t *pause_accepting(stream_server_t *srv)
{
    future_init(&srv->wait, srv->loop);
    srv->flags |= L_PAUSED;
    if (loop_call_later(srv->loop, &srv->retry, STREAM_ACCEPT_RETRY_S,
                        on_retry, srv) < 0)
        future_set_error(&srv->wait, errno);
    return &srv->wait;
}

/* [conn-task] */
/* Keep the stream's lifetime and the group's peace around the handler:
 * close what it left open, and turn its failure into a report, so one
 * broken connection does not cancel every other one in the group.
 *
 * This runs as the handler's own frame's function, around the handler's
 * body, rather than as a frame of its own awaiting the handler's: a
 * wrapper frame would cost every held connection its size. Every step of
 * the handler comes through here; only its end is caught. */
static int conn_step(coro_t *co)
{
    stream_conn_t *h = (stream_conn_t *)co;
    stream_server_t *srv = h->server;
    int step, err;

    if (h->stream.flags & S_CONNCLOSE) {      /* the handler is done */
        if (co->err)                          /* cancelled: aborted */
            CORO_FAIL(co, co->err);
        CORO_RETURN(co, NULL);
    }
    step = srv->handler(co);
    if (step != CORO_STEP_RETURN)             /* an await, or a call down */
        return step;
    err = co->err;
    if (err) {
        stream_abort(&h->stream);
        if (err == ECANCELED)
            CORO_FAIL(co, ECANCELED);
        report(srv->on_error, srv->on_error_arg, err, "handler");
        CORO_RETURN(co, NULL);
    }
    stream_close(&h->stream);
    h->stream.flags |= S_CONNCLOSE;
    return coro_suspend(co, stream_wait_closed(&h->stream)); /* AWAIT it */
}
/* [conn-task] */

/* A connection accepted: its Task. 0, or the group's error. */
static int start_conn(stream_server_t *srv, int fd)
{
    stream_conn_t *h;

    if (loop_backend(srv->loop) == SELECTOR_SELECT && fd >= FD_SETSIZE) {
        close(fd);                        /* select() could not watch it */
        report(srv->on_error, srv->on_error_arg, ERANGE, "watch");
        return 0;
    }
    if (task_group_create_task(srv->group, conn_step, srv->frame_size,
                               (void **)&h) == NULL) {
        int err = errno;
        close(fd);
        if (err != ENOMEM)
            return err;
        report(srv->on_error, srv->on_error_arg, err, "task");
        return ENOMEM;
    }
    init_socket(&h->stream, srv->loop, fd);
    h->arg = srv->arg;
    h->server = srv;
    return 0;
}

/* What accept() failing means for the serve. */
enum { NEXT, WAIT, PAUSE, YIELD, GIVE_UP };

static int accept_failed(stream_server_t *srv, int err)
{
    switch (err) {
    case EAGAIN:
#if EWOULDBLOCK != EAGAIN
    case EWOULDBLOCK:
#endif
        return WAIT;
    case EINTR:
    case ECONNABORTED:                    /* that client left: next */
        return NEXT;
    case EMFILE:
    case ENFILE:
    case ENOBUFS:
    case ENOMEM:                          /* the client stays queued */
        report(srv->on_error, srv->on_error_arg, err, "accept");
        srv->flags |= L_FAILING;
        return PAUSE;
    case EBADF:
    case EINVAL:
    case ENOTSOCK:
    case EOPNOTSUPP:
    case EFAULT:
        return GIVE_UP;
    default:                              /* EPROTO, EPERM, network errors */
        report(srv->on_error, srv->on_error_arg, err, "accept");
        return NEXT;
    }
}

/* A connection accepted and started: go on, or let the others run. */
static int accepted(stream_server_t *srv, int err)
{
    if (err == ENOMEM)
        return PAUSE;
    if (err)
        return GIVE_UP;
    return ++srv->batch < ACCEPT_BATCH ? NEXT : YIELD;
}

/* ---- chapter 06: one accept submitted for many connections ---------- */

/* The multishot accept. malloc'd, as a stream's operations are: a server
 * closed while it is in the kernel lets go of it (srv = NULL). */
struct stream_accept {
    proactor_op_t op;       /* first */
    stream_server_t *srv;   /* the server, or NULL once it let go */
};

static void wake_serve(stream_server_t *srv, int err)
{
    if (future_done(&srv->wait))
        return;
    if (err)
        future_set_error(&srv->wait, err);
    else
        future_set_result(&srv->wait, NULL);
}

/* [serve-accepted] */
/* One completion of the multishot accept: a connection becomes a Task
 * at once; a failure is judged as chapter 05's accept() failures are.
 * The serve wakes only when the accept has to be submitted again (the
 * kernel ended it), after a pause, or for good. */
static void on_accepted(proactor_op_t *op, int res, void *arg)
{
    struct stream_accept *a = arg;
    stream_server_t *srv = a->srv;
    int next = NEXT, err = 0;

    if (srv == NULL) {              /* the server was closed */
        if (res >= 0)
            close(res);
        if (!proactor_multishot_active(op))
            free(a);
        return;
    }
    if (res >= 0 && (srv->flags & L_FAILING)) {
        srv->flags &= ~L_FAILING;   /* it works again: say so, once */
        report(srv->on_error, srv->on_error_arg, 0, "accepting");
    }
    if (res >= 0) {
        err = start_conn(srv, res);
        next = accepted(srv, err);
        srv->batch = 0;             /* the kernel paces us, not a batch */
    } else if (res != -ECANCELED) {
        err = -res;
        next = accept_failed(srv, err);
    }
    if (next == PAUSE)
        srv->flags |= L_PAUSED;
    if ((next == PAUSE || next == GIVE_UP) && proactor_multishot_active(op))
        proactor_cancel_multishot(op);
    if (next == GIVE_UP)
        wake_serve(srv, err);
    else if (next == PAUSE || !proactor_multishot_active(op))
        wake_serve(srv, 0);
}
/* [serve-accepted] */

/* Submit the multishot accept unless it is still in the kernel, and wait
 * for a reason to come back. */
static future_t *accept_many(stream_server_t *srv)
{
    proactor_t *p = proactor_get(srv->loop);

    future_init(&srv->wait, srv->loop);
    if (p != NULL && srv->acc == NULL &&
        (srv->acc = calloc(1, sizeof *srv->acc)) != NULL)
        srv->acc->srv = srv;
    if (p == NULL || srv->acc == NULL)
        future_set_error(&srv->wait, p == NULL ? errno : ENOMEM);
    else if (!proactor_multishot_active(&srv->acc->op) &&
             proactor_multishot_accept(&srv->acc->op, p, srv->fd,
                                       on_accepted, srv->acc) < 0)
        future_set_error(&srv->wait, errno);
    return &srv->wait;
}

static void let_go_of_accept(stream_server_t *srv)
{
    struct stream_accept *a = srv->acc;

    srv->acc = NULL;
    if (a == NULL)
        return;
    if (!proactor_multishot_active(&a->op)) {
        free(a);
        return;
    }
    a->srv = NULL;
    proactor_let_go(&a->op);      /* its callback frees it, even late */
    proactor_cancel_multishot(&a->op);
}

static int serve_end(stream_server_t *srv, int err)
{
    loop_cancel(srv->loop, &srv->retry);
    let_go_of_accept(srv);
    srv->flags &= ~(L_SERVING | L_PAUSED);
    return err;
}

/* [serve] */
static int serve_body(coro_t *co)
{
    stream_server_t *srv = (stream_server_t *)co;

    CORO_BEGIN(co);
    while (!(srv->flags & L_CLOSED)) {
        AWAIT_CATCH(co, accept_many(srv));
        if (!co->err && (srv->flags & L_PAUSED))
            AWAIT_CATCH(co, pause_accepting(srv));
        srv->flags &= ~L_PAUSED;
        if (co->err)
            CORO_FAIL(co, serve_end(srv, co->err));
    }
    serve_end(srv, 0);
    CORO_RETURN(co, NULL);
    CORO_END(co);
}
/* [serve] */

coro_t *stream_server_serve(stream_server_t *srv, task_group_t *group,
                            coro_fn *handler, size_t frame_size, void *arg)
{
    if (srv->flags & L_SERVING)
        return failed_frame(EBUSY);
    if (frame_size < sizeof(stream_conn_t) || srv->fd < 0)
        return failed_frame(EINVAL);
    srv->flags |= L_SERVING;
    srv->group = group;
    srv->handler = handler;
    srv->frame_size = frame_size;
    srv->arg = arg;
    srv->batch = 0;
    coro_init(&srv->co, serve_body);
    return &srv->co;
}

void stream_server_close(stream_server_t *srv)
{
    if (srv->flags & L_CLOSED)
        return;
    srv->flags |= L_CLOSED;
    loop_cancel(srv->loop, &srv->retry);
    let_go_of_accept(srv);            /* chapter 06 */
    if (srv->fd >= 0) {
        close(srv->fd);
        srv->fd = -1;
    }
    if (!future_done(&srv->wait))         /* a waiting serve returns */
        future_set_result(&srv->wait, NULL);
}
