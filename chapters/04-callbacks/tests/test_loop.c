/*
 * test_loop.c - the event loop on a fake clock: timers in deadline order,
 * ties, cancel, re-arming, the ready queue across iterations, readers and
 * writers on socketpairs, stop, close, signals.
 *
 * Every timer test runs twice, once per timer structure (suites loop_heap
 * and loop_list): both must behave exactly alike.
 *
 * The fake clock only moves when a test moves it. A test sets it to a
 * timer's deadline before loop_run_once(), so the loop never has a reason
 * to wait: the selector is called with a timeout of 0.
 */
#include "loop.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

typedef struct fake_clock {
    double now;
    int reads;
} fake_clock_t;

static double fake_now(void *arg)
{
    fake_clock_t *clock = arg;
    clock->reads++;
    return clock->now;
}

static loop_t *fake_loop(loop_timers_kind_t kind, fake_clock_t *clock)
{
    loop_options_t opt = {.timers = kind, .clock = fake_now,
                          .clock_arg = clock};
    loop_t *loop = loop_create(&opt);
    cr_assert_not_null(loop);
    return loop;
}

/* A log of which callbacks ran, in order. */
typedef struct log {
    int ids[4096];
    int n;
} log_t;

typedef struct tagged {
    log_t *log;
    int id;
    loop_timer_t timer;
    loop_timer_t *victim; /* for callbacks that cancel another timer */
} tagged_t;

static void record(loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    (void)loop;
    if (t->log->n < 4096)
        t->log->ids[t->log->n++] = t->id;
}

/* Define a test body once and register it for both timer structures. */
#define BOTH(name)                                                           \
    static void name(loop_timers_kind_t kind);                               \
    Test(loop_heap, name, .timeout = 20) { name(LOOP_TIMERS_HEAP); }         \
    Test(loop_list, name, .timeout = 20) { name(LOOP_TIMERS_LIST); }         \
    static void name(loop_timers_kind_t kind)

BOTH(timers_fire_in_deadline_order)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    double when[] = {3, 1, 4, 1.5, 9, 2.6, 5, 3.5};
    tagged_t t[8];

    for (int i = 0; i < 8; i++) {
        t[i] = (tagged_t){.log = &log, .id = i};
        loop_timer_init(&t[i].timer);
        cr_assert_eq(loop_call_at(loop, &t[i].timer, when[i], record, &t[i]),
                     0);
    }
    cr_assert_eq(loop_timer_count(loop), 8);
    clock.now = 10;
    cr_assert_eq(loop_run_once(loop), 0);
    int want[] = {1, 3, 5, 0, 7, 2, 6, 4};
    cr_assert_eq(log.n, 8);
    for (int i = 0; i < 8; i++)
        cr_assert_eq(log.ids[i], want[i], "position %d: %d", i, log.ids[i]);
    cr_assert_eq(loop_timer_count(loop), 0);
    loop_destroy(loop);
}

BOTH(equal_deadlines_fire_in_the_order_they_were_armed)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t t[50];

    for (int i = 0; i < 50; i++) {
        t[i] = (tagged_t){.log = &log, .id = i};
        loop_timer_init(&t[i].timer);
        /* interleave a few earlier ones so the structure must reorder */
        loop_call_at(loop, &t[i].timer, i % 5 == 4 ? 0.5 : 1.0, record, &t[i]);
    }
    clock.now = 1.0;
    loop_run_once(loop);
    cr_assert_eq(log.n, 50);
    int k = 0;
    for (int i = 4; i < 50; i += 5)
        cr_assert_eq(log.ids[k++], i);
    for (int i = 0; i < 50; i++)
        if (i % 5 != 4)
            cr_assert_eq(log.ids[k++], i, "tie broken out of order");
    loop_destroy(loop);
}

BOTH(a_timer_does_not_fire_before_its_deadline)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t t = {.log = &log, .id = 1};

    loop_timer_init(&t.timer);
    loop_call_later(loop, &t.timer, 0.002, record, &t);
    clock.now = 0.001; /* the loop waits ~1 ms of real time, finds it early */
    loop_run_once(loop);
    cr_assert_eq(log.n, 0);
    cr_assert(loop_timer_armed(&t.timer));
    clock.now = 0.002;
    loop_run_once(loop);
    cr_assert_eq(log.n, 1);
    cr_assert_not(loop_timer_armed(&t.timer));
    loop_destroy(loop);
}

