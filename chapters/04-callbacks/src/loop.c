/*
 * loop.c - chapter 04: the callback event loop.
 *
 * Chapter 03's hello and echo-server each had their own `while (1)` around
 * selector_select(), with the program's logic spread over the cases of one
 * big switch. This file turns that loop inside out: it owns the `while`, and
 * the program only says what should happen when (call_soon), at what time
 * (call_later), or on which descriptor (add_reader / add_writer). One
 * iteration is four named phases, in loop_run_once():
 *
 *   wait (selector) -> read the clock -> collect due timers -> run callbacks
 *
 * Everything that runs is queued first and run in phase 4, in order. That
 * is what makes the loop's promises cheap to keep: a callback queued by a
 * callback waits for the next iteration (no starvation), and a callback
 * that is cancelled while queued (a timer cancelled, a reader removed by an
 * earlier callback of the same iteration) is skipped, never run on freed
 * memory.
 */
#include "loop.h"

#include "ready.h"
#include "timers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Signal numbers the loop accepts: 1 .. SIGNALS_MAX - 1 (Linux has 64). */
#define SIGNALS_MAX 65

/* A timer waiting in the ready queue keeps the queue position in its
 * @c index with this bit set, so loop_cancel() can find and void it there.
 * (SIZE_MAX, "not armed", has the bit set too and is checked first.) */
#define QUEUED_BIT ((size_t)1 << (sizeof(size_t) * CHAR_BIT - 1))

/* One direction of one descriptor. @c gen changes on every add and remove,
 * so an event queued for an older registration is recognised and dropped. */
struct fd_watch {
    loop_cb *cb; /* NULL when nobody watches */
    void *arg;
    unsigned gen;
};

struct fd_entry {
    struct fd_watch reader, writer;
    unsigned events; /* what the selector has for this fd: SELECTOR_* */
};

struct signal_entry {
    loop_cb *cb; /* NULL when the loop does not handle this signal */
    void *arg;
    struct sigaction old; /* restored by loop_remove_signal_handler() */
};

struct loop {
    selector_t *sel;
    timers_t timers;       /* armed, not yet due */
    ready_queue_t ready;   /* what phase 4 runs */
    size_t queued_timers;  /* due timers waiting in @c ready */
    struct fd_entry *fds;  /* indexed by descriptor; owned */
    size_t nfds;
    loop_clock_cb *clock;
    void *clock_arg;
    double now;            /* the clock, read once per iteration */
    uint64_t next_seq;     /* for the next timer armed */
    int stopping;
    int running;           /* inside loop_run_once() or loop_run_forever() */
    FILE *trace;           /* NULL: no trace */
    uint64_t iteration;
    int wake[2];           /* the self-pipe; -1 until a signal handler */
    struct signal_entry signals[SIGNALS_MAX];
};

/* What the C signal handler touches, and nothing else: the flags and the
 * write end of the self-pipe of the one loop that handles signals. */
static volatile sig_atomic_t signal_pending[SIGNALS_MAX];
static volatile sig_atomic_t signal_wake_fd = -1;
static loop_t *signal_loop;

