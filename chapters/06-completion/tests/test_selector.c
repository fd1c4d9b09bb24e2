/*
 * test_selector.c - the selector's contract, checked on every backend.
 *
 * Each test body is written once and run three times, as
 * selector_select/NAME, selector_poll/NAME and selector_epoll/NAME, by the
 * BACKEND_TEST macro. Fixtures are non-blocking pipes and socketpairs.
 */
#define _GNU_SOURCE /* pipe2 */
#include "selector.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define BACKEND_TEST(name, ...)                                              \
    static void name##_body(selector_backend_t backend);                     \
    Test(selector_select, name, __VA_ARGS__) { name##_body(SELECTOR_SELECT); } \
    Test(selector_poll, name, __VA_ARGS__) { name##_body(SELECTOR_POLL); }     \
    Test(selector_epoll, name, __VA_ARGS__) { name##_body(SELECTOR_EPOLL); }   \
    static void name##_body(selector_backend_t backend)

static selector_t *make(selector_backend_t backend)
{
    selector_t *sel = selector_create(backend);
    cr_assert_not_null(sel, "selector_create(%s): %s",
                       selector_backend_name(backend), strerror(errno));
    cr_assert_eq(selector_backend(sel), backend);
    return sel;
}

static void make_pipe(int fds[2])
{
    cr_assert_eq(pipe2(fds, O_NONBLOCK | O_CLOEXEC), 0);
}

static void make_socketpair(int fds[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
                            0, fds), 0);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wait with timeout_ms; expect exactly one ready event, return it. */
static selector_event_t one_event(selector_t *sel, int timeout_ms)
{
    selector_event_t ev;
    cr_assert_eq(selector_select(sel, timeout_ms), 1);
    cr_assert_eq(selector_next(sel, &ev), 1);
    selector_event_t extra;
    cr_assert_eq(selector_next(sel, &extra), 0);
    return ev;
}

static void expect_error(int rc, int err)
{
    int got = errno;
    cr_assert_eq(rc, -1);
    cr_assert_eq(got, err, "errno %s, expected %s", strerror(got), strerror(err));
}

/* ---- names and creation ---------------------------------------------------- */

Test(selector, parses_and_names_backends)
{
    selector_backend_t b;
    const char *names[] = {"default", "select", "poll", "epoll"};
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(selector_backend_parse(names[i], &b), 0);
        cr_assert_str_eq(selector_backend_name(b), names[i]);
    }
    b = SELECTOR_POLL;
    expect_error(selector_backend_parse("kqueue", &b), EINVAL);
    expect_error(selector_backend_parse("", &b), EINVAL);
    cr_assert_eq(b, SELECTOR_POLL);
}

Test(selector, default_picks_epoll_on_linux)
{
    selector_t *sel = selector_create(SELECTOR_DEFAULT);
    cr_assert_not_null(sel);
    cr_assert_eq(selector_backend(sel), SELECTOR_EPOLL);
    selector_destroy(sel);
    selector_destroy(NULL);
}

Test(selector, resolve_names_the_backend_default_stands_for)
{
    /* What an error message should name when selector_create() failed. */
    cr_assert_eq(selector_backend_resolve(SELECTOR_DEFAULT), SELECTOR_EPOLL);
    cr_assert_str_eq(selector_backend_name(selector_backend_resolve(
                         SELECTOR_DEFAULT)), "epoll");
    cr_assert_eq(selector_backend_resolve(SELECTOR_SELECT), SELECTOR_SELECT);
    cr_assert_eq(selector_backend_resolve(SELECTOR_POLL), SELECTOR_POLL);
    cr_assert_eq(selector_backend_resolve(SELECTOR_EPOLL), SELECTOR_EPOLL);
}

/* ---- errors ------------------------------------------------------------------ */

BACKEND_TEST(refuses_bad_arguments, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);

    expect_error(selector_register(sel, p[0], 0, NULL), EINVAL);
    expect_error(selector_register(sel, p[0], 4, NULL), EINVAL);
    expect_error(selector_register(sel, p[0], SELECTOR_READ | 8, NULL), EINVAL);
    expect_error(selector_register(sel, -1, SELECTOR_READ, NULL), EBADF);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    expect_error(selector_register(sel, p[0], SELECTOR_WRITE, NULL), EEXIST);
    expect_error(selector_modify(sel, p[0], 0, NULL), EINVAL);
    expect_error(selector_modify(sel, p[0], 7, NULL), EINVAL);
    expect_error(selector_modify(sel, p[1], SELECTOR_READ, NULL), ENOENT);
    expect_error(selector_modify(sel, -5, SELECTOR_READ, NULL), ENOENT);
    expect_error(selector_unregister(sel, p[1]), ENOENT);
    expect_error(selector_unregister(sel, 100000), ENOENT);
    expect_error(selector_get(sel, p[1], NULL, NULL), ENOENT);
    expect_error(selector_get(sel, -1, NULL, NULL), ENOENT);
    cr_assert_eq(selector_count(sel), 1);

    /* A failed call changed nothing: p[0] is still there, as it was. */
    unsigned events = 0;
    cr_assert_eq(selector_get(sel, p[0], &events, NULL), 0);
    cr_assert_eq(events, SELECTOR_READ);
    cr_assert_eq(selector_unregister(sel, p[0]), 0);
    expect_error(selector_unregister(sel, p[0]), ENOENT);
    cr_assert_eq(selector_count(sel), 0);

    selector_destroy(sel);
    close(p[0]);
    close(p[1]);
}

BACKEND_TEST(refuses_closed_descriptors, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);
    close(p[0]);
    expect_error(selector_register(sel, p[0], SELECTOR_READ, NULL), EBADF);
    expect_error(selector_register(sel, 900, SELECTOR_READ, NULL), EBADF);
    cr_assert_eq(selector_count(sel), 0);
    selector_destroy(sel);
    close(p[1]);
}