BOTH(call_later_counts_from_loop_time_and_negative_delays_as_zero)
{
    fake_clock_t clock = {.now = 100};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t a = {.log = &log, .id = 1}, b = {.log = &log, .id = 2};

    cr_assert_eq(loop_time(loop), 100);
    loop_timer_init(&a.timer);
    loop_timer_init(&b.timer);
    loop_call_later(loop, &a.timer, 5, record, &a);
    loop_call_later(loop, &b.timer, -3, record, &b);
    cr_assert_eq(a.timer.when_s, 105);
    cr_assert_eq(b.timer.when_s, 100);
    loop_run_once(loop);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ids[0], 2);
    loop_destroy(loop);
}

BOTH(a_cancelled_timer_never_fires_and_cancel_is_idempotent)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t t[3];

    for (int i = 0; i < 3; i++) {
        t[i] = (tagged_t){.log = &log, .id = i};
        loop_timer_init(&t[i].timer);
    }
    loop_cancel(loop, &t[2].timer); /* never armed: harmless */
    loop_call_at(loop, &t[0].timer, 1, record, &t[0]);
    loop_call_at(loop, &t[1].timer, 2, record, &t[1]);
    loop_cancel(loop, &t[0].timer);
    loop_cancel(loop, &t[0].timer); /* twice: harmless */
    cr_assert_not(loop_timer_armed(&t[0].timer));
    cr_assert_eq(loop_timer_count(loop), 1);
    clock.now = 5;
    loop_run_once(loop);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ids[0], 1);
    loop_cancel(loop, &t[1].timer); /* after it fired: harmless */
    cr_assert_eq(loop_timer_count(loop), 0);
    loop_destroy(loop);
}

static void cancel_victim(loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    record(loop, arg);
    loop_cancel(loop, t->victim);
    free(t->victim); /* cancelled, so its storage may go at once */
}

BOTH(a_due_timer_cancelled_by_an_earlier_callback_does_not_run)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t killer = {.log = &log, .id = 1};
    tagged_t victim_tag = {.log = &log, .id = 2};
    loop_timer_t *victim = malloc(sizeof *victim);

    loop_timer_init(&killer.timer);
    loop_timer_init(victim);
    killer.victim = victim;
    loop_call_at(loop, &killer.timer, 1.0, cancel_victim, &killer);
    loop_call_at(loop, victim, 1.0, record, &victim_tag);
    clock.now = 1.0; /* both due in the same iteration, killer first */
    loop_run_once(loop);
    cr_assert_eq(log.n, 1);
    cr_assert_eq(log.ids[0], 1);
    cr_assert_eq(loop_timer_count(loop), 0);
    loop_call_soon(loop, record, &killer); /* so the loop does not block */
    loop_run_once(loop);
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ids[1], 1);
    loop_destroy(loop);
}

static void check_unlinked(loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    cr_assert_not(loop_timer_armed(&t->timer), "armed inside its callback");
    cr_assert_eq(loop_timer_count(loop), 0);
    record(loop, arg);
}

BOTH(a_timer_is_unlinked_before_its_callback_runs)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t t = {.log = &log, .id = 7};

    loop_timer_init(&t.timer);
    loop_call_at(loop, &t.timer, 0, check_unlinked, &t);
    cr_assert(loop_timer_armed(&t.timer));
    loop_run_once(loop);
    cr_assert_eq(log.n, 1);
    loop_destroy(loop);
}

static void rearm_now(loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    record(loop, arg);
    loop_call_later(loop, &t->timer, 0, rearm_now, t);
}

