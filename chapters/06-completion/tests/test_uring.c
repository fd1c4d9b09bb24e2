/*
 * test_uring.c - the proactor (proactor.h): operations submitted to an
 * io_uring, their completions finishing Futures. Every test skips, with
 * the reason, where io_uring cannot be used; the last ones make sure that
 * reason is found and said, in a child whose io_uring_setup() a seccomp
 * filter refuses.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <arpa/inet.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "fixture.h"
#include "proactor.h"
#include "task.h"

static fixture_t fx;
static proactor_t *pr;

static double fake_clock(void *arg)
{
    return *(double *)arg;
}

static void ignore(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/* The fixture's loop, without the proactor fixture_start() attaches with
 * the defaults: these tests attach their own, with their own options. */
static void setup(void)
{
    loop_t *with_defaults;

    fixture_start(&fx);
    with_defaults = fx.loop;
    loop_remove_reader(with_defaults, fx.awake[0]);
    loop_options_t o = {.clock = fake_clock, .clock_arg = &fx.now};
    fx.loop = loop_create(&o);
    cr_assert_not_null(fx.loop);
    cr_assert_eq(loop_add_reader(fx.loop, fx.awake[0], ignore, NULL), 0);
    loop_destroy(with_defaults);
}

static void teardown(void)
{
    fixture_stop(&fx);
}

TestSuite(uring, .init = setup, .fini = teardown, .timeout = 10);

/* Attach the proactor, or skip the test saying why it cannot run. */
static void need_uring(const proactor_options_t *options)
{
    pr = proactor_attach(fx.loop, options);
    if (pr == NULL)
        cr_skip_test("%s", proactor_strerror(errno));
}

static void run_until_done(future_t *f)
{
    for (int i = 0; i < 1000 && !future_done(f); i++)
        loop_run_once(fx.loop);
    cr_assert(future_done(f), "the operation never completed");
}

static intptr_t result_of(future_t *f)
{
    void *result;
    int err = 0;

    cr_assert_eq(future_result(f, &result, &err), FUTURE_OK,
                 "failed: %s", strerror(err));
    return (intptr_t)result;
}

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

static proactor_stats_t stats(void)
{
    proactor_stats_t s;
    proactor_get_stats(pr, &s);
    return s;
}

Test(uring, a_send_and_a_recv_complete_with_byte_counts)
{
    int sv[2];
    char in[16] = {0};
    proactor_op_t send_op, recv_op;

    need_uring(NULL);
    pair(sv);
    future_t *r = proactor_recv(&recv_op, pr, sv[1], in, sizeof in);
    future_t *s = proactor_send(&send_op, pr, sv[0], "hello", 5);
    cr_assert(!future_done(r) && !future_done(s),
              "nothing completes before the loop submits");
    run_until_done(r);
    run_until_done(s);
    cr_assert_eq(result_of(s), 5);
    cr_assert_eq(result_of(r), 5);
    cr_assert_str_eq(in, "hello");
    close(sv[0]);
    close(sv[1]);
}

Test(uring, a_recv_completes_with_zero_at_end_of_stream)
{
    int sv[2];
    char in[16];
    proactor_op_t op;

    need_uring(NULL);
    pair(sv);
    future_t *r = proactor_recv(&op, pr, sv[1], in, sizeof in);
    fixture_settle(&fx);
    cr_assert(!future_done(r), "a recv with nothing sent stays pending");
    shutdown(sv[0], SHUT_WR);
    run_until_done(r);
    cr_assert_eq(result_of(r), 0);
    close(sv[0]);
    close(sv[1]);
}