/* The kernel refuses a modify: here the descriptor was closed and its
 * number reused, so epoll has forgotten it (ENOENT). The selector then
 * drops its key, as Python's selectors module does, so that its state is
 * the one the error describes: not registered, free to register again. */
Test(selector_epoll, a_modify_the_kernel_refuses_leaves_it_unregistered,
     .timeout = 10)
{
    selector_t *sel = make(SELECTOR_EPOLL);
    int p[2], q[2];
    make_pipe(p);
    make_pipe(q);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    cr_assert_eq(dup2(q[0], p[0]), p[0]); /* the old pipe end is closed */
    expect_error(selector_modify(sel, p[0], SELECTOR_WRITE, NULL), ENOENT);
    expect_error(selector_get(sel, p[0], NULL, NULL), ENOENT);
    cr_assert_eq(selector_count(sel), 0);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0,
                 "registering again: %s", strerror(errno));
    cr_assert_eq(write(q[1], "x", 1), 1);
    selector_event_t ev = one_event(sel, 1000);
    cr_assert_eq(ev.fd, p[0]);
    selector_destroy(sel);
    for (int i = 0; i < 2; i++) {
        close(p[i]);
        close(q[i]);
    }
}

/* A descriptor numbered above FD_SETSIZE: select() refuses it (ERANGE)
 * instead of writing past its fd_set; the others watch it fine. */