BOTH(a_timer_rearmed_from_its_callback_fires_once_per_iteration)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t t = {.log = &log, .id = 1};

    loop_timer_init(&t.timer);
    loop_call_later(loop, &t.timer, 0, rearm_now, &t);
    for (int i = 1; i <= 5; i++) {
        loop_run_once(loop);
        cr_assert_eq(log.n, i, "iteration %d ran it %d times", i, log.n);
        cr_assert(loop_timer_armed(&t.timer));
    }
    loop_destroy(loop);
}

static void rearm_victim_later(loop_t *loop, void *arg)
{
    tagged_t *t = arg;
    record(loop, arg);
    loop_call_later(loop, t->victim, 10, record, t->victim + 1);
}

BOTH(rearming_a_due_timer_moves_it_to_its_new_deadline)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t a = {.log = &log, .id = 1};
    struct { loop_timer_t timer; tagged_t tag; } b = {
        .tag = {.log = &log, .id = 2}};

    loop_timer_init(&a.timer);
    loop_timer_init(&b.timer);
    a.victim = &b.timer;
    /* rearm_victim_later finds b's tag right after the timer */
    cr_assert_eq((void *)(&b.timer + 1), (void *)&b.tag);
    loop_call_at(loop, &a.timer, 1, rearm_victim_later, &a);
    loop_call_at(loop, &b.timer, 1, record, &b.tag);
    clock.now = 1;
    loop_run_once(loop);
    cr_assert_eq(log.n, 1, "the re-armed timer still ran at its old time");
    cr_assert_eq(loop_timer_count(loop), 1);
    cr_assert_eq(b.timer.when_s, 11);
    clock.now = 11;
    loop_run_once(loop);
    cr_assert_eq(log.n, 2);
    cr_assert_eq(log.ids[1], 2);
    loop_destroy(loop);
}

/* A model check: many timers with random deadlines, a third of them
 * cancelled, must come out sorted by (deadline, arming order), none of the
 * cancelled ones, in however many steps the clock takes. */
BOTH(random_timers_and_cancels_match_a_sorted_model)
{
    enum { N = 3000 };
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    static log_t log;
    static tagged_t t[N];
    unsigned seed = 12345;

    log.n = 0;
    for (int i = 0; i < N; i++) {
        t[i] = (tagged_t){.log = &log, .id = i};
        loop_timer_init(&t[i].timer);
        seed = seed * 1103515245u + 12345u;
        double when = (double)((seed >> 8) % 500); /* many ties */
        loop_call_at(loop, &t[i].timer, when, record, &t[i]);
    }
    int cancelled = 0;
    for (int i = 0; i < N; i += 3) {
        loop_cancel(loop, &t[i].timer);
        cancelled++;
    }
    cr_assert_eq(loop_timer_count(loop), (size_t)(N - cancelled));
    for (clock.now = 0; loop_timer_count(loop) > 0; clock.now += 7)
        loop_run_once(loop);
    cr_assert_eq(log.n, N - cancelled);
    for (int k = 0; k < log.n; k++) {
        cr_assert_neq(log.ids[k] % 3, 0, "cancelled timer %d fired",
                      log.ids[k]);
        if (k > 0) {
            loop_timer_t *a = &t[log.ids[k - 1]].timer;
            loop_timer_t *b = &t[log.ids[k]].timer;
            cr_assert(a->when_s < b->when_s ||
                          (a->when_s == b->when_s && a->seq < b->seq),
                      "out of order at %d", k);
        }
    }
    loop_destroy(loop);
}

BOTH(destroy_disarms_armed_and_queued_timers)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(kind, &clock);
    log_t log = {0};
    tagged_t a = {.log = &log, .id = 1};

    loop_timer_init(&a.timer);
    loop_call_at(loop, &a.timer, 5, record, &a);
    cr_assert_eq(loop_call_soon(loop, record, &a), 0);
    loop_destroy(loop); /* the queued call_soon never runs */
    cr_assert_not(loop_timer_armed(&a.timer));
    cr_assert_eq(log.n, 0);
}

/* ---- the ready queue and the clock -------------------------------------- */

typedef struct chain {
    log_t log;
    loop_t *loop;
    int left;
} chain_t;

static void soon_c(loop_t *loop, void *arg)
{
    chain_t *c = arg;
    (void)loop;
    c->log.ids[c->log.n++] = 'C';
}

