/*
 * stream.c - streams: reads as sub-coroutines run in the reading Task's
 * own step, a write that sends at once and queues only the rest, a drain
 * for flow control, and open_connection / serve on top.
 *
 * asyncio reads in the transport's callback, into the StreamReader's
 * buffer, whenever the socket is readable, and the reader coroutines take
 * from that buffer. Here nothing reads unless a read is awaited: the
 * awaiting Task calls read() itself, straight into the caller's buffer
 * when it can, and a line read that waited has its read() made by the
 * readiness callback, into the stream's buffer. So an idle connection
 * holds no buffer, and the socket's own receive buffer, not ours, is
 * where unread bytes wait (flow control towards the peer for free:
 * asyncio has to pause the transport for it).
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
#include "task.h"

/* stream_t::flags */
enum {
    S_EOF = 1 << 0,        /* read() returned 0 */
    S_READING = 1 << 1,    /* a read frame is handed out */
    S_REGISTERED = 1 << 2, /* our reader is on the loop */
    S_BLOCKING = 1 << 3,   /* wait before every read() */
    S_ALWAYS = 1 << 4,     /* never wait: a regular file */
    S_MAYREAD = 1 << 5,    /* a read() now will not block, and will
                              likely find bytes: read before waiting */
    S_DROPPING = 1 << 6,   /* dropping an over-long line to its separator */
    S_LINEMODE = 1 << 7,   /* readline: the tail at EOF is a line */
    S_HASLINE = 1 << 8,    /* stream_line() is valid */
    S_WRITER = 1 << 9,     /* our writer is on the loop */
    S_WANTEOF = 1 << 10,   /* write_eof asked */
    S_SHUT = 1 << 11,      /* shutdown(SHUT_WR) done */
    S_CLOSING = 1 << 12,   /* close asked */
    S_SOCKET = 1 << 13,    /* send() with MSG_NOSIGNAL */
    S_CONNCLOSE = 1 << 14, /* a server's connection: its handler is done,
                              the Task waits for the close (conn_step) */
    S_CLOSEWAIT = 1 << 15, /* s->drain is wait_closed's Future now */
    S_FILL = 1 << 16,      /* the read in progress reads into the buffer
                              (readuntil), not the caller's (read) */
    S_RUN = 1 << 17,       /* bits 17-21 count the read()s made since the
                              last readiness (after_read) */
};

/* The read()s one readiness allows before the next read waits for the
 * loop to report the descriptor again. A socket whose peer sends without
 * pause never runs dry, so without a limit its reads would never wait:
 * the Task would hold the loop from one step to the next (a read that
 * does not wait returns no Future, so the Task's step budget does not see
 * it), and a cancellation, which lands at an await that suspends, would
 * never land. 16 read()s of up to 32 KiB each: about what asyncio's
 * transport takes per readiness (256 KiB); libuv makes 32. */
#define STREAM_RUN 16
#define S_RUN_MASK (31u * S_RUN)

/* One read() brings at most this much beyond the buffer's free room
 * (read into the stack, then copied to the heap, so a buffer is only
 * allocated for bytes that arrived). */
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
    int fl = fcntl(fd, F_GETFL);
    int known = fstat(fd, &st) == 0;

    if (fl >= 0 && !(fl & O_NONBLOCK))
        flags |= S_BLOCKING;
    else
        flags |= S_MAYREAD;               /* try the first read at once */
    if (known && S_ISREG(st.st_mode))
        flags |= S_ALWAYS | S_MAYREAD;
    else if (known && S_ISSOCK(st.st_mode))
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

/* ---- buffers ------------------------------------------------------------ */

/* Make room for @p n more bytes at the end of *@p bp, which is made if
 * NULL: doubled, or just enough if that is more. 0, or -1 with errno
 * ENOMEM (*@p bp unchanged). */