Test(uring, a_send_to_a_closed_peer_fails_with_epipe_not_sigpipe)
{
    int sv[2];
    proactor_op_t op;

    need_uring(NULL);
    pair(sv);
    close(sv[1]);
    future_t *s = proactor_send(&op, pr, sv[0], "x", 1);
    run_until_done(s);
    int err = 0;
    cr_assert_eq(future_result(s, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, EPIPE);
    close(sv[0]);
}

/* The seam: a coroutine awaits the op's Future exactly as it awaited
 * sock_recv() in chapter 05. */
typedef struct reader {
    coro_t co;
    proactor_op_t op;
    int fd;
    char buf[32];
} reader_t;

static int reader_body(coro_t *co)
{
    reader_t *f = (reader_t *)co;

    CORO_BEGIN(co);
    AWAIT(co, proactor_recv(&f->op, pr, f->fd, f->buf, sizeof f->buf - 1));
    CORO_RETURN(co, co->in);
    CORO_END(co);
}

Test(uring, a_task_awaits_a_completion_like_any_future)
{
    int sv[2];
    reader_t *f;

    need_uring(NULL);
    pair(sv);
    task_t *t = task_create(fx.loop, reader_body, sizeof *f, (void **)&f);
    f->fd = sv[1];
    fixture_settle(&fx);
    cr_assert(!future_done(task_future(t)));
    cr_assert_eq(write(sv[0], "ping", 4), 4);
    run_until_done(task_future(t));
    cr_assert_eq(result_of(task_future(t)), 4);
    cr_assert_str_eq(f->buf, "ping");
    task_release(t);
    close(sv[0]);
    close(sv[1]);
}

/* Cancelling is a request: the Future stays pending, so its buffer stays
 * the kernel's, until the operation's own completion says it ended. */
Test(uring, a_cancelled_recv_stays_pending_until_its_completion)
{
    int sv[2];
    char buf[8];
    proactor_op_t op;

    need_uring(NULL);
    pair(sv);
    future_t *r = proactor_recv(&op, pr, sv[1], buf, sizeof buf);
    fixture_settle(&fx);                   /* now in the kernel */
    cr_assert_eq(stats().in_flight, 1);
    cr_assert_eq(future_cancel(r), 1);
    cr_assert(!future_done(r),
              "cancel only asks; the buffer is the kernel's until the "
              "completion");
    cr_assert_eq(stats().cancels, 1);
    run_until_done(r);
    cr_assert_eq(future_state(r), FUTURE_CANCELLED);
    cr_assert_eq(stats().in_flight, 0);
    close(sv[0]);
    close(sv[1]);
}

/* The completion may be a success: then the bytes are the caller's, not
 * lost to the cancellation. The recv is queued with data already there,
 * the cancel behind it, both go in one batch: the recv completes first. */
Test(uring, a_cancel_that_comes_too_late_leaves_the_result)
{
    int sv[2];
    char buf[8] = {0};
    proactor_op_t op;

    need_uring(NULL);
    pair(sv);
    cr_assert_eq(write(sv[0], "late", 4), 4);
    future_t *r = proactor_recv(&op, pr, sv[1], buf, sizeof buf);
    cr_assert_eq(future_cancel(r), 1);
    run_until_done(r);
    cr_assert_eq(future_state(r), FUTURE_RESULT);
    cr_assert_eq(result_of(r), 4);
    cr_assert_str_eq(buf, "late");
    close(sv[0]);
    close(sv[1]);
}

/* When the Task ends, how many operations the kernel still had. */
static void note_in_flight(future_t *future, void *arg)
{
    (void)future;
    *(int *)arg = (int)stats().in_flight;
}

/* A Task cancelled while its recv is in the kernel ends only after the
 * completion: its frame (which holds the buffer) is not freed before. */
Test(uring, a_cancelled_task_ends_after_its_recv_completes)
{
    int sv[2];
    reader_t *f;
    future_callback_t record;
    int in_flight_at_end = -1;

    need_uring(NULL);
    pair(sv);
    task_t *t = task_create(fx.loop, reader_body, sizeof *f, (void **)&f);
    f->fd = sv[1];
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 1);
    future_add_done_callback(task_future(t), &record, note_in_flight,
                             &in_flight_at_end);
    task_cancel(t);
    run_until_done(task_future(t));
    cr_assert_eq(in_flight_at_end, 0,
                 "the Task ended while the kernel still owned its buffer");
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(stats().in_flight, 0);
    task_release(t);
    close(sv[0]);
    close(sv[1]);
}