BACKEND_TEST(handles_descriptors_above_fd_setsize, .timeout = 10)
{
    struct rlimit rl;
    cr_assert_eq(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < FD_SETSIZE + 100) {
        rl.rlim_cur = rl.rlim_max < FD_SETSIZE + 100 ? rl.rlim_max : FD_SETSIZE + 100;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int p[2];
    make_pipe(p);
    int high = fcntl(p[0], F_DUPFD_CLOEXEC, FD_SETSIZE + 10);
    if (high == -1)
        cr_skip_test("cannot open an fd above FD_SETSIZE here: %s", strerror(errno));
    cr_assert_geq(high, FD_SETSIZE);

    selector_t *sel = make(backend);
    int rc = selector_register(sel, high, SELECTOR_READ, &rl);
    if (backend == SELECTOR_SELECT) {
        expect_error(rc, ERANGE);
        cr_assert_eq(selector_count(sel), 0);
        /* The boundary itself: FD_SETSIZE - 1 is the last one that fits. */
        int edge = fcntl(p[0], F_DUPFD_CLOEXEC, FD_SETSIZE - 1);
        if (edge == FD_SETSIZE - 1) {
            cr_assert_eq(selector_register(sel, edge, SELECTOR_READ, NULL), 0);
            cr_assert_eq(write(p[1], "x", 1), 1);
            cr_assert_eq(one_event(sel, 1000).fd, edge);
        }
        if (edge != -1)
            close(edge);
    } else {
        cr_assert_eq(rc, 0);
        cr_assert_eq(write(p[1], "x", 1), 1);
        selector_event_t ev = one_event(sel, 1000);
        cr_assert_eq(ev.fd, high);
        cr_assert_eq(ev.events, SELECTOR_READ);
        cr_assert_eq(ev.data, &rl);
    }
    selector_destroy(sel);
    close(high);
    close(p[0]);
    close(p[1]);
}

/* ---- readiness and timeouts -------------------------------------------------- */

BACKEND_TEST(reports_readable_with_its_data, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2], q[2];
    make_pipe(p);
    make_pipe(q);
    int tag_p = 1, tag_q = 2;
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, &tag_p), 0);
    cr_assert_eq(selector_register(sel, q[0], SELECTOR_READ, &tag_q), 0);
    cr_assert_eq(selector_select(sel, 0), 0);

    cr_assert_eq(write(q[1], "hi", 2), 2);
    selector_event_t ev = one_event(sel, 1000);
    cr_assert_eq(ev.fd, q[0]);
    cr_assert_eq(ev.events, SELECTOR_READ);
    cr_assert_eq(ev.data, &tag_q);

    cr_assert_eq(write(p[1], "a", 1), 1);
    cr_assert_eq(selector_select(sel, 1000), 2);
    int seen = 0;
    while (selector_next(sel, &ev))
        seen |= *(int *)ev.data;
    cr_assert_eq(seen, 3);
    selector_destroy(sel);
    for (int i = 0; i < 2; i++) {
        close(p[i]);
        close(q[i]);
    }
}

BACKEND_TEST(reports_writable_and_both, .timeout = 10)
{
    selector_t *sel = make(backend);
    int s[2];
    make_socketpair(s);
    cr_assert_eq(selector_register(sel, s[0], SELECTOR_WRITE, NULL), 0);
    selector_event_t ev = one_event(sel, 0);
    cr_assert_eq(ev.events, SELECTOR_WRITE);

    cr_assert_eq(selector_modify(sel, s[0], SELECTOR_READ | SELECTOR_WRITE, NULL), 0);
    cr_assert_eq(write(s[1], "x", 1), 1);
    ev = one_event(sel, 1000);
    cr_assert_eq(ev.events, SELECTOR_READ | SELECTOR_WRITE);

    cr_assert_eq(selector_modify(sel, s[0], SELECTOR_READ, NULL), 0);
    ev = one_event(sel, 0);
    cr_assert_eq(ev.events, SELECTOR_READ);
    selector_destroy(sel);
    close(s[0]);
    close(s[1]);
}

/* Fill a socket until write() says EAGAIN: it must stop being writable and
 * become writable again once the peer reads. */
