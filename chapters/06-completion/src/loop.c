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

#include "array.h"
#include "ready.h"
#include "timers.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
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

/* Callbacks in the ready queue, read without a call: the loop asks on
 * every iteration. */
#define QUEUED(loop) ((size_t)((loop)->ready.tail - (loop)->ready.head))

/* One direction of one descriptor. @c gen changes on every add and remove,
 * so an event queued for an older registration is recognised and dropped. */
struct fd_watch {
    loop_cb *cb; /* NULL when nobody watches */
    void *arg;
    unsigned gen;
};

/* What the selector has for a descriptor is what has a watcher (a
 * callback): no field for it, every held connection pays for each. */
struct fd_entry {
    struct fd_watch reader, writer;
};

struct signal_entry {
    loop_cb *cb; /* NULL when the loop does not handle this signal */
    void *arg;
    struct sigaction old; /* restored by loop_remove_signal_handler() */
};

struct loop {
    selector_t *sel;
    timers_t timers;       /* armed, not yet due */
    double first_due;      /* the earliest of their deadlines, INFINITY
                            * if none: what every iteration asks, kept
                            * up to date by the four places that change
                            * @c timers */
    ready_queue_t ready;   /* what phase 4 runs */
    size_t queued_timers;  /* due timers waiting in @c ready */
    struct fd_entry *fds;  /* indexed by descriptor; owned */
    size_t nfds;           /* entries in use, zero-filled: fds[0, nfds) */
    size_t fds_cap;        /* entries allocated */
    loop_clock_cb *clock;
    void *clock_arg;
    double now;            /* the clock, read once per iteration */
    uint64_t next_seq;     /* for the next timer armed */
    int stopping;
    int running;           /* inside loop_run_once() or loop_run_forever() */
    FILE *trace;           /* NULL: no trace */
    uint64_t iteration;
    int wake[2];           /* the self-pipe: signals and other threads */
    pthread_mutex_t inbox_mutex; /* guards the next two */
    list_t inbox;          /* loop_post_t.link of the calls other threads
                            * posted, oldest first */
    size_t inbox_len;
    struct signal_entry signals[SIGNALS_MAX];
    loop_hook_t *hooks;    /* run last by loop_destroy(), newest first */
    loop_wait_fn *wait;    /* chapter 06: phase 1's wait; NULL = the */
    void *wait_arg;        /* selector's own */
};

/* What the C signal handler touches, and nothing else: the flags, the
 * write end of the self-pipe of the one loop that handles signals, and a
 * count of the handlers using it. A handler may run on any thread that
 * does not block the signal, so the count lets close_signals() wait for
 * one that read the descriptor just before it was withdrawn: closed under
 * that handler, the number could be reused by the next open() and get its
 * byte. Lock-free atomics are async-signal-safe; locks are not. */
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "signal handlers need lock-free "
               "atomic ints");
static volatile sig_atomic_t signal_pending[SIGNALS_MAX];
static atomic_int signal_wake_fd = -1;
static atomic_int signal_handlers_running;
static loop_t *signal_loop;

static int open_self_pipe(loop_t *loop);

double loop_clock_monotonic(void *arg)
{
    struct timespec ts;
    (void)arg;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
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
    loop->first_due = INFINITY;
    loop->clock = opt->clock ? opt->clock : loop_clock_monotonic;
    loop->clock_arg = opt->clock_arg;
    loop->trace = opt->trace;
    if (loop->trace == NULL && getenv("LOOP_TRACE") != NULL)
        loop->trace = stderr;
    if (loop->trace != NULL)
        atomic_fetch_add(&loop_tracing_loops, 1);
    loop->wake[0] = loop->wake[1] = -1;
    loop->now = loop->clock(loop->clock_arg);
    /* The self-pipe exists from the start (as asyncio makes it): another
     * thread may call loop_call_soon_threadsafe() at any moment, and only
     * the loop's own thread may register a descriptor. */
    pthread_mutex_init(&loop->inbox_mutex, NULL);
    list_init(&loop->inbox);
    if (open_self_pipe(loop) < 0) {
        int err = errno;
        pthread_mutex_destroy(&loop->inbox_mutex);
        selector_destroy(loop->sel);
        timers_deinit(&loop->timers);
        free(loop->fds);
        if (loop->trace != NULL)
            atomic_fetch_sub(&loop_tracing_loops, 1);
        free(loop);
        errno = err;
        return NULL;
    }
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

atomic_int loop_tracing_loops;

FILE *loop_trace(const loop_t *loop)
{
    return loop->trace;
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

/* The earliest deadline, asked of the timer structure after it changed. */
static void update_first_due(loop_t *loop)
{
    const loop_timer_t *first = timers_peek(&loop->timers);

    loop->first_due = first != NULL ? first->when_s : INFINITY;
}

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
    if (timers_add(&loop->timers, timer) < 0)
        return -1;
    if (when_s < loop->first_due)
        loop->first_due = when_s;
    return 0;
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
        if (timer->when_s <= loop->first_due)
            update_first_due(loop); /* it may have been the earliest */
    }
}
/* [cancel] */

