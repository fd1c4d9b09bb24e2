/*
 * test_stream_uring.c - what completion changes under the same stream
 * interface (chapter 06): the caller's buffer is never the kernel's, an
 * idle read holds no pool buffer, and a stream closed or cancelled with a
 * receive in the kernel leaves nothing behind once it completes.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "proactor.h"
#include "stream.h"
#include "task.h"

static fixture_t fx;
static proactor_t *pr;

static void setup(void)
{
    fixture_start(&fx);
    pr = proactor_get(fx.loop);
}

static void teardown(void)
{
    fixture_stop(&fx);
}

TestSuite(stream_uring, .init = setup, .fini = teardown, .timeout = 10);

static void need_uring(void)
{
    if (pr == NULL)
        cr_skip_test("%s", proactor_strerror(errno));
}

static proactor_stats_t stats(void)
{
    proactor_stats_t s;
    proactor_get_stats(pr, &s);
    return s;
}

typedef struct reader {
    coro_t co;
    stream_t *s;
    char *buf;
    size_t n;
    int done;
    int err;
    intptr_t got;
} reader_t;

static int reader_body(coro_t *co)
{
    reader_t *f = (reader_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, stream_read(f->s, f->buf, f->n));
    f->err = co->err;
    f->got = co->err ? -1 : (intptr_t)co->in;
    f->done = 1;
    CORO_END(co);
}

static reader_t *start_read(stream_t *s, char *buf, size_t n, task_t **t)
{
    reader_t *f;

    *t = task_create(fx.loop, reader_body, sizeof *f, (void **)&f);
    cr_assert_not_null(*t);
    f->s = s;
    f->buf = buf;
    f->n = n;
    return f;
}

/* echo-server shares one scratch buffer among its connections: fine with
 * readiness (the read happens in the Task's own step), a corruption with
 * completion if the buffer were handed to the kernel. It is not. */
Test(stream_uring, a_shared_buffer_is_written_only_when_its_read_is_handed_out)
{
    int a[2], b[2];
    stream_t sa, sb;
    char shared[16];
    task_t *ta, *tb;

    need_uring();
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
    stream_init(&sa, fx.loop, a[0]);
    stream_init(&sb, fx.loop, b[0]);
    memset(shared, '.', sizeof shared);
    reader_t *ra = start_read(&sa, shared, 4, &ta);
    reader_t *rb = start_read(&sb, shared, 4, &tb);
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 2, "both receives in the kernel");
    cr_assert_eq(write(a[1], "AAAA", 4), 4);
    for (int i = 0; i < 100 && !ra->done; i++)
        loop_run_once(fx.loop);
    cr_assert(ra->done && ra->got == 4);
    cr_assert_eq(memcmp(shared, "AAAA", 4), 0);
    memcpy(shared, "used", 4);     /* the program works with its bytes */
    cr_assert_eq(write(b[1], "BBBB", 4), 4);
    cr_assert_eq(memcmp(shared, "used", 4), 0,
                 "b's bytes did not land in the buffer behind its back");
    for (int i = 0; i < 100 && !rb->done; i++)
        loop_run_once(fx.loop);
    cr_assert(rb->done && rb->got == 4);
    cr_assert_eq(memcmp(shared, "BBBB", 4), 0);
    task_release(ta);
    task_release(tb);
    stream_close(&sa);
    stream_close(&sb);
    close(a[1]);
    close(b[1]);
}

Test(stream_uring, idle_reads_hold_no_pool_buffer)
{
    enum { N = 32 };
    int sv[N][2];
    stream_t s[N];
    char buf[N][8];
    task_t *t[N];

    need_uring();
    unsigned free_before = stats().pool_free;
    for (int i = 0; i < N; i++) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv[i]), 0);
        stream_init(&s[i], fx.loop, sv[i][0]);
        start_read(&s[i], buf[i], sizeof buf[i], &t[i]);
    }
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, N);
    cr_assert_eq(stats().pool_free, free_before,
                 "a receive waiting for its peer holds no buffer");
    for (int i = 0; i < N; i++) {
        task_cancel(t[i]);
        task_release(t[i]);
    }
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 0);
    for (int i = 0; i < N; i++) {
        stream_close(&s[i]);
        close(sv[i][1]);
    }
}