BACKEND_TEST(writable_follows_the_buffer, .timeout = 10)
{
    selector_t *sel = make(backend);
    int s[2];
    make_socketpair(s);
    static char buf[65536];
    while (write(s[0], buf, sizeof buf) > 0)
        ;
    cr_assert_eq(errno, EAGAIN);
    cr_assert_eq(selector_register(sel, s[0], SELECTOR_WRITE, NULL), 0);
    cr_assert_eq(selector_select(sel, 50), 0);
    while (read(s[1], buf, sizeof buf) > 0)
        ;
    cr_assert_eq(one_event(sel, 1000).events, SELECTOR_WRITE);
    selector_destroy(sel);
    close(s[0]);
    close(s[1]);
}

BACKEND_TEST(times_out, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);

    double t0 = now_s();
    cr_assert_eq(selector_select(sel, 0), 0);
    cr_assert_eq(selector_select(sel, 200), 0);
    double waited = now_s() - t0;
    cr_assert_geq(waited, 0.19, "returned after %.3f s", waited);
    cr_assert_lt(waited, 5.0);

    /* Nothing registered at all: still a plain sleep. */
    cr_assert_eq(selector_unregister(sel, p[0]), 0);
    cr_assert_eq(selector_select(sel, 20), 0);
    selector_destroy(sel);
    close(p[0]);
    close(p[1]);
}

BACKEND_TEST(is_level_triggered, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    cr_assert_eq(write(p[1], "abc", 3), 3);

    /* Not read: reported again, and again. */
    for (int i = 0; i < 3; i++)
        cr_assert_eq(one_event(sel, 1000).fd, p[0]);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1); /* still two bytes left */
    cr_assert_eq(one_event(sel, 1000).fd, p[0]);
    char rest[2];
    cr_assert_eq(read(p[0], rest, 2), 2);
    cr_assert_eq(selector_select(sel, 0), 0);
    selector_destroy(sel);
    close(p[0]);
    close(p[1]);
}

/* ---- signals ------------------------------------------------------------------ */

static volatile sig_atomic_t alarms;
static int wake_fd = -1;

static void on_alarm(int sig)
{
    (void)sig;
    int saved = errno;
    alarms++;
    if (wake_fd != -1 && alarms == 3)
        (void)!write(wake_fd, "w", 1);
    errno = saved;
}

/* SIGALRM every 50 ms, without SA_RESTART, so the wait gets EINTR. */
static void start_alarms(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGALRM, &sa, NULL), 0);
    struct itimerval it = {{0, 50000}, {0, 50000}};
    cr_assert_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

static void stop_alarms(void)
{
    struct itimerval it = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &it, NULL);
}

BACKEND_TEST(retries_eintr_with_the_remaining_timeout, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    alarms = 0;
    start_alarms();
    double t0 = now_s();
    int n = selector_select(sel, 400);
    double waited = now_s() - t0;
    stop_alarms();
    cr_assert_eq(n, 0, "selector_select: %d (%s)", n, strerror(errno));
    cr_assert_geq(alarms, 2, "only %d signals arrived", (int)alarms);
    /* Not cut short by the signals. Nor restarted from scratch after each
     * one: with a signal every 50 ms such a wait would never end, and the
     * test's .timeout would fail it; the upper bound is only generous. */
    cr_assert_geq(waited, 0.39, "returned after %.3f s", waited);
    cr_assert_lt(waited, 5.0, "took %.3f s: the timeout restarted", waited);
    selector_destroy(sel);
    close(p[0]);
    close(p[1]);
}

BACKEND_TEST(waits_without_limit_until_woken, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    alarms = 0;
    wake_fd = p[1]; /* the third signal writes to the pipe */
    start_alarms();
    int n = selector_select(sel, -1);
    stop_alarms();
    wake_fd = -1;
    cr_assert_eq(n, 1, "selector_select: %d (%s)", n, strerror(errno));
    cr_assert_geq(alarms, 3); /* two EINTRs were retried */
    selector_event_t ev;
    cr_assert_eq(selector_next(sel, &ev), 1);
    cr_assert_eq(ev.fd, p[0]);
    selector_destroy(sel);
    close(p[0]);
    close(p[1]);
}

/* ---- hang-up and errors --------------------------------------------------------- */