static void soon_a(loop_t *loop, void *arg)
{
    chain_t *c = arg;
    c->log.ids[c->log.n++] = 'A';
    loop_call_soon(loop, soon_c, c); /* waits for the next iteration */
}

static void soon_b(loop_t *loop, void *arg)
{
    chain_t *c = arg;
    (void)loop;
    c->log.ids[c->log.n++] = 'B';
}

Test(loop, call_soon_runs_in_order_and_what_it_queues_waits, .timeout = 10)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(LOOP_TIMERS_HEAP, &clock);
    chain_t c = {0};

    loop_call_soon(loop, soon_a, &c);
    loop_call_soon(loop, soon_b, &c);
    loop_run_once(loop);
    cr_assert_eq(c.log.n, 2);
    cr_assert_eq(c.log.ids[0], 'A');
    cr_assert_eq(c.log.ids[1], 'B');
    loop_run_once(loop);
    cr_assert_eq(c.log.n, 3);
    cr_assert_eq(c.log.ids[2], 'C');
    loop_destroy(loop);
}

static void requeue_forever(loop_t *loop, void *arg)
{
    int *runs = arg;
    (*runs)++;
    loop_call_soon(loop, requeue_forever, arg);
}

Test(loop, a_callback_that_requeues_itself_does_not_starve_timers,
     .timeout = 10)
{
    fake_clock_t clock = {0};
    loop_t *loop = fake_loop(LOOP_TIMERS_HEAP, &clock);
    log_t log = {0};
    tagged_t t = {.log = &log, .id = 1};
    int runs = 0;

    loop_call_soon(loop, requeue_forever, &runs);
    loop_timer_init(&t.timer);
    loop_call_at(loop, &t.timer, 1, record, &t);
    clock.now = 1;
    loop_run_once(loop);
    cr_assert_eq(runs, 1);
    cr_assert_eq(log.n, 1);
    loop_destroy(loop);
}

static void move_clock(loop_t *loop, void *arg)
{
    fake_clock_t *clock = arg;
    (void)loop;
    clock->now += 5; /* time passes inside a callback */
}

static void read_time(loop_t *loop, void *arg)
{
    *(double *)arg = loop_time(loop);
}

Test(loop, loop_time_is_read_once_per_iteration, .timeout = 10)
{
    fake_clock_t clock = {.now = 1};
    loop_t *loop = fake_loop(LOOP_TIMERS_HEAP, &clock);
    double seen = 0;

    loop_call_soon(loop, move_clock, &clock);
    loop_call_soon(loop, read_time, &seen);
    clock.reads = 0;
    loop_run_once(loop);
    cr_assert_eq(seen, 1, "loop_time() changed within one iteration");
    cr_assert_eq(clock.reads, 1);
    cr_assert_eq(loop_time(loop), 1);
    loop_call_soon(loop, read_time, &seen);
    loop_run_once(loop);
    cr_assert_eq(seen, 6);
    loop_destroy(loop);
}

Test(loop, the_wait_lasts_until_the_earliest_timer, .timeout = 10)
{
    loop_t *loop = loop_create(NULL); /* the real clock */
    log_t log = {0};
    tagged_t late = {.log = &log, .id = 2}, early = {.log = &log, .id = 1};
    struct timespec t0, t1;

    loop_timer_init(&late.timer);
    loop_timer_init(&early.timer);
    loop_call_later(loop, &late.timer, 30, record, &late);
    loop_call_later(loop, &early.timer, 0.05, record, &early);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    loop_run_once(loop); /* nothing else to do: one wait, one timer */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double waited = (double)(t1.tv_sec - t0.tv_sec) +
                    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_eq(log.n, 1, "one iteration should wait for the timer");
    cr_assert_eq(log.ids[0], 1);
    cr_assert_geq(waited, 0.045);
    cr_assert(loop_timer_armed(&late.timer));
    loop_destroy(loop);
}

static void stop_after(loop_t *loop, void *arg)
{
    chain_t *c = arg;
    c->log.n++;
    if (--c->left > 0)
        loop_call_soon(loop, stop_after, c);
    else
        loop_stop(loop);
}