static double monotonic_clock(void *arg)
{
    struct timespec ts;
    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double read_clock(const loop_t *loop)
{
    return loop->clock(loop->clock_arg);
}

loop_t *loop_create(const loop_options_t *options)
{
    loop_options_t defaults = {0};
    const loop_options_t *opt = options ? options : &defaults;
    loop_t *loop = calloc(1, sizeof *loop);

    if (loop == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    loop->sel = selector_create(opt->backend);
    if (loop->sel == NULL) {
        free(loop);
        return NULL;
    }
    timers_init(&loop->timers, opt->timers);
    loop->clock = opt->clock ? opt->clock : monotonic_clock;
    loop->clock_arg = opt->clock_arg;
    loop->trace = opt->trace;
    if (loop->trace == NULL && getenv("LOOP_TRACE") != NULL)
        loop->trace = stderr;
    loop->wake[0] = loop->wake[1] = -1;
    loop->now = read_clock(loop);
    return loop;
}

selector_backend_t loop_backend(const loop_t *loop)
{
    return selector_backend(loop->sel);
}

double loop_time(const loop_t *loop)
{
    return loop->now;
}

void loop_stop(loop_t *loop)
{
    loop->stopping = 1;
}

/* ---- the ready queue ------------------------------------------------------ */

/* [call-soon] */
int loop_call_soon(loop_t *loop, loop_cb *cb, void *arg)
{
    ready_item_t item = {.kind = READY_CALL, .cb = cb, .arg = arg};

    return ready_push(&loop->ready, &item, NULL);
}
/* [call-soon] */

/* ---- timers --------------------------------------------------------------- */

void loop_timer_init(loop_timer_t *timer)
{
    memset(timer, 0, sizeof *timer);
    timer->index = SIZE_MAX;
}

int loop_timer_armed(const loop_timer_t *timer)
{
    return timer->index != SIZE_MAX;
}

size_t loop_timer_count(const loop_t *loop)
{
    return loop->timers.count + loop->queued_timers;
}

/* [call-at] */
int loop_call_at(loop_t *loop, loop_timer_t *timer, double when_s,
                 loop_cb *cb, void *arg)
{
    loop_cancel(loop, timer); /* re-arming moves it, never duplicates it */
    if (isnan(when_s))
        when_s = loop->now; /* NaN would break the order: make it due now */
    timer->when_s = when_s;
    timer->seq = loop->next_seq++;
    timer->cb = cb;
    timer->arg = arg;
    return timers_add(&loop->timers, timer);
}
/* [call-at] */

int loop_call_later(loop_t *loop, loop_timer_t *timer, double delay_s,
                    loop_cb *cb, void *arg)
{
    if (!(delay_s > 0)) /* negative, or NaN */
        delay_s = 0;
    return loop_call_at(loop, timer, loop->now + delay_s, cb, arg);
}

/* [cancel] */
void loop_cancel(loop_t *loop, loop_timer_t *timer)
{
    if (timer->index == SIZE_MAX)
        return; /* never armed, fired, or cancelled already */
    if (timer->index & QUEUED_BIT) {
        /* Due and queued, not run yet: void its place in the queue. */
        ready_at(&loop->ready, timer->index & ~QUEUED_BIT)->kind =
            READY_CANCELLED;
        loop->queued_timers--;
        timer->index = SIZE_MAX;
    } else {
        timers_remove(&loop->timers, timer);
    }
}
/* [cancel] */

/* ---- descriptors ---------------------------------------------------------- */

static int grow_fds(loop_t *loop, int fd)
{
    if ((size_t)fd < loop->nfds)
        return 0;
    size_t n = loop->nfds ? loop->nfds : 64;
    while (n <= (size_t)fd)
        n *= 2;
    struct fd_entry *fds = realloc(loop->fds, n * sizeof *fds);
    if (fds == NULL) {
        errno = ENOMEM;
        return -1;
    }
    memset(fds + loop->nfds, 0, (n - loop->nfds) * sizeof *fds);
    loop->fds = fds;
    loop->nfds = n;
    return 0;
}

static struct fd_watch *watch_of(struct fd_entry *e, unsigned event)
{
    return event == SELECTOR_READ ? &e->reader : &e->writer;
}

/* [add-reader] */
/* Reader and writer of one descriptor share one selector registration:
 * the first watcher registers it, later changes modify its events. */
static int watch(loop_t *loop, int fd, unsigned event, loop_cb *cb,
                 void *arg)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (grow_fds(loop, fd) < 0)
        return -1;
    struct fd_entry *e = &loop->fds[fd];
    unsigned events = e->events | event;
    int rc = e->events ? selector_modify(loop->sel, fd, events, NULL)
                       : selector_register(loop->sel, fd, events, NULL);
    if (rc < 0)
        return -1;
    e->events = events;
    struct fd_watch *w = watch_of(e, event);
    w->cb = cb;
    w->arg = arg;
    w->gen++; /* an event queued for the one it replaces is dropped */
    return 0;
}
/* [add-reader] */

static int unwatch(loop_t *loop, int fd, unsigned event)
{
    if (fd < 0 || (size_t)fd >= loop->nfds ||
        !(loop->fds[fd].events & event))
        return 0;
    struct fd_entry *e = &loop->fds[fd];
    e->events &= ~event;
    if (e->events)
        selector_modify(loop->sel, fd, e->events, NULL);
    else
        selector_unregister(loop->sel, fd);
    struct fd_watch *w = watch_of(e, event);
    w->cb = NULL;
    w->arg = NULL;
    w->gen++;
    return 1;
}

int loop_add_reader(loop_t *loop, int fd, loop_cb *cb, void *arg)
{
    return watch(loop, fd, SELECTOR_READ, cb, arg);
}

int loop_remove_reader(loop_t *loop, int fd)
{
    return unwatch(loop, fd, SELECTOR_READ);
}

int loop_add_writer(loop_t *loop, int fd, loop_cb *cb, void *arg)
{
    return watch(loop, fd, SELECTOR_WRITE, cb, arg);
}

int loop_remove_writer(loop_t *loop, int fd)
{
    return unwatch(loop, fd, SELECTOR_WRITE);
}

/* ---- signals -------------------------------------------------------------- */

/* [signal-handler] */
/* The whole C signal handler: note the signal, wake the loop. Both are
 * async-signal-safe; everything else happens later, in on_wake(), as an
 * ordinary callback. A full pipe is fine: a wake-up is pending anyway. */
static void on_signal(int signo)
{
    int saved_errno = errno;
    signal_pending[signo] = 1;
    if (signal_wake_fd >= 0) {
        ssize_t n = write(signal_wake_fd, "", 1);
        (void)n;
    }
    errno = saved_errno;
}

/* The self-pipe's reader, on the loop: empty the pipe, then run the
 * callbacks of the signals that arrived. */
static void on_wake(loop_t *loop, void *arg)
{
    char buf[64];
    (void)arg;
    while (read(loop->wake[0], buf, sizeof buf) > 0)
        ;
    for (int signo = 1; signo < SIGNALS_MAX; signo++) {
        if (!signal_pending[signo])
            continue;
        signal_pending[signo] = 0;
        struct signal_entry *s = &loop->signals[signo];
        if (s->cb)
            s->cb(loop, s->arg);
    }
}
/* [signal-handler] */

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    return fcntl(fd, F_SETFD, FD_CLOEXEC);
}