Test(uring, a_pooled_recv_takes_a_buffer_only_when_data_arrives)
{
    enum { N = 64 };
    int sv[N][2];
    proactor_op_t op[N];
    proactor_options_t o = {.pool_count = 8, .pool_size = 256};

    need_uring(&o);
    for (int i = 0; i < N; i++) {
        pair(sv[i]);
        proactor_recv_pooled(&op[i], pr, sv[i][1]);
    }
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, N);
    cr_assert_eq(stats().pool_free, 8,
                 "%d idle recvs hold no buffer (8 free of 8)", N);
    cr_assert_eq(write(sv[5][0], "five", 4), 4);
    run_until_done(&op[5].future);
    cr_assert_eq(result_of(&op[5].future), 4);
    cr_assert_eq(memcmp(proactor_op_data(&op[5]), "five", 4), 0);
    cr_assert_eq(stats().pool_free, 7);
    proactor_release(&op[5]);
    cr_assert_eq(stats().pool_free, 8);
    cr_assert_null(proactor_op_data(&op[5]));
    for (int i = 0; i < N; i++) {
        if (i != 5)
            future_cancel(&op[i].future);
    }
    for (int i = 0; i < N; i++)
        run_until_done(&op[i].future);
    for (int i = 0; i < N; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

/* An empty pool: the kernel answers ENOBUFS; the recv waits, holding
 * nothing, and goes back to the kernel when a buffer is released. */
Test(uring, an_empty_pool_makes_a_recv_wait_for_a_released_buffer)
{
    int sv[3][2];
    proactor_op_t op[3];
    proactor_options_t o = {.pool_count = 2, .pool_size = 64};
    const char *msg[3] = {"zero", "one", "two"};

    need_uring(&o);
    for (int i = 0; i < 3; i++) {
        pair(sv[i]);
        cr_assert_eq(write(sv[i][0], msg[i], strlen(msg[i])),
                     (ssize_t)strlen(msg[i]));
        proactor_recv_pooled(&op[i], pr, sv[i][1]);
    }
    fixture_settle(&fx);
    int done = 0, waiting = -1;
    for (int i = 0; i < 3; i++) {
        if (future_done(&op[i].future))
            done++;
        else
            waiting = i;
    }
    cr_assert_eq(done, 2, "two buffers, two recvs served");
    cr_assert_geq(stats().nobufs, 1, "the kernel found the pool empty");
    cr_assert_eq(stats().pool_free, 0);
    cr_assert_eq(stats().in_flight, 0, "the third waits outside the kernel");
    int first = waiting == 0 ? 1 : 0;
    cr_assert_eq(memcmp(proactor_op_data(&op[first]), msg[first],
                        strlen(msg[first])), 0);
    proactor_release(&op[first]);
    run_until_done(&op[waiting].future);
    cr_assert_eq(result_of(&op[waiting].future),
                 (intptr_t)strlen(msg[waiting]));
    cr_assert_eq(memcmp(proactor_op_data(&op[waiting]), msg[waiting],
                        strlen(msg[waiting])), 0);
    for (int i = 0; i < 3; i++) {
        proactor_release(&op[i]);
        close(sv[i][0]);
        close(sv[i][1]);
    }
    cr_assert_eq(stats().pool_free, 2);
}

Test(uring, a_recv_waiting_for_a_buffer_is_cancelled_at_once)
{
    int sv[2][2];
    proactor_op_t op[2];
    proactor_options_t o = {.pool_count = 1, .pool_size = 64};

    need_uring(&o);
    for (int i = 0; i < 2; i++) {
        pair(sv[i]);
        cr_assert_eq(write(sv[i][0], "x", 1), 1);
        proactor_recv_pooled(&op[i], pr, sv[i][1]);
    }
    fixture_settle(&fx);
    int waiting = future_done(&op[0].future) ? 1 : 0;
    cr_assert(!future_done(&op[waiting].future));
    cr_assert_eq(future_cancel(&op[waiting].future), 1);
    cr_assert_eq(future_state(&op[waiting].future), FUTURE_CANCELLED,
                 "it is not in the kernel: nothing to wait for");
    proactor_release(&op[!waiting]);
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 0, "a cancelled waiter is not resubmitted");
    for (int i = 0; i < 2; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

/* ---- kept receives (proactor_rx_*): the stream's receive ----------------- */

typedef struct rx_seen {
    int calls;
    int res;
    char bytes[16];
    size_t len;
    int done_in_cb;   /* call proactor_rx_done() in the callback */
    proactor_rx_t rx;
} rx_seen_t;

static void on_rx(void *arg, int res)
{
    rx_seen_t *seen = arg;
    size_t len;
    const char *data = proactor_rx_data(pr, seen->rx, &len);

    seen->calls++;
    seen->res = res;
    seen->len = len < sizeof seen->bytes ? len : sizeof seen->bytes;
    if (data != NULL)
        memcpy(seen->bytes, data, seen->len);
    if (seen->done_in_cb)
        proactor_rx_done(pr, seen->rx);
}

static void run_until_called(rx_seen_t *seen)
{
    for (int i = 0; i < 1000 && seen->calls == 0; i++)
        loop_run_once(fx.loop);
    cr_assert_eq(seen->calls, 1, "the callback never came");
}

Test(uring, a_kept_receive_keeps_its_pool_buffer_until_done)
{
    int sv[2];
    rx_seen_t seen = {0};
    proactor_options_t o = {.pool_count = 4, .pool_size = 64};

    need_uring(&o);
    pair(sv);
    seen.rx = proactor_rx_start(pr, sv[1], 1, on_rx, &seen);
    cr_assert_neq(seen.rx, 0);
    fixture_settle(&fx);
    cr_assert_eq(seen.calls, 0);
    cr_assert_eq(stats().pool_free, 4, "waiting, it holds no buffer");
    cr_assert_eq(write(sv[0], "kept", 4), 4);
    run_until_called(&seen);
    cr_assert_eq(seen.res, 4);
    cr_assert_eq(seen.len, 4);
    cr_assert_eq(memcmp(seen.bytes, "kept", 4), 0);
    cr_assert_eq(stats().pool_free, 3, "the bytes are the caller's");
    size_t len;
    cr_assert_not_null(proactor_rx_data(pr, seen.rx, &len));
    proactor_rx_done(pr, seen.rx);
    cr_assert_eq(stats().pool_free, 4);
    cr_assert_eq(stats().in_flight, 0);
    close(sv[0]);
    close(sv[1]);
}

/* The owner goes while the kernel has the receive (a stream closed with
 * its connection, its storage freed): no callback, and the entry and any
 * buffer come back when the kernel lets go. */
Test(uring, a_kept_receive_let_go_of_cleans_up_after_itself)
{
    int sv[2];
    rx_seen_t seen = {0};

    need_uring(NULL);
    pair(sv);
    seen.rx = proactor_rx_start(pr, sv[1], 1, on_rx, &seen);
    fixture_settle(&fx);
    cr_assert_eq(stats().in_flight, 1);
    proactor_rx_let_go(pr, seen.rx);
    cr_assert_eq(write(sv[0], "late", 4), 4); /* may win against the cancel */
    fixture_settle(&fx);
    cr_assert_eq(seen.calls, 0, "nobody to call back");
    cr_assert_eq(stats().in_flight, 0);
    cr_assert_eq(stats().pool_free, 256, "no buffer kept by nobody");
    close(sv[0]);
    close(sv[1]);
}

Test(uring, a_kept_receive_let_go_of_after_its_bytes_gives_them_back)
{
    int sv[2];
    rx_seen_t seen = {0};

    need_uring(NULL);
    pair(sv);
    seen.rx = proactor_rx_start(pr, sv[1], 1, on_rx, &seen);
    cr_assert_eq(write(sv[0], "abc", 3), 3);
    run_until_called(&seen);
    cr_assert_eq(stats().pool_free, 255);
    proactor_rx_let_go(pr, seen.rx);
    cr_assert_eq(stats().pool_free, 256);
    close(sv[0]);
    close(sv[1]);
}

/* Cancelled in the kernel: the callback says -ECANCELED, or, if the
 * bytes won the race, brings them: none is lost either way. */
Test(uring, a_cancelled_kept_receive_ends_with_its_completion)
{
    int sv[2];
    rx_seen_t seen = {.done_in_cb = 1};

    need_uring(NULL);
    pair(sv);
    seen.rx = proactor_rx_start(pr, sv[1], 1, on_rx, &seen);
    fixture_settle(&fx);
    proactor_rx_cancel(pr, seen.rx);
    cr_assert_eq(seen.calls, 0, "a request: the completion says how it ended");
    cr_assert_eq(stats().cancels, 1);
    run_until_called(&seen);
    cr_assert_eq(seen.res, -ECANCELED);
    cr_assert_eq(stats().in_flight, 0);
    cr_assert_eq(stats().pool_free, 256);
    close(sv[0]);
    close(sv[1]);
}

/* Entries are reused: many receives one after the other need no more
 * entries than are in use at once, and each finds its own bytes. */
Test(uring, kept_receives_reuse_their_entries)
{
    enum { N = 40 };
    int sv[N][2];
    rx_seen_t seen[N];
    proactor_options_t o = {.pool_count = 64, .pool_size = 64};

    need_uring(&o);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            if (round == 0)
                pair(sv[i]);
            seen[i] = (rx_seen_t){.done_in_cb = 1};
            seen[i].rx = proactor_rx_start(pr, sv[i][1], 1, on_rx, &seen[i]);
            cr_assert(seen[i].rx >= 1 && seen[i].rx <= 64,
                      "handle %u: entries are reused", seen[i].rx);
            char c = (char)('A' + i);
            cr_assert_eq(write(sv[i][0], &c, 1), 1);
        }
        for (int i = 0; i < N; i++) {
            run_until_called(&seen[i]);
            cr_assert_eq(seen[i].res, 1);
            cr_assert_eq(seen[i].bytes[0], 'A' + i);
        }
    }
    cr_assert_eq(stats().pool_free, 64);
    for (int i = 0; i < N; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

/* An empty pool: as for proactor_recv_pooled(), the receive waits
 * outside the kernel and goes again when a buffer comes back; cancelled
 * while it waits, it ends at once. */
Test(uring, a_kept_receive_waits_out_an_empty_pool)
{
    int sv[3][2];
    rx_seen_t seen[3] = {{0}};
    proactor_options_t o = {.pool_count = 1, .pool_size = 64};

    need_uring(&o);
    for (int i = 0; i < 3; i++) {
        pair(sv[i]);
        cr_assert_eq(write(sv[i][0], "x", 1), 1);
        seen[i].rx = proactor_rx_start(pr, sv[i][1], 1, on_rx, &seen[i]);
    }
    fixture_settle(&fx);
    int served = -1, calls = 0;
    for (int i = 0; i < 3; i++) {
        calls += seen[i].calls;
        if (seen[i].calls)
            served = i;
    }
    cr_assert_eq(calls, 1, "one buffer, one receive served");
    cr_assert_geq(stats().nobufs, 1);
    cr_assert_eq(stats().in_flight, 0, "the others wait outside the kernel");
    int cancelled = (served + 1) % 3, next = (served + 2) % 3;
    proactor_rx_cancel(pr, seen[cancelled].rx);
    cr_assert_eq(seen[cancelled].calls, 1, "not in the kernel: at once");
    cr_assert_eq(seen[cancelled].res, -ECANCELED);
    proactor_rx_done(pr, seen[cancelled].rx);
    proactor_rx_done(pr, seen[served].rx);       /* the buffer comes back */
    run_until_called(&seen[next]);
    cr_assert_eq(seen[next].res, 1);
    proactor_rx_done(pr, seen[next].rx);
    cr_assert_eq(stats().pool_free, 1);
    for (int i = 0; i < 3; i++) {
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

/* Batching: what one iteration queues reaches the kernel in one
 * io_uring_enter(). */
Test(uring, many_operations_go_to_the_kernel_in_one_enter)
{
    enum { N = 32 };
    int sv[N][2];
    proactor_op_t op[N];

    need_uring(NULL);
    for (int i = 0; i < N; i++)
        pair(sv[i]);
    fixture_settle(&fx);
    proactor_stats_t before = stats();
    for (int i = 0; i < N; i++)
        proactor_send(&op[i], pr, sv[i][0], "batch", 5);
    loop_run_once(fx.loop);
    proactor_stats_t after = stats();
    cr_assert_eq(after.enters - before.enters, 1);
    cr_assert_geq(after.submitted - before.submitted, N);
    for (int i = 0; i < N; i++) {
        run_until_done(&op[i].future);
        cr_assert_eq(result_of(&op[i].future), 5);
        close(sv[i][0]);
        close(sv[i][1]);
    }
}

static int listener(struct sockaddr_in *addr)
{
    socklen_t len = sizeof *addr;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    cr_assert_geq(fd, 0);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(fd, (struct sockaddr *)addr, sizeof *addr), 0);
    cr_assert_eq(listen(fd, 16), 0);
    cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, &len), 0);
    return fd;
}

Test(uring, connect_and_accept_complete_on_loopback)
{
    struct sockaddr_in addr;
    proactor_op_t acc, con;

    need_uring(NULL);
    int lfd = listener(&addr);
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    future_t *a = proactor_accept(&acc, pr, lfd);
    future_t *c = proactor_connect(&con, pr, cfd, (struct sockaddr *)&addr,
                                   sizeof addr);
    run_until_done(c);
    run_until_done(a);
    cr_assert_eq(result_of(c), 0);
    int sfd = (int)result_of(a);
    cr_assert_geq(sfd, 0);
    cr_assert_eq(write(cfd, "hi", 2), 2);
    char buf[2];
    cr_assert_eq(read(sfd, buf, 2), 2);
    close(sfd);
    close(cfd);
    close(lfd);
}

Test(uring, a_refused_connect_fails_with_econnrefused)
{
    struct sockaddr_in addr;
    proactor_op_t con;

    need_uring(NULL);
    int lfd = listener(&addr);
    close(lfd); /* nobody listens on that port now */
    int cfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    future_t *c = proactor_connect(&con, pr, cfd, (struct sockaddr *)&addr,
                                   sizeof addr);
    run_until_done(c);
    int err = 0;
    cr_assert_eq(future_result(c, NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ECONNREFUSED);
    close(cfd);
}

typedef struct counter {
    int calls;
    int last;
    char seen[64];
} counter_t;

static void count_accept(proactor_op_t *op, int res, void *arg)
{
    counter_t *c = arg;
    (void)op;
    c->calls++;
    c->last = res;
    if (res >= 0)
        close(res);
}

Test(uring, one_multishot_accept_takes_many_connections)
{
    struct sockaddr_in addr;
    proactor_op_t acc;
    counter_t c = {0};
    int cfd[3];

    need_uring(NULL);
    int lfd = listener(&addr);
    cr_assert_eq(proactor_multishot_accept(&acc, pr, lfd, count_accept, &c),
                 0);
    fixture_settle(&fx);
    proactor_stats_t before = stats();
    for (int i = 0; i < 3; i++) {
        cfd[i] = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        cr_assert_eq(connect(cfd[i], (struct sockaddr *)&addr, sizeof addr),
                     0);
    }
    for (int i = 0; i < 1000 && c.calls < 3; i++)
        loop_run_once(fx.loop);
    cr_assert_eq(c.calls, 3);
    cr_assert_geq(c.last, 0);
    cr_assert_eq(stats().in_flight, 1, "one accept in the kernel for all");
    cr_assert_eq(stats().completions - before.completions, 3);
    cr_assert(proactor_multishot_active(&acc));
    proactor_cancel_multishot(&acc);
    for (int i = 0; i < 1000 && proactor_multishot_active(&acc); i++)
        loop_run_once(fx.loop);
    cr_assert(!proactor_multishot_active(&acc));
    cr_assert_eq(c.last, -ECANCELED);
    for (int i = 0; i < 3; i++)
        close(cfd[i]);
    close(lfd);
}

static void collect(proactor_op_t *op, int res, void *arg)
{
    counter_t *c = arg;
    c->calls++;
    c->last = res;
    if (res > 0)
        strncat(c->seen, proactor_op_data(op), (size_t)res);
}

Test(uring, one_multishot_recv_delivers_each_message_in_a_pool_buffer)
{
    int sv[2];
    proactor_op_t op;
    counter_t c = {0};

    need_uring(NULL);
    pair(sv);
    cr_assert_eq(proactor_multishot_recv(&op, pr, sv[1], collect, &c), 0);
    fixture_settle(&fx);
    const char *parts[] = {"a", "bb", "ccc"};
    for (int i = 0; i < 3; i++) {
        cr_assert_eq(write(sv[0], parts[i], strlen(parts[i])),
                     (ssize_t)strlen(parts[i]));
        for (int j = 0; j < 1000 && c.calls < i + 1; j++)
            loop_run_once(fx.loop);
    }
    cr_assert_eq(c.calls, 3);
    cr_assert_str_eq(c.seen, "abbccc");
    cr_assert_eq(stats().pool_free, 256, "each buffer went back");
    shutdown(sv[0], SHUT_WR);
    for (int i = 0; i < 1000 && proactor_multishot_active(&op); i++)
        loop_run_once(fx.loop);
    cr_assert_eq(c.last, 0, "end of stream ends it");
    close(sv[0]);
    close(sv[1]);
}

/* stdin-like: a pipe, left blocking, as a terminal or a shell's pipe is. */
Test(uring, a_read_completes_on_a_blocking_pipe)
{
    int p[2];
    char buf[16] = {0};
    proactor_op_t op;

    need_uring(NULL);
    cr_assert_eq(pipe(p), 0);
    future_t *r = proactor_read(&op, pr, p[0], buf, sizeof buf);
    fixture_settle(&fx);
    cr_assert(!future_done(r));
    cr_assert_eq(write(p[1], "7\n", 2), 2);
    run_until_done(r);
    cr_assert_eq(result_of(r), 2);
    cr_assert_str_eq(buf, "7\n");
    close(p[0]);
    close(p[1]);
}

/* The loop still serves readers (the self-pipe) and timers while it
 * waits in the ring. */
static void mark(loop_t *loop, void *arg)
{
    (void)loop;
    *(int *)arg += 1;
}

Test(uring, readers_and_timers_still_run_on_a_proactor_loop)
{
    int p[2];
    int read_calls = 0, timer_calls = 0;
    loop_timer_t timer;

    need_uring(NULL);
    cr_assert_eq(pipe(p), 0);
    cr_assert_eq(loop_add_reader(fx.loop, p[0], mark, &read_calls), 0);
    fixture_settle(&fx);
    cr_assert_eq(read_calls, 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    fixture_settle(&fx);
    cr_assert_geq(read_calls, 2, "level-triggered: reported while unread");
    loop_remove_reader(fx.loop, p[0]);
    loop_timer_init(&timer);
    loop_call_later(fx.loop, &timer, 1.0, mark, &timer_calls);
    fixture_advance(&fx, 0.5);
    cr_assert_eq(timer_calls, 0);
    fixture_advance(&fx, 0.6);
    cr_assert_eq(timer_calls, 1);
    close(p[0]);
    close(p[1]);
}

/* ---- without io_uring --------------------------------------------------- */

/* In a child: refuse io_uring_setup() with @p err, as a container's
 * seccomp profile does, then try. */
static int child_without_uring(int err)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {.len = sizeof filter / sizeof filter[0],
                              .filter = filter};

    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
        prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
        return 10;
    loop_t *loop = loop_create(NULL);
    if (loop == NULL)
        return 11;
    proactor_t *p = proactor_get(loop);
    int got = errno;
    loop_destroy(loop);
    if (p != NULL)
        return 12; /* the filter did not bite */
    if (got != err)
        return 13;
    if (strstr(proactor_strerror(got), "io_uring is not available") == NULL)
        return 14;
    return 0;
}

static void check_child(int err)
{
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0)
        _exit(child_without_uring(err));
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child crashed");
    cr_assert_eq(WEXITSTATUS(status), 0,
                 "child status %d (10 seccomp refused, 11 no loop, 12 the "
                 "proactor came up, 13 wrong errno, 14 unclear message)",
                 WEXITSTATUS(status));
}

Test(uring, seccomp_refusing_io_uring_with_enosys_is_reported)
{
    check_child(ENOSYS);
}

Test(uring, seccomp_refusing_io_uring_with_eperm_is_reported)
{
    check_child(EPERM);
}

/* A program: one line on stderr that names io_uring, a non-zero status,
 * nothing on stdout. It is build/hello next to this test binary. */
Test(uring, a_program_without_io_uring_says_so_in_one_line_and_fails)
{
    char exe[4096], prog[4200], err[512] = {0};
    int errpipe[2];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);

    cr_assert_gt(n, 0);
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(prog, sizeof prog, "%s/hello", exe);
    if (access(prog, X_OK) != 0)
        cr_skip_test("%s is not built", prog);
    cr_assert_eq(pipe(errpipe), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                     offsetof(struct seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        struct sock_fprog fprog = {.len = sizeof filter / sizeof filter[0],
                                   .filter = filter};
        dup2(errpipe[1], 2);
        close(errpipe[0]);
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
            prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &fprog) < 0)
            _exit(100);
        execl(prog, prog, "--interval", "0.1", (char *)NULL);
        _exit(101);
    }
    close(errpipe[1]);
    size_t len = 0;
    while (len < sizeof err - 1 &&
           (n = read(errpipe[0], err + len, sizeof err - 1 - len)) > 0)
        len += (size_t)n;
    close(errpipe[0]);
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) != 0 &&
              WEXITSTATUS(status) < 100, "status %d", status);
    cr_assert_not_null(strstr(err, "io_uring is not available"), "%s", err);
    cr_assert_eq(strchr(err, '\n'), err + len - 1, "one line: %s", err);
}