Test(loop, stop_makes_run_forever_return_after_the_iteration, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    chain_t c = {.left = 5};

    loop_call_soon(loop, stop_after, &c);
    cr_assert_eq(loop_run_forever(loop), 0);
    cr_assert_eq(c.log.n, 5);
    /* stop is not sticky: the loop can run again */
    c.left = 2;
    loop_call_soon(loop, stop_after, &c);
    cr_assert_eq(loop_run_forever(loop), 0);
    cr_assert_eq(c.log.n, 7);
    loop_destroy(loop);
}

Test(loop, stop_before_run_forever_still_runs_one_iteration, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    chain_t c = {0};

    loop_call_soon(loop, soon_b, &c);
    loop_stop(loop);
    cr_assert_eq(loop_run_forever(loop), 0);
    cr_assert_eq(c.log.n, 1);
    loop_destroy(loop);
}

/* A callback that runs its own loop again is refused (EBUSY); before
 * this, the nested call ran the callbacks the outer one had counted and
 * the outer one then popped from an empty queue. */
typedef struct nested {
    int calls, once_rc, forever_rc, once_errno, forever_errno, nop_calls;
} nested_t;

static void run_nested(loop_t *loop, void *arg)
{
    nested_t *n = arg;
    if (n->calls++ > 0)
        return;
    errno = 0;
    n->once_rc = loop_run_once(loop);
    n->once_errno = errno;
    errno = 0;
    n->forever_rc = loop_run_forever(loop);
    n->forever_errno = errno;
}

static void count_nop(loop_t *loop, void *arg)
{
    (void)loop;
    ((nested_t *)arg)->nop_calls++;
}

Test(loop, running_the_loop_from_its_own_callback_is_refused, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    nested_t n = {0};

    loop_call_soon(loop, run_nested, &n);
    loop_call_soon(loop, count_nop, &n);
    cr_assert_eq(loop_run_once(loop), 0);
    cr_assert_eq(n.calls, 1);
    cr_assert_eq(n.once_rc, -1);
    cr_assert_eq(n.once_errno, EBUSY);
    cr_assert_eq(n.forever_rc, -1);
    cr_assert_eq(n.forever_errno, EBUSY);
    cr_assert_eq(n.nop_calls, 1);
    /* and the same from inside run_forever */
    n = (nested_t){0};
    loop_call_soon(loop, run_nested, &n);
    loop_call_soon(loop, count_nop, &n);
    loop_stop(loop);
    cr_assert_eq(loop_run_forever(loop), 0);
    cr_assert_eq(n.once_errno, EBUSY);
    cr_assert_eq(n.forever_errno, EBUSY);
    cr_assert_eq(n.nop_calls, 1);
    /* once it has returned, the loop runs again as usual */
    loop_call_soon(loop, count_nop, &n);
    cr_assert_eq(loop_run_once(loop), 0);
    cr_assert_eq(n.nop_calls, 2);
    loop_destroy(loop);
}

/* ---- descriptors ---------------------------------------------------------- */

typedef struct io {
    int fd;
    int calls;
    char buf[64];
    ssize_t got;
    int other_fd; /* for a callback that removes another fd's reader */
} io_t;

static void on_readable(loop_t *loop, void *arg)
{
    io_t *io = arg;
    (void)loop;
    io->calls++;
    io->got = read(io->fd, io->buf, sizeof io->buf);
}

static void on_writable(loop_t *loop, void *arg)
{
    io_t *io = arg;
    io->calls++;
    loop_remove_writer(loop, io->fd); /* one-shot */
}

static void pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

Test(loop, a_reader_runs_when_its_fd_is_readable, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    io_t io = {0};

    pair(sv);
    io.fd = sv[0];
    cr_assert_eq(loop_add_reader(loop, sv[0], on_readable, &io), 0);
    cr_assert_eq(write(sv[1], "ping", 4), 4);
    loop_run_once(loop);
    cr_assert_eq(io.calls, 1);
    cr_assert_eq(io.got, 4);
    cr_assert_eq(memcmp(io.buf, "ping", 4), 0);
    cr_assert_eq(loop_remove_reader(loop, sv[0]), 1);
    cr_assert_eq(loop_remove_reader(loop, sv[0]), 0);
    cr_assert_eq(write(sv[1], "more", 4), 4);
    loop_call_soon(loop, soon_c, &(chain_t){0}); /* so the loop won't block */
    loop_run_once(loop);
    cr_assert_eq(io.calls, 1, "a removed reader ran");
    loop_destroy(loop);
    close(sv[0]);
    close(sv[1]);
}