static int buf_grow(stream_buf_t **bp, size_t n)
{
    stream_buf_t *b = *bp;
    size_t end = b != NULL ? b->end : 0;
    size_t cap = b != NULL ? b->cap : 0;
    size_t need = end + n;
    size_t max = UINT32_MAX - sizeof *b;

    if (need <= cap)
        return 0;
    if (need > max) {
        errno = ENOMEM;
        return -1;
    }
    cap = (2 * cap < need || 2 * cap > max) ? need : 2 * cap;
    stream_buf_t *grown = realloc(b, sizeof *grown + cap);
    if (grown == NULL) {
        errno = ENOMEM;
        return -1;
    }
    if (b == NULL)
        *grown = (stream_buf_t){0};
    grown->cap = (uint32_t)cap;
    *bp = grown;
    return 0;
}

/* ---- the read buffer ---------------------------------------------------- */

static size_t buffered(const stream_t *s)
{
    return s->rbuf != NULL ? s->rbuf->end - s->rbuf->head : 0;
}

static void free_rbuf(stream_t *s)
{
    free(s->rbuf);
    s->rbuf = NULL;
    s->flags &= ~S_HASLINE;
}

/* Hand @p n bytes out. Emptied, the buffer goes, unless a line handed
 * out by this very call still lives in it. */
static void consume(stream_t *s, size_t n)
{
    if (s->rbuf == NULL)
        return;
    s->rbuf->head += (uint32_t)n;
    if (s->rbuf->head == s->rbuf->end && !(s->flags & S_HASLINE))
        free_rbuf(s);
}

/* A new read call: the last line may go now. What is left moves to the
 * front; a buffer much larger than its contents shrinks. */
static void release_line(stream_t *s)
{
    stream_buf_t *b = s->rbuf;
    size_t n = buffered(s);

    s->flags &= ~S_HASLINE;
    if (b == NULL)
        return;
    if (n == 0) {
        free_rbuf(s);
        return;
    }
    memmove(b->data, b->data + b->head, n);
    b->head = 0;
    b->end = (uint32_t)n;
    if (b->cap > 4 * n && b->cap > STREAM_CHUNK) {
        stream_buf_t *p = realloc(b, sizeof *p + n);
        if (p != NULL) {
            s->rbuf = p;
            p->cap = (uint32_t)n;
        }
    }
}

/* Append @p n bytes at @p p. 0, or -1 with errno ENOMEM. */
static int append(stream_t *s, const char *p, size_t n)
{
    if (buf_grow(&s->rbuf, n) < 0)
        return -1;
    memcpy(s->rbuf->data + s->rbuf->end, p, n);
    s->rbuf->end += (uint32_t)n;
    return 0;
}

/* Put bytes a cancelled readexactly had taken back in front. */
static void unread(stream_t *s, const char *p, size_t n)
{
    size_t have = buffered(s);

    if (n == 0)
        return;
    release_line(s);                /* what is left starts at 0 now */
    if (buf_grow(&s->rbuf, n) < 0)
        return; /* out of memory: they stay in the caller's buffer only */
    memmove(s->rbuf->data + n, s->rbuf->data, have);
    memcpy(s->rbuf->data, p, n);
    s->rbuf->end = (uint32_t)(have + n);
    s->partial = 0;
}

/* ---- system calls ------------------------------------------------------- */

static void store_error(stream_t *s, int err)
{
    if (s->error == 0)
        s->error = err;
}

static void after_read(stream_t *s, ssize_t got, size_t asked);

/* One read() straight into the caller's @p n bytes at @p dst (no copy),
 * and on into a chunk on the stack: what follows the caller's bytes is
 * kept in the buffer for the next read. Asking for more than the caller
 * wants is what tells a read that filled the caller's buffer because the
 * kernel had more (read again) from one that only just fitted it (short:
 * wait first); asking for exactly @p n, an echo of messages the size of
 * its buffer would try a read() that finds nothing (EAGAIN) after each
 * one. libuv reads 64 KiB at a time for the same reason; asyncio reads
 * everything into its buffer. Returns the bytes put at @p dst, 0 at end
 * of stream, or -1 with errno. */
static ssize_t read_direct(stream_t *s, char *dst, size_t n)
{
    char chunk[STREAM_CHUNK];
    struct iovec iov[2] = {{dst, n}, {chunk, sizeof chunk}};
    ssize_t got;

    do
        got = readv(s->fd, iov, 2);
    while (got < 0 && errno == EINTR);
    after_read(s, got, n + sizeof chunk);
    if (got <= 0 || (size_t)got <= n)
        return got;
    if (append(s, chunk, (size_t)got - n) < 0)
        store_error(s, ENOMEM);      /* they are lost: the next read says */
    return (ssize_t)n;
}