static int open_self_pipe(loop_t *loop)
{
    if (loop->wake[0] >= 0)
        return 0;
    if (pipe(loop->wake) < 0)
        return -1;
    if (set_flags(loop->wake[0]) < 0 || set_flags(loop->wake[1]) < 0 ||
        loop_add_reader(loop, loop->wake[0], on_wake, NULL) < 0) {
        int err = errno;
        close(loop->wake[0]);
        close(loop->wake[1]);
        loop->wake[0] = loop->wake[1] = -1;
        errno = err;
        return -1;
    }
    signal_wake_fd = loop->wake[1];
    return 0;
}

int loop_add_signal_handler(loop_t *loop, int signo, loop_cb *cb, void *arg)
{
    if (signo <= 0 || signo >= SIGNALS_MAX) {
        errno = EINVAL;
        return -1;
    }
    if (signal_loop != NULL && signal_loop != loop) {
        errno = EBUSY; /* another loop of this process handles signals */
        return -1;
    }
    if (open_self_pipe(loop) < 0)
        return -1;
    struct signal_entry *s = &loop->signals[signo];
    if (s->cb == NULL) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_signal;
        sigfillset(&sa.sa_mask);
        /* No SA_RESTART: a blocking call the signal interrupts fails with
         * EINTR instead of going back to wait. A program blocked writing
         * to a full pipe nobody reads (`hello | less`, less no longer
         * reading, Ctrl-C) gets its write back, and so the chance to
         * return to the loop, which runs the callback. The loop's own
         * calls retry EINTR or do not block. */
        sa.sa_flags = 0;
        if (sigaction(signo, &sa, &s->old) < 0)
            return -1; /* EINVAL for SIGKILL and SIGSTOP */
    }
    s->cb = cb;
    s->arg = arg;
    signal_loop = loop;
    return 0;
}

int loop_remove_signal_handler(loop_t *loop, int signo)
{
    if (signo <= 0 || signo >= SIGNALS_MAX || loop->signals[signo].cb == NULL)
        return 0;
    sigaction(signo, &loop->signals[signo].old, NULL);
    loop->signals[signo].cb = NULL;
    signal_pending[signo] = 0;
    return 1;
}

/* ---- one iteration -------------------------------------------------------- */

int loop_signal_pending(const loop_t *loop, int signo)
{
    return signo > 0 && signo < SIGNALS_MAX &&
           loop->signals[signo].cb != NULL && signal_pending[signo];
}

/* How long phase 1 may wait: not at all when callbacks are ready or a stop
 * is due, forever without timers, else until the earliest deadline. The
 * delay is measured from a fresh reading of the clock, not from loop_time(),
 * which is as old as this iteration's callbacks: after a slow callback
 * (fib!) the next timer would otherwise be late by the callback's run time.
 * Milliseconds are rounded up, or the loop would wake just before the
 * deadline, find nothing due, and spin until it is. */