/* ---- descriptors ---------------------------------------------------------- */

/* Entries up to @p fd, zero-filled. Only those: the capacity past them
 * is left untouched, so its pages (of a large array, which the C library
 * maps fresh) cost no memory until a descriptor that high comes. */
static int grow_fds(loop_t *loop, int fd)
{
    size_t need = (size_t)fd + 1;

    if (need <= loop->nfds)
        return 0;
    struct fd_entry *fds = array_grow(loop->fds, &loop->fds_cap, need,
                                      sizeof *fds);
    if (fds == NULL)
        return -1;
    memset(fds + loop->nfds, 0, (need - loop->nfds) * sizeof *fds);
    loop->fds = fds;
    loop->nfds = need;
    return 0;
}

static struct fd_watch *watch_of(struct fd_entry *e, unsigned event)
{
    return event == SELECTOR_READ ? &e->reader : &e->writer;
}

static unsigned events_of(const struct fd_entry *e)
{
    return (e->reader.cb != NULL ? SELECTOR_READ : 0u) |
           (e->writer.cb != NULL ? SELECTOR_WRITE : 0u);
}

/* [add-reader] */
/* Reader and writer of one descriptor share one selector registration:
 * the first watcher registers it, later changes modify its events. */
static int watch(loop_t *loop, int fd, unsigned event, loop_cb *cb,
                 void *arg)
{
    if (cb == NULL) {
        errno = EINVAL;
        return -1;
    }
    if (fd >= 0 && (size_t)fd < loop->nfds &&
        (events_of(&loop->fds[fd]) & event)) {
        /* Watched already (a stream renewing its reader at every wait):
         * the selector has these events, only the watcher changes. */
        struct fd_watch *w = event == SELECTOR_READ ? &loop->fds[fd].reader
                                                    : &loop->fds[fd].writer;
        w->cb = cb;
        w->arg = arg;
        w->gen++;
        return 0;
    }
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (grow_fds(loop, fd) < 0)
        return -1;
    struct fd_entry *e = &loop->fds[fd];
    unsigned events = events_of(e) | event;
    int rc = events_of(e) ? selector_modify(loop->sel, fd, events, NULL)
                          : selector_register(loop->sel, fd, events, NULL);
    if (rc < 0)
        return -1;
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
        !(events_of(&loop->fds[fd]) & event))
        return 0;
    struct fd_entry *e = &loop->fds[fd];
    unsigned events = events_of(e) & ~event;
    if (events)
        selector_modify(loop->sel, fd, events, NULL);
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
    atomic_fetch_add(&signal_handlers_running, 1);
    int fd = atomic_load(&signal_wake_fd);
    if (fd >= 0) {
        ssize_t n = write(fd, "", 1);
        (void)n;
    }
    atomic_fetch_sub(&signal_handlers_running, 1);
    errno = saved_errno;
}

/* Take the oldest post off the inbox, or NULL. Off the inbox, a record
 * may be posted again: by its own call, or by another thread meanwhile. */
static loop_post_t *inbox_pop(loop_t *loop)
{
    pthread_mutex_lock(&loop->inbox_mutex);
    list_t *l = list_first(&loop->inbox);
    if (l != NULL) {
        list_unlink(l);
        loop->inbox_len--;
    }
    pthread_mutex_unlock(&loop->inbox_mutex);
    return l == NULL ? NULL : LIST_ENTRY(l, loop_post_t, link);
}

/* The self-pipe's reader, on the loop: empty the pipe, run the calls
 * other threads posted, then the callbacks of the signals that arrived.
 * The pipe is emptied first, so a post that lands after that writes a
 * byte that wakes the next iteration. Posts are taken one at a time, and
 * only as many as were there at the start: a call may withdraw later ones
 * (loop_cancel_threadsafe()), and a thread that keeps posting cannot keep
 * the loop here. */