/* A loop on select or poll cannot have a proactor (the ring watches the
 * selector's epoll descriptor): the reason names the backend and what to
 * use instead, and only that, whether or not io_uring works here. */
Test(uring, a_loop_off_epoll_is_told_to_use_the_epoll_backend)
{
    selector_backend_t backends[] = {SELECTOR_SELECT, SELECTOR_POLL};

    for (int i = 0; i < 2; i++) {
        loop_options_t o = {.backend = backends[i]};
        loop_t *loop = loop_create(&o);

        cr_assert_not_null(loop);
        errno = 0;
        cr_assert_null(proactor_get(loop));
        cr_assert_eq(errno, ENOTSUP);
        loop_destroy(loop);
    }
    const char *why = proactor_strerror(ENOTSUP);
    cr_assert_not_null(strstr(why, "epoll backend"), "%s", why);
    cr_assert_null(strstr(why, "buffer ring"),
                   "the kernel is not what is missing: %s", why);
}

/* The block cache: a block given back is the next one got, and at most
 * PROACTOR_BLOCKS_KEPT are kept (the rest are freed: LeakSanitizer
 * builds of the programs say if they are not). */
Test(uring, a_block_given_back_is_the_next_one_got)
{
    void *b[PROACTOR_BLOCKS_KEPT + 2];

    need_uring(NULL);
    for (int i = 0; i < PROACTOR_BLOCKS_KEPT + 2; i++) {
        b[i] = proactor_block_get(pr);
        cr_assert_not_null(b[i]);
        memset(b[i], i, PROACTOR_POOL_SIZE); /* all of it is ours */
    }
    for (int i = 0; i < PROACTOR_BLOCKS_KEPT + 2; i++)
        proactor_block_put(pr, b[i]);
    void *again = proactor_block_get(pr);
    cr_assert_eq(again, b[PROACTOR_BLOCKS_KEPT - 1],
                 "the last one kept comes first");
    proactor_block_put(pr, again);
    proactor_block_put(pr, NULL);
}