static int wait_timeout_ms(const loop_t *loop)
{
    if (ready_len(&loop->ready) > 0 || loop->stopping)
        return 0;
    const loop_timer_t *first = timers_peek(&loop->timers);
    if (first == NULL)
        return -1;
    double delay_s = first->when_s - read_clock(loop);
    if (delay_s <= 0)
        return 0;
    double ms = ceil(delay_s * 1000.0);
    return ms >= INT_MAX ? INT_MAX : (int)ms;
}

/* What the trace line reports about one iteration. */
struct iteration_report {
    int timeout_ms;
    int fds_ready;
    size_t timers_due;
    char fds[96]; /* "0r 5w 7rw ..." */
};

static void note_fd(struct iteration_report *r, const selector_event_t *ev)
{
    size_t len = strlen(r->fds);
    if (len + 16 >= sizeof r->fds) {
        if (len + 4 < sizeof r->fds && r->fds[len - 1] != '.')
            strcat(r->fds, " ...");
        return;
    }
    snprintf(r->fds + len, sizeof r->fds - len, "%s%d%s%s", len ? " " : "",
             ev->fd, ev->events & SELECTOR_READ ? "r" : "",
             ev->events & SELECTOR_WRITE ? "w" : "");
}

/* [phase-wait] */
/* Phase 1: wait, then queue the reader and writer of every ready fd. The
 * queue holds (fd, generation), not the callback: if an earlier callback
 * of the same iteration removes the reader, the event is dropped. */
static int wait_for_fds(loop_t *loop, struct iteration_report *r)
{
    int n = selector_select(loop->sel, r->timeout_ms);
    if (n < 0)
        return -1;
    if (ready_reserve(&loop->ready, 2 * (size_t)n) < 0)
        return -1; /* level-triggered: the fds are reported again */
    selector_event_t ev;
    while (selector_next(loop->sel, &ev)) {
        struct fd_entry *e = &loop->fds[ev.fd];
        if ((ev.events & SELECTOR_READ) && e->reader.cb) {
            ready_item_t item = {.kind = READY_READER, .fd = ev.fd,
                                 .gen = e->reader.gen};
            ready_push(&loop->ready, &item, NULL);
        }
        if ((ev.events & SELECTOR_WRITE) && e->writer.cb) {
            ready_item_t item = {.kind = READY_WRITER, .fd = ev.fd,
                                 .gen = e->writer.gen};
            ready_push(&loop->ready, &item, NULL);
        }
        r->fds_ready++;
        if (loop->trace)
            note_fd(r, &ev);
    }
    return 0;
}
/* [phase-wait] */

/* [phase-timers] */
/* Phase 3: every timer due by loop_time(), earliest first, leaves the
 * timer structure and joins the queue, remembering its place there so
 * that loop_cancel() can still void it. */
static void collect_due_timers(loop_t *loop, struct iteration_report *r)
{
    loop_timer_t *t;

    while ((t = timers_peek(&loop->timers)) != NULL &&
           t->when_s <= loop->now) {
        uint64_t pos;
        ready_item_t item = {.kind = READY_TIMER, .timer = t};
        if (ready_reserve(&loop->ready, 1) < 0)
            break; /* out of memory: it stays armed, due next time */
        timers_pop(&loop->timers);
        ready_push(&loop->ready, &item, &pos);
        t->index = QUEUED_BIT | (size_t)pos;
        loop->queued_timers++;
        r->timers_due++;
    }
}
/* [phase-timers] */

/* [phase-run] */
/* Phase 4: run what was queued when the phase began; what those callbacks
 * queue waits for the next iteration. Callback and argument are copied out
 * before the call, because the callback may re-arm or free its timer. */
static void run_one(loop_t *loop, ready_item_t item)
{
    loop_cb *cb = item.cb;
    void *arg = item.arg;

    if (item.kind == READY_TIMER) {
        item.timer->index = SIZE_MAX; /* unlinked before it runs */
        loop->queued_timers--;
        cb = item.timer->cb;
        arg = item.timer->arg;
    } else if (item.kind == READY_READER || item.kind == READY_WRITER) {
        if ((size_t)item.fd >= loop->nfds)
            return;
        struct fd_entry *e = &loop->fds[item.fd];
        struct fd_watch *w = item.kind == READY_READER ? &e->reader
                                                       : &e->writer;
        if (w->cb == NULL || w->gen != item.gen)
            return; /* removed or replaced since it was queued */
        cb = w->cb;
        arg = w->arg;
    } else if (item.kind == READY_CANCELLED) {
        return;
    }
    cb(loop, arg);
}