static void on_wake(loop_t *loop, void *arg)
{
    char buf[64];
    (void)arg;
    while (read(loop->wake[0], buf, sizeof buf) > 0)
        ;
    pthread_mutex_lock(&loop->inbox_mutex);
    size_t n = loop->inbox_len;
    pthread_mutex_unlock(&loop->inbox_mutex);
    for (loop_post_t *p; n > 0 && (p = inbox_pop(loop)) != NULL; n--) {
        loop_cb *cb = p->cb;
        void *cb_arg = p->arg;
        if (p->allocated)
            free(p);
        cb(loop, cb_arg);
    }
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
    return 0;
}

/* [call-soon-threadsafe] */
void loop_post_init(loop_post_t *post)
{
    list_init(&post->link);
    post->allocated = 0;
}

int loop_post_threadsafe(loop_t *loop, loop_post_t *post, loop_cb *cb,
                         void *arg)
{
    pthread_mutex_lock(&loop->inbox_mutex);
    int posted = !list_linked(&post->link);
    if (posted) {
        post->cb = cb;
        post->arg = arg;
        list_add_tail(&loop->inbox, &post->link);
        loop->inbox_len++;
    }
    pthread_mutex_unlock(&loop->inbox_mutex);
    if (posted) {
        /* A full pipe (EAGAIN) means a wake-up is pending anyway, and
         * on_wake() empties the pipe before it looks at the inbox. */
        int saved_errno = errno;
        ssize_t w = write(loop->wake[1], "", 1);
        (void)w;
        errno = saved_errno;
    }
    return posted;
}

int loop_call_soon_threadsafe(loop_t *loop, loop_cb *cb, void *arg)
{
    loop_post_t *p = malloc(sizeof *p);

    if (p == NULL) {
        errno = ENOMEM;
        return -1;
    }
    loop_post_init(p);
    p->allocated = 1;
    loop_post_threadsafe(loop, p, cb, arg);
    return 0;
}
/* [call-soon-threadsafe] */