/* The stream lets go of its receive; the kernel's cancel completes it. */
Test(stream_uring, closing_with_a_receive_in_the_kernel_leaves_nothing_in_flight)
{
    int sv[2];
    stream_t s;
    char buf[8];
    task_t *t;

    need_uring();
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    stream_init(&s, fx.loop, sv[0]);
    reader_t *r = start_read(&s, buf, sizeof buf, &t);
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 1);
    stream_close(&s);              /* nothing queued: the fd closes now */
    cr_assert_eq(s.fd, -1);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->got, 0, "the waiting read sees the end of stream");
    cr_assert_eq(stats().in_flight, 0);
    cr_assert_eq(stats().pool_free, 256);
    task_release(t);
    close(sv[1]);
}

/* A write's bytes are the kernel's until the send completes: the caller
 * may overwrite its own at once, and the stream's queue stays put even
 * when more writes come while the send is in flight. */
Test(stream_uring, writes_during_a_send_in_flight_keep_their_order)
{
    int sv[2];
    stream_t s;
    char data[4], got[64] = {0};

    need_uring();
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    stream_init(&s, fx.loop, sv[0]);
    memcpy(data, "one ", 4);
    cr_assert_eq(stream_write(&s, data, 4), 0);
    loop_run_once(fx.loop);        /* the first send goes in */
    memcpy(data, "two ", 4);
    cr_assert_eq(stream_write(&s, data, 4), 0);
    memcpy(data, "3   ", 4);
    cr_assert_eq(stream_write(&s, data, 4), 0);
    fixture_settle(&fx);
    cr_assert_eq(stream_write_buffer_size(&s), 0);
    cr_assert_eq(read(sv[1], got, sizeof got), 12);
    cr_assert_str_eq(got, "one two 3   ");
    stream_close(&s);
    close(sv[1]);
}

/* ---- the server: one multishot accept for every connection --------------- */

#include <arpa/inet.h>
#include <netinet/in.h>

#include "net.h"
#include "taskgroup.h"

typedef struct echo_conn {
    stream_conn_t c;
    char buf[64];
} echo_conn_t;

static int echo_body(coro_t *co)
{
    echo_conn_t *e = (echo_conn_t *)co;

    CORO_BEGIN(co);
    for (;;) {
        CORO_AWAIT_CORO(co, stream_read(&e->c.stream, e->buf, sizeof e->buf));
        if ((intptr_t)co->in == 0)
            break;
        if (stream_write(&e->c.stream, e->buf, (size_t)(intptr_t)co->in) < 0)
            CORO_FAIL(co, errno);
        AWAIT(co, stream_drain(&e->c.stream));
    }
    CORO_END(co);
}

typedef struct server_frame {
    coro_t co;
    stream_server_t *srv;
    task_group_t *group;
    int done;
    int err;
} server_frame_t;

static int server_body(coro_t *co)
{
    server_frame_t *f = (server_frame_t *)co;

    CORO_BEGIN(co);
    CORO_AWAIT_CORO_CATCH(co, stream_server_serve(f->srv, f->group, echo_body,
                                                  sizeof(echo_conn_t), NULL));
    f->err = co->err;
    f->done = 1;
    CORO_END(co);
}

static unsigned short port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;

    cr_assert_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

Test(stream_uring, the_server_accepts_every_client_with_one_submitted_accept)
{
    enum { N = 5 };
    stream_server_t srv;
    task_group_t group;
    server_frame_t *f;
    int c[N];

    need_uring();
    cr_assert_eq(stream_server_listen(&srv, fx.loop, "127.0.0.1", 0, NULL), 0);
    task_group_init(&group, fx.loop);
    task_t *t = task_create(fx.loop, server_body, sizeof *f, (void **)&f);
    f->srv = &srv;
    f->group = &group;
    fixture_settle(&fx);
    struct sockaddr_in a = {.sin_family = AF_INET,
                            .sin_port = htons(port_of(srv.fd)),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int i = 0; i < N; i++) {
        c[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_eq(connect(c[i], (struct sockaddr *)&a, sizeof a), 0);
    }
    for (int i = 0; i < 200 && task_group_running(&group) < N; i++)
        loop_run_once(fx.loop);
    cr_assert_eq(task_group_running(&group), N);
    /* one accept in the kernel the whole time: nothing was submitted for
     * the five connections but their handlers' first receives */
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, N + 1, "N receives and one accept");
    for (int i = 0; i < N; i++) {
        char buf[8] = {0};
        cr_assert_eq(write(c[i], "echo", 4), 4);
        for (int k = 0; k < 200 && recv(c[i], buf, sizeof buf,
                                          MSG_DONTWAIT) < 0; k++)
            loop_run_once(fx.loop);
        cr_assert_str_eq(buf, "echo");
    }
    stream_server_close(&srv);
    for (int i = 0; i < 100 && !f->done; i++)
        loop_run_once(fx.loop);
    cr_assert(f->done);
    cr_assert_eq(f->err, 0, "close ends the serve: %s", strerror(f->err));
    for (int i = 0; i < N; i++)
        close(c[i]);
    for (int i = 0; i < 200 && task_group_running(&group) > 0; i++)
        loop_run_once(fx.loop);
    cr_assert_eq(task_group_running(&group), 0);
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 0, "the accept was let go of, too");
    task_release(t);
}