/* A Task that always has a next step keeps the loop's wait at a zero
 * timeout. The kernel finishes operations only inside io_uring_enter()
 * (DEFER_TASKRUN), so even a wait that must not block has to enter, or
 * a receive whose bytes came after it was submitted never completes. */
typedef struct spinner {
    coro_t co;
    int *stop;
    long turns;
} spinner_t;

static int spinner_body(coro_t *co)
{
    spinner_t *f = (spinner_t *)co;

    CORO_BEGIN(co);
    while (!*f->stop) {
        f->turns++;
        AWAIT(co, NULL);          /* a turn for the others, no wait */
    }
    CORO_END(co);
}

Test(uring, completions_come_while_the_loop_never_waits)
{
    int sv[2], stop = 0;
    char buf[8];
    proactor_op_t op;
    spinner_t *f;
    loop_t *loop = loop_create(NULL); /* its own: no reader to re-arm a
                                       * poll on every iteration */

    need_uring(NULL);
    cr_assert_not_null(loop);
    proactor_t *own = proactor_get(loop);
    cr_assert_not_null(own);
    pair(sv);
    task_t *t = task_create(loop, spinner_body, sizeof *f, (void **)&f);
    cr_assert_not_null(t);
    f->stop = &stop;
    future_t *r = proactor_recv(&op, own, sv[1], buf, sizeof buf);
    loop_run_once(loop);          /* submitted; nothing to receive yet */
    loop_run_once(loop);
    cr_assert(!future_done(r));
    cr_assert_eq(write(sv[0], "late", 4), 4);
    for (int i = 0; i < 100 && !future_done(r); i++)
        loop_run_once(loop);
    cr_assert(future_done(r), "the receive never completed");
    cr_assert_eq(result_of(r), 4);
    cr_assert_gt(f->turns, 0);
    stop = 1;
    for (int i = 0; i < 10 && !future_done(task_future(t)); i++)
        loop_run_once(loop);
    task_release(t);
    loop_destroy(loop);
    close(sv[0]);
    close(sv[1]);
}