/* One read() appended to the buffer: into its free room, and on into a
 * chunk on the stack, copied over only if bytes arrived there. */
static ssize_t fill(stream_t *s)
{
    char chunk[STREAM_CHUNK];
    struct iovec iov[2];
    stream_buf_t *b = s->rbuf;
    size_t room = b != NULL ? b->cap - b->end : 0;
    int k = 0;
    ssize_t got;

    if (room > 0)
        iov[k++] = (struct iovec){b->data + b->end, room};
    iov[k++] = (struct iovec){chunk, sizeof chunk};
    do
        got = readv(s->fd, iov, k);
    while (got < 0 && errno == EINTR);
    after_read(s, got, room + sizeof chunk);
    if (got <= 0)
        return got;
    if ((size_t)got <= room) {
        b->end += (uint32_t)got;
        return got;
    }
    if (room > 0)
        b->end += (uint32_t)room;
    if (append(s, chunk, (size_t)got - room) < 0)
        return -1; /* the bytes are lost: stored as the error */
    return got;
}

/* ---- waiting for input -------------------------------------------------- */

/* [stream-wait] */
static int only_not_ready(stream_t *s, int err);

/* Readiness on the stream. A read waits: wake it. One that reads into
 * the stream's own buffer (readuntil, readline) gets its read() made here
 * and now, as asyncio's transport reads in its readiness callback: the
 * bytes are out of the kernel before the selector is asked again, which
 * would otherwise report them a second time, for nothing. One that reads
 * into the caller's buffer makes its read() in its own step: until then
 * the buffer is the caller's, who may share it between connections (the
 * echo server does). Nobody waits (the Task is busy elsewhere, or its read
 * was cancelled): only now unregister, or a level-triggered selector would
 * report the same unread bytes on every iteration. */
static void on_readable(loop_t *loop, void *arg)
{
    stream_t *s = arg;

    if (future_done(&s->readable)) {
        loop_remove_reader(loop, s->fd);
        s->flags &= ~S_REGISTERED;
        return;
    }
    s->flags = (s->flags & ~S_RUN_MASK) | S_MAYREAD; /* a fresh run */
    if ((s->flags & S_FILL) && fill(s) < 0 && only_not_ready(s, errno))
        return;                   /* nothing there after all: wait on */
    future_set_result(&s->readable, NULL);
}

/* The Future a read awaits until the descriptor is readable: finished
 * by on_readable() (for a line read, once it has made the read()). */
static future_t *wait_readable(stream_t *s)
{
    /* Always ready: nothing to wait for, but a turn for the loop all the
     * same (sleep(0)), so a source that never runs dry, or a line that
     * never ends, cannot keep the loop (timers, signals, cancellation)
     * from running; the read follows the turn. Awaiting a finished Future
     * would not do: it does not suspend, and a cancellation waits for an
     * await that does. */
    if (s->flags & S_ALWAYS) {
        s->flags |= S_MAYREAD;
        return NULL;
    }
    future_init(&s->readable, s->loop);
    /* Registered already, the usual case: nothing to tell the loop. A
     * readiness it queued before this wait is no older than the last
     * read(): a read() made outside on_readable() renews the
     * registration (read_in_step()), which drops what was queued. */
    if (s->flags & S_REGISTERED)
        return &s->readable;
    if (loop_add_reader(s->loop, s->fd, on_readable, s) == 0) {
        s->flags |= S_REGISTERED;
    } else if (errno == EPERM) { /* epoll and a regular file: ready */
        s->flags |= S_ALWAYS | S_MAYREAD;
        future_set_result(&s->readable, NULL);
    } else {
        future_set_error(&s->readable, errno);
    }
    return &s->readable;
}
/* [stream-wait] */