/* A pool buffer holds what chapter 05's one read() brought (16 KiB): a
 * message that size is one receive and one read, not four. */
Test(stream_uring, a_16_KiB_message_is_one_read)
{
    enum { SIZE = PROACTOR_POOL_SIZE };
    int sv[2];
    stream_t s;
    static char out[SIZE], in[SIZE];
    task_t *t;

    need_uring();
    cr_assert_eq(SIZE, 16384);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    stream_init(&s, fx.loop, sv[0]);
    for (int i = 0; i < SIZE; i++)
        out[i] = (char)(i * 7);
    cr_assert_eq(write(sv[1], out, SIZE), SIZE);
    reader_t *r = start_read(&s, in, SIZE, &t);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->got, SIZE, "one read, the whole message: %ld bytes",
                 (long)r->got);
    cr_assert_eq(memcmp(in, out, SIZE), 0);
    cr_assert_eq(stats().completions, 1, "one receive");
    task_release(t);
    stream_close(&s);
    close(sv[1]);
}

/* A read that asks for less than a receive brought takes its part
 * straight from the pool buffer; the rest waits in the stream for the
 * next read, which needs no receive, and the pool buffer goes back. */
Test(stream_uring, a_short_read_keeps_the_rest_of_a_receive_for_the_next)
{
    int sv[2];
    stream_t s;
    char buf[4];
    task_t *t;

    need_uring();
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    stream_init(&s, fx.loop, sv[0]);
    reader_t *r = start_read(&s, buf, 3, &t);
    fixture_settle(&fx);
    cr_assert(!r->done);
    cr_assert_eq(write(sv[1], "abcdefg", 7), 7);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->got, 3);
    cr_assert_eq(memcmp(buf, "abc", 3), 0);
    cr_assert_eq(stats().pool_free, 256, "the pool buffer went back");
    task_release(t);
    uint64_t receives = stats().completions;
    r = start_read(&s, buf, sizeof buf, &t);
    fixture_settle(&fx);
    cr_assert(r->done);
    cr_assert_eq(r->got, 4);
    cr_assert_eq(memcmp(buf, "defg", 4), 0);
    cr_assert_eq(stats().completions, receives, "no receive needed");
    cr_assert_eq(stats().in_flight, 0);
    task_release(t);
    stream_close(&s);
    close(sv[1]);
}

/* A message of some KiB is queued in one of the proactor's blocks, not a
 * malloc of its own (whose free and page faults cost as much as the copy
 * at 16 KiB), and the block goes back when the send is done. */
Test(stream_uring, a_large_write_is_queued_in_a_proactor_block)
{
    int sv[2];
    stream_t s;
    static char msg[PROACTOR_POOL_SIZE], in[PROACTOR_POOL_SIZE];

    need_uring();
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    stream_init(&s, fx.loop, sv[0]);
    void *block = proactor_block_get(pr);
    proactor_block_put(pr, block);          /* the next one got */
    memset(msg, 'm', sizeof msg);
    cr_assert_eq(stream_write(&s, msg, sizeof msg), 0);
    void *other = proactor_block_get(pr);
    cr_assert_neq(other, block, "the stream's queue took it");
    proactor_block_put(pr, other);
    fixture_settle(&fx);
    cr_assert_eq(stream_write_buffer_size(&s), 0, "sent");
    cr_assert_eq(proactor_block_get(pr), block, "and given back");
    proactor_block_put(pr, block);
    size_t got = 0;
    while (got < sizeof in) {
        ssize_t k = read(sv[1], in + got, sizeof in - got);
        cr_assert_gt(k, 0);
        got += (size_t)k;
    }
    cr_assert_eq(memcmp(in, msg, sizeof msg), 0);
    stream_close(&s);
    close(sv[1]);
}