size_t loop_cancel_threadsafe(loop_t *loop, loop_cb *cb, void *arg)
{
    size_t removed = 0;

    pthread_mutex_lock(&loop->inbox_mutex);
    for (list_t *l = loop->inbox.next, *next; l != &loop->inbox; l = next) {
        loop_post_t *p = LIST_ENTRY(l, loop_post_t, link);
        next = l->next;
        if (p->cb == cb && p->arg == arg) {
            list_unlink(l);
            loop->inbox_len--;
            removed++;
            if (p->allocated)
                free(p);
        }
    }
    pthread_mutex_unlock(&loop->inbox_mutex);
    return removed;
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
    atomic_store(&signal_wake_fd, loop->wake[1]);
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

int loop_signal_pending(const loop_t *loop, int signo)
{
    return signo > 0 && signo < SIGNALS_MAX &&
           loop->signals[signo].cb != NULL && signal_pending[signo];
}

/* ---- one iteration -------------------------------------------------------- */

/* How long phase 1 may wait when no callback is ready and no stop is due
 * (then it does not wait at all): forever without timers, else until the
 * earliest deadline. The delay is measured from a fresh reading of the
 * clock, not from loop_time(), which is as old as this iteration's
 * callbacks: after a slow callback (fib!) the next timer would otherwise
 * be late by the callback's run time. Milliseconds are rounded up, or the
 * loop would wake just before the deadline, find nothing due, and spin
 * until it is. */
static int wait_timeout_ms(const loop_t *loop)
{
    if (loop->first_due == INFINITY)
        return -1;
    double delay_s = loop->first_due - loop->clock(loop->clock_arg);
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
    int n = loop->wait /* chapter 06 */
                ? loop->wait(loop, loop->sel, r->timeout_ms, loop->wait_arg)
                : selector_select(loop->sel, r->timeout_ms);
    if (n < 0)
        return -1;
    selector_event_t ev;
    /* n entries at most: no call to learn that there is no more. The
     * ring grows as it fills (ready_push() checks its room itself); if
     * it cannot, the events not queued yet are not lost: the selector is
     * level-triggered and reports them again. */
    for (int k = 0; k < n && selector_next(loop->sel, &ev); k++) {
        struct fd_entry *e = &loop->fds[ev.fd];
        if ((ev.events & SELECTOR_READ) && e->reader.cb) {
            ready_item_t item = {.kind = READY_READER, .fd = ev.fd,
                                 .gen = e->reader.gen};
            if (ready_push(&loop->ready, &item, NULL) < 0)
                return -1;
        }
        if ((ev.events & SELECTOR_WRITE) && e->writer.cb) {
            ready_item_t item = {.kind = READY_WRITER, .fd = ev.fd,
                                 .gen = e->writer.gen};
            if (ready_push(&loop->ready, &item, NULL) < 0)
                return -1;
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
 * that loop_cancel() can still void it. Called only when one is due. */
static int collect_due_timers(loop_t *loop, struct iteration_report *r)
{
    while (loop->first_due <= loop->now) {
        uint64_t pos;
        if (ready_reserve(&loop->ready, 1) < 0)
            return -1; /* ENOMEM: it stays armed, due when called again */
        loop_timer_t *t = timers_pop(&loop->timers);
        ready_item_t item = {.kind = READY_TIMER, .timer = t};
        update_first_due(loop);
        ready_push(&loop->ready, &item, &pos);
        t->index = QUEUED_BIT | (size_t)pos;
        loop->queued_timers++;
        r->timers_due++;
    }
    return 0;
}
/* [phase-timers] */

/* [phase-run] */
/* Phase 4: run what was queued when the phase began; what those callbacks
 * queue waits for the next iteration. Callback and argument are copied out
 * before the call, because the callback may re-arm or free its timer. */
static void run_ready(loop_t *loop, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ready_item_t item = ready_pop(&loop->ready);
        loop_cb *cb = item.cb;
        void *arg = item.arg;

        if (item.kind == READY_TIMER) {
            item.timer->index = SIZE_MAX; /* unlinked before it runs */
            loop->queued_timers--;
            cb = item.timer->cb;
            arg = item.timer->arg;
        } else if (item.kind == READY_READER || item.kind == READY_WRITER) {
            if ((size_t)item.fd >= loop->nfds)
                continue;
            struct fd_entry *e = &loop->fds[item.fd];
            struct fd_watch *w = item.kind == READY_READER ? &e->reader
                                                           : &e->writer;
            if (w->cb == NULL || w->gen != item.gen)
                continue; /* removed or replaced since it was queued */
            cb = w->cb;
            arg = w->arg;
        } else if (item.kind == READY_CANCELLED) {
            continue;
        }
        cb(loop, arg);
    }
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
    struct iteration_report r = {
        .timeout_ms = QUEUED(loop) > 0 || loop->stopping ? 0
                                                         : wait_timeout_ms(loop),
    };

    loop->iteration++;
    if (wait_for_fds(loop, &r) < 0)       /* 1. wait for descriptors */
        return -1;
    loop->now = loop->clock(loop->clock_arg); /* 2. the clock, once */
    if (loop->first_due <= loop->now &&   /* 3. due timers */
        collect_due_timers(loop, &r) < 0)
        return -1;
    size_t n = QUEUED(loop);
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
        if (atomic_load(&signal_wake_fd) == loop->wake[1]) {
            atomic_store(&signal_wake_fd, -1);
            /* A handler on another thread that read it before may still be
             * writing: the pipe stays open until it is done. (Sequentially
             * consistent atomics: either it saw -1, or we see it count.) */
            while (atomic_load(&signal_handlers_running) > 0)
                sched_yield();
        }
        close(loop->wake[0]);
        close(loop->wake[1]);
    }
    if (signal_loop == loop)
        signal_loop = NULL;
    /* Calls posted but never run are dropped, as asyncio drops the
     * callbacks of a closed loop. */
    for (loop_post_t *p; (p = inbox_pop(loop)) != NULL;)
        if (p->allocated)
            free(p);
    pthread_mutex_destroy(&loop->inbox_mutex);
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
    /* The layers built on the loop clean up last, once nothing the loop
     * holds can point into what they free (a Task's frame holds timers). */
    while (loop->hooks != NULL) {
        loop_hook_t *hook = loop->hooks;

        loop->hooks = hook->next;
        hook->fn(loop, hook);
    }
    if (loop->trace != NULL)
        atomic_fetch_sub(&loop_tracing_loops, 1);
    free(loop->fds);
    free(loop);
}

void loop_add_destroy_hook(loop_t *loop, loop_hook_t *hook, loop_hook_fn *fn)
{
    hook->fn = fn;
    hook->next = loop->hooks;
    loop->hooks = hook;
}

/* ---- chapter 06 ---- */
void loop_set_wait(loop_t *loop, loop_wait_fn *fn, void *arg)
{
    loop->wait = fn;
    loop->wait_arg = arg;
}
/* ---- end chapter 06 ---- */

loop_hook_t *loop_find_destroy_hook(const loop_t *loop, loop_hook_fn *fn)
{
    for (loop_hook_t *hook = loop->hooks; hook != NULL; hook = hook->next) {
        if (hook->fn == fn)
            return hook;
    }
    return NULL;
}
