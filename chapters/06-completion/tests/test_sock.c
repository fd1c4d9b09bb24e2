/*
 * test_sock.c - the awaitable socket operations, the socket watch and the
 * line reader, on socketpairs and pipes.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "sock.h"
#include "task.h"

static fixture_t fx;
static int sv[2];

static void setup(void)
{
    fixture_start(&fx);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
}

static void teardown(void)
{
    close(sv[0]);
    close(sv[1]);
    fixture_stop(&fx);
}

TestSuite(sock, .init = setup, .fini = teardown, .timeout = 10);

typedef struct reader {
    coro_t co;
    io_op_t op;
    char buf[64];
    intptr_t got;
    int err;
} reader_t;

static int reader_body(coro_t *co)
{
    reader_t *f = (reader_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sock_recv(&f->op, fx.loop, sv[0], f->buf, sizeof f->buf));
    f->err = co->err;
    f->got = (intptr_t)co->in;
    CORO_FAIL(co, co->err);
    CORO_END(co);
}

Test(sock, recv_waits_for_data_then_returns_it)
{
    reader_t *f;
    task_t *t = task_create(fx.loop, reader_body, sizeof *f, (void **)&f);

    fixture_settle(&fx);
    cr_assert(!future_done(task_future(t)), "nothing was sent yet");
    cr_assert_eq(write(sv[1], "ping", 4), 4);
    fixture_settle(&fx);
    cr_assert_eq(f->got, 4);
    cr_assert_eq(memcmp(f->buf, "ping", 4), 0);
    task_release(t);
}

Test(sock, recv_returns_zero_at_end_of_stream)
{
    reader_t *f;
    task_t *t = task_create(fx.loop, reader_body, sizeof *f, (void **)&f);

    shutdown(sv[1], SHUT_WR);
    fixture_settle(&fx);
    cr_assert(future_done(task_future(t)));
    cr_assert_eq(f->got, 0);
    cr_assert_eq(f->err, 0);
    task_release(t);
}

Test(sock, cancelling_a_recv_stops_watching_the_descriptor)
{
    reader_t *f;
    task_t *t = task_create(fx.loop, reader_body, sizeof *f, (void **)&f);

    fixture_settle(&fx);
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(f->err, ECANCELED);
    /* No reader left: a new one can be added and nothing stale runs. */
    cr_assert_eq(loop_remove_reader(fx.loop, sv[0]), 0);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    fixture_settle(&fx);
    task_release(t);
}

typedef struct sender {
    coro_t co;
    io_op_t op;
    char *data;
    size_t len;
    int err;
    int done;
} sender_t;

static int sender_body(coro_t *co)
{
    sender_t *f = (sender_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sock_sendall(&f->op, fx.loop, sv[0], f->data, f->len));
    f->err = co->err;
    f->done = 1;
    CORO_END(co);
}

Test(sock, sendall_waits_while_the_peer_does_not_read_then_finishes)
{
    enum { BIG = 4 << 20 };
    static char data[BIG], back[BIG];
    size_t got = 0;
    sender_t *f;
    task_t *t = task_create(fx.loop, sender_body, sizeof *f, (void **)&f);

    for (size_t i = 0; i < BIG; i++)
        data[i] = (char)(i * 7);
    f->data = data;
    f->len = BIG;
    fixture_settle(&fx);
    cr_assert(!f->done, "4 MiB cannot fit in the socket buffers");
    while (got < BIG) {                /* now the peer reads */
        ssize_t n = read(sv[1], back + got, BIG - got);

        if (n > 0)
            got += (size_t)n;
        loop_run_once(fx.loop);
    }
    fixture_settle(&fx);
    cr_assert(f->done);
    cr_assert_eq(f->err, 0);
    cr_assert_eq(memcmp(data, back, BIG), 0);
    task_release(t);
}

Test(sock, sendall_to_a_closed_peer_fails_with_epipe_not_sigpipe)
{
    sender_t *f;
    task_t *t = task_create(fx.loop, sender_body, sizeof *f, (void **)&f);

    f->data = "hello";
    f->len = 5;
    close(sv[1]);
    sv[1] = open("/dev/null", O_RDONLY);   /* keep teardown's close valid */
    fixture_settle(&fx);
    cr_assert(f->done);
    cr_assert_eq(f->err, EPIPE);
    task_release(t);
}

/* accept and connect, on loopback: a listener coroutine and a client
 * coroutine meet, and a byte goes through. */
typedef struct meet {
    coro_t co;
    int listen_fd;
    int fd;
    struct sockaddr_in addr;
    io_op_t op;
    char c;
    int err;
} meet_t;

static int acceptor_body(coro_t *co)
{
    meet_t *f = (meet_t *)co;

    CORO_BEGIN(co);
    AWAIT_CATCH(co, sock_accept(&f->op, fx.loop, f->listen_fd));
    if ((f->err = co->err))
        CORO_FAIL(co, co->err);
    f->fd = (int)(intptr_t)co->in;
    AWAIT_CATCH(co, sock_recv(&f->op, fx.loop, f->fd, &f->c, 1));
    f->err = co->err;
    CORO_END(co);
}

static int connector_body(coro_t *co)
{
    meet_t *f = (meet_t *)co;

    CORO_BEGIN(co);
    f->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    AWAIT_CATCH(co, sock_connect(&f->op, fx.loop, f->fd,
                           (struct sockaddr *)&f->addr, sizeof f->addr));
    if ((f->err = co->err))
        CORO_FAIL(co, co->err);
    AWAIT_CATCH(co, sock_sendall(&f->op, fx.loop, f->fd, "!", 1));
    f->err = co->err;
    CORO_END(co);
}

Test(sock, accept_and_connect_meet_on_loopback)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    meet_t *a, *c;
    task_t *ta, *tc;

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(lfd, 8), 0);
    getsockname(lfd, (struct sockaddr *)&addr, &len);
    ta = task_create(fx.loop, acceptor_body, sizeof *a, (void **)&a);
    a->listen_fd = lfd;
    fixture_settle(&fx);
    cr_assert(!future_done(task_future(ta)), "accepted with no client");
    tc = task_create(fx.loop, connector_body, sizeof *c, (void **)&c);
    c->addr = addr;
    for (int i = 0; i < 200 && !future_done(task_future(ta)); i++)
        fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(tc)), FUTURE_RESULT);
    cr_assert_eq(future_state(task_future(ta)), FUTURE_RESULT);
    cr_assert_eq(a->c, '!');
    close(a->fd);
    close(c->fd);
    close(lfd);
    task_release(ta);
    task_release(tc);
}

Test(sock, connect_to_a_closed_port_fails_with_econnrefused)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    int probe = socket(AF_INET, SOCK_STREAM, 0);
    meet_t *c;
    task_t *tc;

    /* A port that was free a moment ago, and has no listener. */
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(probe, (struct sockaddr *)&addr, sizeof addr), 0);
    getsockname(probe, (struct sockaddr *)&addr, &len);
    close(probe);
    tc = task_create(fx.loop, connector_body, sizeof *c, (void **)&c);
    c->addr = addr;
    for (int i = 0; i < 200 && !future_done(task_future(tc)); i++)
        fixture_settle(&fx);
    cr_assert_eq(c->err, ECONNREFUSED);
    cr_assert_eq(future_result(task_future(tc), NULL, NULL), FUTURE_E_ERROR,
                 "the Task fails with it too");
    close(c->fd);
    task_release(tc);
}