static void run_ready(loop_t *loop, size_t n)
{
    for (size_t i = 0; i < n; i++)
        run_one(loop, ready_pop(&loop->ready));
}
/* [phase-run] */

/* One line per iteration on the trace stream: what woke the loop, which
 * timers fell due, and what phase 4 is about to run, by kind. */
static void trace_iteration(loop_t *loop, const struct iteration_report *r,
                            size_t to_run)
{
    size_t kinds[READY_CANCELLED + 1] = {0};
    char waited[32];

    for (size_t i = 0; i < to_run; i++)
        kinds[ready_at(&loop->ready, loop->ready.head + i)->kind]++;
    if (r->timeout_ms < 0)
        snprintf(waited, sizeof waited, "no timeout");
    else
        snprintf(waited, sizeof waited, "timeout %d ms", r->timeout_ms);
    fprintf(loop->trace,
            "[loop #%llu t=%.3f] wait (%s): %s%s | timers: %zu due, %zu armed"
            " | run %zu: %zu soon, %zu timer, %zu reader, %zu writer\n",
            (unsigned long long)loop->iteration, loop->now, waited,
            r->fds_ready ? "fds ready " : "no fd ready", r->fds,
            r->timers_due, loop->timers.count, to_run - kinds[READY_CANCELLED],
            kinds[READY_CALL], kinds[READY_TIMER], kinds[READY_READER],
            kinds[READY_WRITER]);
    fflush(loop->trace);
}

/* [run-once] */
static int run_once(loop_t *loop)
{
    struct iteration_report r = {.timeout_ms = wait_timeout_ms(loop)};

    loop->iteration++;
    if (wait_for_fds(loop, &r) < 0)       /* 1. wait for descriptors */
        return -1;
    loop->now = read_clock(loop);         /* 2. the clock, once */
    collect_due_timers(loop, &r);         /* 3. due timers */
    size_t n = ready_len(&loop->ready);
    if (loop->trace)
        trace_iteration(loop, &r, n);
    run_ready(loop, n);                   /* 4. callbacks */
    return 0;
}
/* [run-once] */

/* A callback that ran the loop again would run callbacks that this
 * iteration already counted in phase 4; when the outer call went on, it
 * would pop them from an empty queue. Like asyncio ("This event loop is
 * already running"), the loop refuses to be run from inside itself. */
static int enter(loop_t *loop)
{
    if (loop->running) {
        errno = EBUSY;
        return -1;
    }
    loop->running = 1;
    return 0;
}

int loop_run_once(loop_t *loop)
{
    if (enter(loop) < 0)
        return -1;
    int rc = run_once(loop);
    loop->running = 0;
    return rc;
}

int loop_run_forever(loop_t *loop)
{
    int rc = 0;

    if (enter(loop) < 0)
        return -1;
    do /* like asyncio, a stop before the start still runs one iteration */
        rc = run_once(loop);
    while (rc == 0 && !loop->stopping);
    loop->stopping = 0;
    loop->running = 0;
    return rc;
}

/* ---- the end -------------------------------------------------------------- */

static void close_signals(loop_t *loop)
{
    for (int signo = 1; signo < SIGNALS_MAX; signo++)
        loop_remove_signal_handler(loop, signo);
    if (loop->wake[0] >= 0) {
        loop_remove_reader(loop, loop->wake[0]);
        /* Only if it is ours: a loop whose first loop_add_signal_handler()
         * failed after opening its pipe never became signal_loop, and
         * another loop may have taken the signals since. */
        if (signal_wake_fd == loop->wake[1])
            signal_wake_fd = -1;
        close(loop->wake[0]);
        close(loop->wake[1]);
    }
    if (signal_loop == loop)
        signal_loop = NULL;
}

void loop_destroy(loop_t *loop)
{
    if (loop == NULL)
        return;
    close_signals(loop);
    while (ready_len(&loop->ready) > 0) {
        ready_item_t item = ready_pop(&loop->ready);
        if (item.kind == READY_TIMER)
            item.timer->index = SIZE_MAX; /* disarmed, never run */
    }
    ready_deinit(&loop->ready);
    timers_deinit(&loop->timers);
    selector_destroy(loop->sel);
    free(loop->fds);
    free(loop);
}