/* After a read() of @p asked bytes: may the next one go without waiting?
 * Not on a blocking descriptor (one read per readiness), not after
 * EAGAIN, and not after a short read: the kernel had fewer bytes than
 * asked, so it has none now, most likely, and trying would cost a read()
 * that fails with EAGAIN on every message (libuv skips it the same way);
 * nor after STREAM_RUN of them since the last readiness. A regular file
 * is always ready, and gets a turn of the loop before every read. */
static void after_read(stream_t *s, ssize_t got, size_t asked)
{
    if (got == 0)
        s->flags |= S_EOF;
    if (s->flags & S_ALWAYS) {        /* the next read: a turn first */
        s->flags &= ~S_MAYREAD;
        return;
    }
    if (got < 0 ? (errno == EAGAIN || errno == EWOULDBLOCK)
                : (size_t)got < asked || (s->flags & S_BLOCKING))
        s->flags &= ~S_MAYREAD;
    else if (((s->flags += S_RUN) & S_RUN_MASK) == STREAM_RUN * S_RUN)
        s->flags &= ~(S_MAYREAD | S_RUN_MASK); /* the loop's turn, first */
}

/* The read() failed: 1 if only "not now" (EAGAIN), else the error is
 * stored and 0 returned. */
static int only_not_ready(stream_t *s, int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK)
        return 1;
    store_error(s, err);
    return 0;
}

/* ---- reading ------------------------------------------------------------ */

/* The read() the read in progress makes in the Task's step: onto the
 * buffer for readuntil, else into the caller's buffer after the
 * @c partial bytes already there. Returns as read() does.
 *
 * The selector may have reported these bytes already, for this very
 * iteration, before the step read them: renew the registration's
 * generation, so that the stale report is dropped rather than read on
 * (on a blocking descriptor, a read() with nothing there blocks) or taken
 * for "bytes nobody reads", the reader unregistered only to be registered
 * again by the next read: two epoll_ctl per message. Bytes really left
 * unread are reported again by the next selector wait. */
static ssize_t read_in_step(stream_t *s)
{
    ssize_t got = (s->flags & S_FILL)
                      ? fill(s)
                      : read_direct(s, s->dst + s->partial,
                                    s->want - s->partial);

    if (s->flags & S_REGISTERED)
        loop_add_reader(s->loop, s->fd, on_readable, s); /* no syscall */
    return got;
}

#define READ_RETURN(s, co, n)                                               \
    do {                                                                    \
        intptr_t read_return_n_ = (intptr_t)(n);                            \
        (s)->flags &= ~S_READING;                                           \
        CORO_RETURN(co, INT_RESULT(read_return_n_));                        \
    } while (0)

#define READ_FAIL(s, co, e)                                                 \
    do {                                                                    \
        int read_fail_err_ = (e);                                           \
        (s)->flags &= ~S_READING;                                           \
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

    if (k > 0)
        memcpy(dst, s->rbuf->data + s->rbuf->head, k);
    consume(s, k);
    return k;
}

/* [stream-read] */
static int read_body(coro_t *co)
{
    stream_t *s = stream_of(co);
    ssize_t got;

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
        if (!(s->flags & S_MAYREAD)) {
            AWAIT_CATCH(co, wait_readable(s));
            if (co->err)
                READ_FAIL(s, co, co->err);
            continue;            /* closed meanwhile: ended() says so */
        }
        got = read_in_step(s);
        if (got >= 0)
            READ_RETURN(s, co, got);
        if (!only_not_ready(s, errno))
            READ_FAIL(s, co, s->error);
    }
    CORO_END(co);
}
/* [stream-read] */

static int readexactly_body(coro_t *co)
{
    stream_t *s = stream_of(co);
    ssize_t got;

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
        if (!(s->flags & S_MAYREAD)) {
            AWAIT_CATCH(co, wait_readable(s));
            if (co->err == ECANCELED)     /* no byte lost: put them back */
                unread(s, s->dst, s->partial);
            if (co->err)
                READ_FAIL(s, co, co->err);
            continue;
        }
        got = read_in_step(s);
        if (got > 0)
            s->partial += (size_t)got;
        else if (got < 0 && !only_not_ready(s, errno))
            READ_FAIL(s, co, s->error);
    }
    CORO_END(co);
}