Test(loop, a_writer_runs_when_its_fd_is_writable_and_shares_the_fd,
     .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    io_t r = {0}, w = {0};

    pair(sv);
    r.fd = w.fd = sv[0];
    cr_assert_eq(loop_add_reader(loop, sv[0], on_readable, &r), 0);
    cr_assert_eq(loop_add_writer(loop, sv[0], on_writable, &w), 0);
    loop_run_once(loop); /* writable at once; nothing to read */
    cr_assert_eq(w.calls, 1);
    cr_assert_eq(r.calls, 0);
    cr_assert_eq(write(sv[1], "x", 1), 1);
    loop_run_once(loop); /* the reader survived the writer's removal */
    cr_assert_eq(r.calls, 1);
    cr_assert_eq(w.calls, 1);
    loop_destroy(loop);
    close(sv[0]);
    close(sv[1]);
}

static void remove_other(loop_t *loop, void *arg)
{
    io_t *io = arg;
    on_readable(loop, arg);
    loop_remove_reader(loop, io->other_fd);
}

Test(loop, a_reader_removed_earlier_in_the_iteration_is_not_run,
     .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int a[2], b[2];
    io_t ia = {0}, ib = {0};

    pair(a);
    pair(b);
    ia.fd = a[0];
    ib.fd = b[0];
    ia.other_fd = b[0];
    ib.other_fd = a[0];
    loop_add_reader(loop, a[0], remove_other, &ia);
    loop_add_reader(loop, b[0], remove_other, &ib);
    cr_assert_eq(write(a[1], "1", 1), 1);
    cr_assert_eq(write(b[1], "2", 1), 1);
    loop_run_once(loop); /* both ready; whichever runs first removes the other */
    cr_assert_eq(ia.calls + ib.calls, 1);
    loop_destroy(loop);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
}

Test(loop, add_reader_refuses_a_bad_descriptor, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    io_t io = {0};

    cr_assert_eq(loop_add_reader(loop, -1, on_readable, &io), -1);
    cr_assert_eq(errno, EBADF);
    cr_assert_eq(loop_add_reader(loop, 1000, on_readable, &io), -1);
    loop_destroy(loop);
}

/* ---- signals -------------------------------------------------------------- */

static void on_sig(loop_t *loop, void *arg)
{
    (*(int *)arg)++;
    loop_stop(loop);
}

Test(loop, a_signal_becomes_a_callback_on_the_loop, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int got = 0;

    cr_assert_eq(loop_add_signal_handler(loop, SIGUSR1, on_sig, &got), 0);
    raise(SIGUSR1); /* the C handler only writes to the self-pipe */
    cr_assert_eq(got, 0);
    loop_run_forever(loop);
    cr_assert_eq(got, 1);
    loop_destroy(loop);
}

Test(loop, a_signal_is_pending_from_its_arrival_to_its_callback,
     .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int got = 0;

    cr_assert_eq(loop_add_signal_handler(loop, SIGUSR1, on_sig, &got), 0);
    cr_assert_eq(loop_signal_pending(loop, SIGUSR1), 0);
    raise(SIGUSR1);
    cr_assert_eq(loop_signal_pending(loop, SIGUSR1), 1);
    cr_assert_eq(loop_signal_pending(loop, SIGUSR2), 0); /* not handled */
    loop_run_forever(loop);
    cr_assert_eq(got, 1);
    cr_assert_eq(loop_signal_pending(loop, SIGUSR1), 0);
    cr_assert_eq(loop_signal_pending(loop, 0), 0);
    cr_assert_eq(loop_signal_pending(loop, 999), 0);
    loop_destroy(loop);
}