BACKEND_TEST(reports_hangup_as_ready, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2], q[2], s[2];
    make_pipe(p);
    make_pipe(q);
    make_socketpair(s);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    cr_assert_eq(selector_register(sel, q[1], SELECTOR_WRITE, NULL), 0);
    cr_assert_eq(selector_register(sel, s[0], SELECTOR_READ, NULL), 0);
    cr_assert_eq(selector_modify(sel, q[1], SELECTOR_READ, NULL), 0);
    cr_assert_eq(selector_select(sel, 0), 0); /* a pipe's write end never reads */
    cr_assert_eq(selector_modify(sel, s[0], SELECTOR_READ | SELECTOR_WRITE, NULL), 0);

    close(p[1]); /* writer gone: the reader sees end of file */
    close(q[0]); /* reader gone: writing would fail with EPIPE */
    close(s[1]); /* peer gone */
    cr_assert_eq(selector_select(sel, 1000), 3);
    selector_event_t ev;
    int seen = 0;
    while (selector_next(sel, &ev)) {
        if (ev.fd == p[0]) {
            cr_assert_eq(ev.events, SELECTOR_READ);
            char c;
            cr_assert_eq(read(p[0], &c, 1), 0);
            seen |= 1;
        } else if (ev.fd == q[1]) {
            cr_assert_eq(ev.events, SELECTOR_READ); /* what it waits for */
            seen |= 2;
        } else {
            cr_assert_eq(ev.fd, s[0]);
            cr_assert_eq(ev.events, SELECTOR_READ | SELECTOR_WRITE);
            seen |= 4;
        }
    }
    cr_assert_eq(seen, 7);
    selector_destroy(sel);
    close(p[0]);
    close(q[1]);
    close(s[0]);
}

BACKEND_TEST(reports_a_reset_connection, .timeout = 10)
{
    selector_t *sel = make(backend);
    int s[2];
    make_socketpair(s);
    cr_assert_eq(write(s[1], "unread", 6), 6);
    cr_assert_eq(selector_register(sel, s[1], SELECTOR_WRITE, NULL), 0);
    cr_assert_eq(one_event(sel, 0).events, SELECTOR_WRITE);
    close(s[0]); /* closed with unread data: s[1] is now broken */
    selector_event_t ev = one_event(sel, 1000);
    cr_assert_eq(ev.events, SELECTOR_WRITE);
    cr_assert_eq(send(s[1], "x", 1, MSG_NOSIGNAL), -1);
    selector_destroy(sel);
    close(s[1]);
}

/* ---- changes while handling events ----------------------------------------------- */

BACKEND_TEST(unregister_during_iteration_drops_pending_events, .timeout = 10)
{
    enum { N = 8 };
    selector_t *sel = make(backend);
    int p[N][2];
    for (int i = 0; i < N; i++) {
        make_pipe(p[i]);
        cr_assert_eq(selector_register(sel, p[i][0], SELECTOR_READ, p[i]), 0);
        cr_assert_eq(write(p[i][1], "x", 1), 1);
    }
    cr_assert_eq(selector_select(sel, 1000), N);

    /* The first handler unregisters every other descriptor, closes them,
     * and opens new ones that may reuse the same numbers: none of the old
     * pending events may be handed out, not even for a reused number. */
    selector_event_t ev;
    cr_assert_eq(selector_next(sel, &ev), 1);
    int first = ev.fd;
    int fresh[N][2];
    for (int i = 0; i < N; i++) {
        fresh[i][0] = fresh[i][1] = -1;
        if (p[i][0] == first)
            continue;
        cr_assert_eq(selector_unregister(sel, p[i][0]), 0);
        close(p[i][0]);
        close(p[i][1]);
        make_pipe(fresh[i]);
        cr_assert_eq(selector_register(sel, fresh[i][0], SELECTOR_READ, NULL), 0);
    }
    cr_assert_eq(selector_next(sel, &ev), 0);
    cr_assert_eq(selector_count(sel), N);

    /* And the survivor is still reported by the next round. */
    cr_assert_eq(one_event(sel, 1000).fd, first);
    selector_destroy(sel);
    for (int i = 0; i < N; i++) {
        if (p[i][0] == first) {
            close(p[i][0]);
            close(p[i][1]);
        } else {
            close(fresh[i][0]);
            close(fresh[i][1]);
        }
    }
}