/* Where the separator starts in the buffer, searching from its scan; if it
 * is not there, remember how far it surely is not. */
static int find_sep(stream_t *s, size_t *at)
{
    size_t seplen = s->want;
    size_t n = buffered(s);

    if (n < seplen) {
        if (s->rbuf != NULL)
            s->rbuf->scan = 0;
        return 0;
    }
    const char *base = s->rbuf->data + s->rbuf->head;
    for (size_t i = s->rbuf->scan; i + seplen <= n; i++) {
        if (base[i] == s->sep[0] && memcmp(base + i, s->sep, seplen) == 0) {
            *at = i;
            return 1;
        }
    }
    s->rbuf->scan = (uint32_t)(n - seplen + 1);
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
    if (s->rbuf != NULL)
        s->rbuf->scan = 0;
}

/* Look for a whole line in the buffer. Returns its length, 0 if more
 * bytes are needed, or -1 with errno EMSGSIZE (over the limit). */
static ssize_t cut_line(stream_t *s)
{
    size_t at;

    if (s->rbuf == NULL)    /* nothing buffered, the usual case: no line, */
        return 0;           /* and nothing to drop either */
    if (s->flags & S_DROPPING) {
        drop_to_sep(s);
        if (s->flags & S_DROPPING)
            return 0;
    }
    if (find_sep(s, &at)) {
        s->rbuf->scan = 0;
        if (at > s->limit) {            /* found, but too far: drop it */
            consume(s, at + s->want);
            errno = EMSGSIZE;
            return -1;
        }
        s->rbuf->line = s->rbuf->head;
        s->flags |= S_HASLINE;
        consume(s, at + s->want);
        return (ssize_t)(at + s->want);
    }
    size_t n = buffered(s);
    if (n >= s->want && n - s->want + 1 > s->limit) {
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
    s->rbuf->line = s->rbuf->head;
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
        if (!(s->flags & S_MAYREAD)) {
            AWAIT_CATCH(co, wait_readable(s)); /* bytes stay buffered */
            if (co->err)
                READ_FAIL(s, co, co->err);
            continue;
        }
        got = read_in_step(s);
        if (got < 0 && !only_not_ready(s, errno))
            READ_FAIL(s, co, s->error);
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
    s->flags &= ~(S_LINEMODE | S_FILL | S_HASLINE);
    s->flags |= S_READING | mode;
    s->partial = 0;
    if (s->rbuf != NULL) {          /* no buffer, the usual case: no line */
        release_line(s);
        if (s->rbuf != NULL)
            s->rbuf->scan = 0;
    }
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
    return begin(s, readuntil_body, S_FILL);
}

coro_t *stream_readline(stream_t *s)
{
    if (s->flags & S_READING)
        return failed_frame(EBUSY);
    s->sep = "\n";
    s->want = 1;
    return begin(s, readuntil_body, S_FILL | S_LINEMODE);
}

const char *stream_line(const stream_t *s)
{
    return (s->flags & S_HASLINE) ? s->rbuf->data + s->rbuf->line : NULL;
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

static size_t queued(const stream_t *s)
{
    return s->wbuf != NULL ? s->wbuf->end - s->wbuf->head : 0;
}

static void free_queue(stream_t *s)
{
    free(s->wbuf);
    s->wbuf = NULL;
}

static ssize_t sys_send(stream_t *s, const void *p, size_t n)
{
    ssize_t k;

    do
        k = (s->flags & S_SOCKET) ? send(s->fd, p, n, MSG_NOSIGNAL)
                                  : write(s->fd, p, n);
    while (k < 0 && errno == EINTR);
    return k;
}

/* Append to the queue: into its free room, else to the front of it (the
 * sent bytes' place), else into a larger one. */
static int enqueue(stream_t *s, const char *p, size_t n)
{
    size_t len = queued(s);

    if (n > UINT32_MAX - len) {
        errno = ENOMEM;
        return -1;
    }
    stream_buf_t *q = s->wbuf;

    if (q != NULL && q->cap - q->end < n && q->head > 0) {
        memmove(q->data, q->data + q->head, len);
        q->head = 0;
        q->end = (uint32_t)len;
    }
    if (buf_grow(&s->wbuf, n) < 0)
        return -1;
    memcpy(s->wbuf->data + s->wbuf->end, p, n);
    s->wbuf->end += (uint32_t)n;
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

/* The connection failed while sending: nothing queued can go out. */
static void write_failed(stream_t *s, int err)
{
    store_error(s, err);
    free_queue(s);
    if (s->flags & S_WRITER) {
        loop_remove_writer(s->loop, s->fd);
        s->flags &= ~S_WRITER;
    }
    wake_drain(s, s->error);
    if (s->flags & S_CLOSING)
        finish_close(s);
}

/* The queue has gone out: what was waiting for that happens now. */
static void flushed(stream_t *s)
{
    free_queue(s);
    if (s->flags & S_WRITER) {
        loop_remove_writer(s->loop, s->fd);
        s->flags &= ~S_WRITER;
    }
    if ((s->flags & S_WANTEOF) && !(s->flags & S_SHUT)) {
        s->flags |= S_SHUT;
        if (shutdown(s->fd, SHUT_WR) < 0)
            store_error(s, errno);
    }
    if (s->flags & S_CLOSING)
        finish_close(s);
}

/* [stream-flush] */
/* The socket has room: one send() from the queue (asyncio's transport
 * also sends once per writable event). */
static void on_writable(loop_t *loop, void *arg)
{
    stream_t *s = arg;
    ssize_t k;

    (void)loop;
    if (queued(s) == 0) {    /* never registered so; safe all the same */
        flushed(s);
        return;
    }
    k = sys_send(s, s->wbuf->data + s->wbuf->head, queued(s));
    if (k < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            write_failed(s, errno);
        return;
    }
    s->wbuf->head += (uint32_t)k;
    if (queued(s) <= s->low)
        wake_drain(s, 0);
    if (queued(s) == 0)
        flushed(s);
}
/* [stream-flush] */

/* [stream-write] */
int stream_write(stream_t *s, const void *data, size_t n)
{
    size_t sent = 0;

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
    if (queued(s) == 0) {             /* nothing ahead of it: send now */
        ssize_t k = sys_send(s, data, n);
        if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
            write_failed(s, errno);
            errno = s->error;
            return -1;
        }
        sent = k < 0 ? 0 : (size_t)k;
        if (sent == n)
            return 0;                 /* the usual case: no copy */
    }
    if (enqueue(s, (const char *)data + sent, n - sent) < 0 ||
        (!(s->flags & S_WRITER) &&
         loop_add_writer(s->loop, s->fd, on_writable, s) < 0)) {
        write_failed(s, errno);       /* a hole in the byte stream */
        errno = s->error;
        return -1;
    }
    s->flags |= S_WRITER;
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
    /* At or below the high-water mark, the usual case: the Future is
     * finished with a plain result already (by the last drain, or by the
     * writer callback once the queue fell to the low-water mark), and
     * nobody is on it: it serves again as it is. */
    int below = queued(s) <= s->high;
    if (below && future_state(&s->drain) == FUTURE_RESULT)
        return &s->drain;
    future_init(&s->drain, s->loop);
    if (below)
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
    if (s->flags & S_WRITER)
        loop_remove_writer(s->loop, s->fd);
    s->flags &= ~S_WRITER;
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
    if (s->flags & S_REGISTERED)
        loop_remove_reader(s->loop, s->fd);
    s->flags &= ~S_REGISTERED;
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

/* A socket this file made or accepted: non-blocking, no need to ask. Its
 * first read waits for readiness, as asyncio's does: the peer has only
 * just connected (or been connected to), so a read() now would nearly
 * always find nothing, and cost a system call per connection. */
static void init_socket(stream_t *s, loop_t *loop, int fd)
{
    init_flags(s, loop, fd, S_SOCKET);
    set_nodelay(fd);
}

static void on_connected(loop_t *loop, void *arg)
{
    stream_connect_t *c = arg;

    (void)loop;
    if (!future_done(&c->writable))
        future_set_result(&c->writable, NULL);
}

/* Start connecting to c->ai. 1: connected, 0: in progress (wait for
 * c->writable), -1: this address failed (c->err). */
static int connect_start(stream_connect_t *c)
{
    const struct addrinfo *ai = c->ai;
    int rc;

    c->fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK |
                   SOCK_CLOEXEC, ai->ai_protocol);
    if (c->fd < 0) {
        c->err = errno;
        return -1;
    }
    rc = connect(c->fd, ai->ai_addr, ai->ai_addrlen);
    if (rc == 0)
        return 1;
    if ((errno == EINPROGRESS || errno == EINTR) &&
        loop_add_writer(c->loop, c->fd, on_connected, c) == 0) {
        future_init(&c->writable, c->loop);
        return 0;
    }
    c->err = errno;
    close(c->fd);
    c->fd = -1;
    return -1;
}

/* The wait is over: did the connect succeed? */
static int connect_result(stream_connect_t *c)
{
    int err = 0;
    socklen_t len = sizeof err;

    loop_remove_writer(c->loop, c->fd);
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
    if (err == 0)
        return 0;
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
        if (rc == 0) {
            AWAIT_CATCH(co, &c->writable);
            if (co->err) {                     /* cancelled */
                loop_remove_writer(c->loop, c->fd);
                close(c->fd);
                connect_end(c);
                CORO_FAIL(co, co->err);
            }
            rc = connect_result(c) == 0;
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

static void on_listen_readable(loop_t *loop, void *arg);

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
    /* Registered now, as asyncio's start_server does: a loop that cannot
     * watch the socket (ERANGE: select past FD_SETSIZE) fails the listen,
     * before the program says it is listening. The registration stays
     * while the serve waits; readiness nobody waits for removes it. */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0 ||
        fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ||
        loop_add_reader(loop, fd, on_listen_readable, srv) < 0) {
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

/* As on_readable: wake the serve, or unregister lazily (also during a
 * pause, when the serve waits for its timer, not for the socket). */
static void on_listen_readable(loop_t *loop, void *arg)
{
    stream_server_t *srv = arg;

    if (future_done(&srv->wait) || (srv->flags & L_PAUSED))
        loop_remove_reader(loop, srv->fd);
    else
        future_set_result(&srv->wait, NULL);
}

static void on_retry(loop_t *loop, void *arg)
{
    stream_server_t *srv = arg;

    (void)loop;
    if (!future_done(&srv->wait))
        future_set_result(&srv->wait, NULL);
}

static future_t *wait_listen(stream_server_t *srv)
{
    future_init(&srv->wait, srv->loop);
    if (loop_add_reader(srv->loop, srv->fd, on_listen_readable, srv) < 0)
        future_set_error(&srv->wait, errno);
    return &srv->wait;
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

static int serve_end(stream_server_t *srv, int err)
{
    loop_cancel(srv->loop, &srv->retry);
    srv->flags &= ~(L_SERVING | L_PAUSED);
    return err;
}

/* [serve] */
static int serve_body(coro_t *co)
{
    stream_server_t *srv = (stream_server_t *)co;
    int fd, next, err;

    CORO_BEGIN(co);
    while (!(srv->flags & L_CLOSED)) {
        fd = accept4(srv->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0 && (srv->flags & L_FAILING)) {
            srv->flags &= ~L_FAILING;
            report(srv->on_error, srv->on_error_arg, 0, "accepting");
        }
        err = fd >= 0 ? start_conn(srv, fd) : errno;
        next = fd >= 0 ? accepted(srv, err) : accept_failed(srv, err);
        if (next == GIVE_UP)              /* the group or socket is gone */
            CORO_FAIL(co, serve_end(srv, err));
        if (next == NEXT)
            continue;
        srv->batch = 0;
        if (next == PAUSE)
            AWAIT_CATCH(co, pause_accepting(srv));
        else if (next == WAIT)
            AWAIT_CATCH(co, wait_listen(srv));
        else
            AWAIT_CATCH(co, NULL);        /* a batch done: let others run */
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
    if (srv->fd >= 0) {
        loop_remove_reader(srv->loop, srv->fd);
        close(srv->fd);
        srv->fd = -1;
    }
    if (!future_done(&srv->wait))         /* a waiting serve returns */
        future_set_result(&srv->wait, NULL);
}