Test(loop, a_signal_wakes_a_loop_that_waits_without_timeout, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int got = 0;
    struct itimerval it = {.it_value = {.tv_usec = 50000}};

    cr_assert_eq(loop_add_signal_handler(loop, SIGALRM, on_sig, &got), 0);
    setitimer(ITIMER_REAL, &it, NULL);
    cr_assert_eq(loop_run_forever(loop), 0); /* no timers, no fds of ours */
    cr_assert_eq(got, 1);
    loop_destroy(loop);
}

Test(loop, removing_a_signal_handler_restores_the_old_disposition,
     .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    struct sigaction sa;
    int got = 0;

    signal(SIGUSR2, SIG_IGN);
    cr_assert_eq(loop_add_signal_handler(loop, SIGUSR2, on_sig, &got), 0);
    sigaction(SIGUSR2, NULL, &sa);
    cr_assert_neq(sa.sa_handler, SIG_IGN);
    cr_assert_eq(loop_remove_signal_handler(loop, SIGUSR2), 1);
    cr_assert_eq(loop_remove_signal_handler(loop, SIGUSR2), 0);
    sigaction(SIGUSR2, NULL, &sa);
    cr_assert_eq(sa.sa_handler, SIG_IGN);
    /* loop_destroy() restores the rest */
    cr_assert_eq(loop_add_signal_handler(loop, SIGUSR2, on_sig, &got), 0);
    loop_destroy(loop);
    sigaction(SIGUSR2, NULL, &sa);
    cr_assert_eq(sa.sa_handler, SIG_IGN);
}

Test(loop, bad_signal_numbers_are_refused, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int got = 0;

    cr_assert_eq(loop_add_signal_handler(loop, 0, on_sig, &got), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(loop_add_signal_handler(loop, 999, on_sig, &got), -1);
    cr_assert_eq(errno, EINVAL);
    cr_assert_eq(loop_add_signal_handler(loop, SIGKILL, on_sig, &got), -1);
    cr_assert_eq(errno, EINVAL);
    loop_destroy(loop);
}

static void stop_on_timeout(loop_t *loop, void *arg)
{
    (void)arg;
    loop_stop(loop);
}

/* A loop whose first loop_add_signal_handler() failed (after opening its
 * self-pipe) must not, when destroyed, cut the wake-up of the loop that
 * took the signals since. */
Test(loop, destroying_a_failed_signal_loop_keeps_the_other_ones_wake_up,
     .timeout = 20)
{
    loop_t *first = loop_create(NULL);
    loop_t *second = loop_create(NULL);
    loop_timer_t guard;
    int got = 0;

    cr_assert_eq(loop_add_signal_handler(first, SIGKILL, on_sig, &got), -1);
    cr_assert_eq(loop_add_signal_handler(second, SIGUSR1, on_sig, &got), 0);
    loop_destroy(first);
    loop_timer_init(&guard); /* without the wake-up, stop after 5 s */
    loop_call_later(second, &guard, 5.0, stop_on_timeout, NULL);
    raise(SIGUSR1);
    cr_assert_eq(loop_run_forever(second), 0);
    cr_assert_eq(got, 1, "the signal did not wake the second loop");
    cr_assert(loop_timer_armed(&guard));
    loop_cancel(second, &guard);
    loop_destroy(second);
}

Test(loop, trace_mode_prints_each_iteration, .timeout = 10)
{
    char *text = NULL;
    size_t len = 0;
    FILE *trace = open_memstream(&text, &len);
    fake_clock_t clock = {.now = 2};
    loop_options_t opt = {.clock = fake_now, .clock_arg = &clock,
                          .trace = trace};
    loop_t *loop = loop_create(&opt);
    chain_t c = {0};

    loop_call_soon(loop, soon_b, &c);
    loop_run_once(loop);
    loop_destroy(loop);
    fclose(trace);
    cr_assert(strstr(text, "[loop #1 t=2.000]") != NULL, "trace: %s", text);
    cr_assert(strstr(text, "run 1: 1 soon, 0 timer") != NULL, "trace: %s",
              text);
    free(text);
}