BACKEND_TEST(modify_during_iteration_masks_pending_events, .timeout = 10)
{
    selector_t *sel = make(backend);
    int a[2], b[2];
    make_socketpair(a);
    make_socketpair(b);
    int tag = 7;
    cr_assert_eq(selector_register(sel, a[0], SELECTOR_READ | SELECTOR_WRITE, NULL), 0);
    cr_assert_eq(selector_register(sel, b[0], SELECTOR_READ | SELECTOR_WRITE, NULL), 0);
    cr_assert_eq(write(a[1], "x", 1), 1);
    cr_assert_eq(write(b[1], "x", 1), 1);
    cr_assert_eq(selector_select(sel, 1000), 2);

    selector_event_t ev;
    cr_assert_eq(selector_next(sel, &ev), 1);
    int other = ev.fd == a[0] ? b[0] : a[0];
    cr_assert_eq(selector_modify(sel, other, SELECTOR_WRITE, &tag), 0);
    cr_assert_eq(selector_next(sel, &ev), 1);
    cr_assert_eq(ev.fd, other);
    cr_assert_eq(ev.events, SELECTOR_WRITE);
    cr_assert_eq(ev.data, &tag);
    cr_assert_eq(selector_next(sel, &ev), 0);
    selector_destroy(sel);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

BACKEND_TEST(a_new_select_forgets_unhandled_events, .timeout = 10)
{
    selector_t *sel = make(backend);
    int p[2];
    make_pipe(p);
    cr_assert_eq(selector_register(sel, p[0], SELECTOR_READ, NULL), 0);
    cr_assert_eq(write(p[1], "x", 1), 1);
    cr_assert_eq(selector_select(sel, 1000), 1);
    char c;
    cr_assert_eq(read(p[0], &c, 1), 1);
    cr_assert_eq(selector_select(sel, 0), 0);
    selector_event_t ev;
    cr_assert_eq(selector_next(sel, &ev), 0);
    selector_destroy(sel);
    close(p[0]);
    close(p[1]);
}

/* Many descriptors, a few ready: exactly those are reported, whatever their
 * numbers and the order they were registered and removed in. */
BACKEND_TEST(finds_the_ready_few_among_many, .timeout = 20)
{
    enum { N = 200 };
    selector_t *sel = make(backend);
    int p[N][2];
    for (int i = 0; i < N; i++) {
        make_pipe(p[i]);
        cr_assert_eq(selector_register(sel, p[i][0], SELECTOR_READ, p[i]), 0);
    }
    for (int i = 0; i < N; i += 3) /* remove a third, from the middle out */
        cr_assert_eq(selector_unregister(sel, p[i][0]), 0);
    int ready[] = {1, 50, 100, 199};
    for (size_t i = 0; i < sizeof ready / sizeof ready[0]; i++)
        cr_assert_eq(write(p[ready[i]][1], "x", 1), 1);
    cr_assert_eq(write(p[0][1], "x", 1), 1); /* unregistered: not reported */
    cr_assert_eq(selector_select(sel, 1000), 4);
    selector_event_t ev;
    int count = 0;
    while (selector_next(sel, &ev)) {
        int *pair = ev.data;
        cr_assert_eq(pair[0], ev.fd);
        cr_assert_neq((pair - p[0]) / 2 % 3, 0);
        count++;
    }
    cr_assert_eq(count, 4);
    selector_destroy(sel);
    for (int i = 0; i < N; i++) {
        close(p[i][0]);
        close(p[i][1]);
    }
}
