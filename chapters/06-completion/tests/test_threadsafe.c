/*
 * test_threadsafe.c - loop_call_soon_threadsafe: other threads hand calls
 * to the loop and wake it (asyncio's loop.call_soon_threadsafe; CPython's
 * test_events.py test_call_soon_threadsafe). Real clock, real threads:
 * the loop sleeps in the selector without a timeout, so only the post can
 * end that sleep (a guard timer fails the test instead of hanging it).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "executor.h"
#include "loop.h"

TestSuite(threadsafe, .timeout = 20);

enum { POSTS = 100 };

typedef struct record {
    int seen[POSTS];
    int n;
    int stop_after;
} record_t;

typedef struct post_arg {
    record_t *rec;
    int value;
} post_arg_t;

static void note(loop_t *loop, void *arg)
{
    post_arg_t *p = arg;

    p->rec->seen[p->rec->n++] = p->value;
    if (p->rec->n == p->rec->stop_after)
        loop_stop(loop);
}

typedef struct poster {
    loop_t *loop;
    post_arg_t args[POSTS];
    int count;
    int failed;                  /* posts refused (no cr_assert off the
                                    test's thread) */
} poster_t;

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

static void *post_from_thread(void *arg)
{
    poster_t *p = arg;

    pause_ms(50);               /* let the loop go to sleep first */
    for (int i = 0; i < p->count; i++)
        p->failed += loop_call_soon_threadsafe(p->loop, note, &p->args[i])
                     != 0;
    return NULL;
}

static void give_up(loop_t *loop, void *arg)
{
    *(int *)arg = 1;
    loop_stop(loop);
}

Test(threadsafe, a_post_from_another_thread_wakes_the_sleeping_loop)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = 1};
    poster_t p = {.loop = loop, .count = 1};
    loop_timer_t guard;
    int gave_up = 0;
    pthread_t tid;

    p.args[0] = (post_arg_t){&rec, 7};
    loop_timer_init(&guard);
    loop_call_later(loop, &guard, 5.0, give_up, &gave_up);
    cr_assert_eq(pthread_create(&tid, NULL, post_from_thread, &p), 0);
    cr_assert_eq(loop_run_forever(loop), 0);
    pthread_join(tid, NULL);
    cr_assert_eq(p.failed, 0);
    cr_assert_eq(gave_up, 0, "the post did not wake the loop");
    cr_assert_eq(rec.n, 1);
    cr_assert_eq(rec.seen[0], 7);
    loop_cancel(loop, &guard);
    loop_destroy(loop);
}

Test(threadsafe, posts_run_on_the_loop_in_the_order_they_were_made)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = POSTS};
    poster_t p = {.loop = loop, .count = POSTS};
    loop_timer_t guard;
    int gave_up = 0;
    pthread_t tid;

    for (int i = 0; i < POSTS; i++)
        p.args[i] = (post_arg_t){&rec, i};
    loop_timer_init(&guard);
    loop_call_later(loop, &guard, 5.0, give_up, &gave_up);
    cr_assert_eq(pthread_create(&tid, NULL, post_from_thread, &p), 0);
    cr_assert_eq(loop_run_forever(loop), 0);
    pthread_join(tid, NULL);
    cr_assert_eq(p.failed, 0);
    cr_assert_eq(gave_up, 0);
    cr_assert_eq(rec.n, POSTS);
    for (int i = 0; i < POSTS; i++)
        cr_assert_eq(rec.seen[i], i);
    loop_cancel(loop, &guard);
    loop_destroy(loop);
}

Test(threadsafe, a_post_never_runs_inside_the_call_that_made_it)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = -1};
    post_arg_t a = {&rec, 1};

    cr_assert_eq(loop_call_soon_threadsafe(loop, note, &a), 0);
    cr_assert_eq(rec.n, 0);
    cr_assert_eq(loop_run_once(loop), 0);   /* the pipe is readable */
    cr_assert_eq(rec.n, 1);
    loop_destroy(loop);
}

Test(threadsafe, a_withdrawn_post_does_not_run)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = -1};
    post_arg_t a = {&rec, 1}, b = {&rec, 2};

    loop_call_soon_threadsafe(loop, note, &a);
    loop_call_soon_threadsafe(loop, note, &b);
    loop_call_soon_threadsafe(loop, note, &a);
    cr_assert_eq(loop_cancel_threadsafe(loop, note, &a), 2);
    cr_assert_eq(loop_cancel_threadsafe(loop, note, &a), 0);
    loop_run_once(loop);
    cr_assert_eq(rec.n, 1);
    cr_assert_eq(rec.seen[0], 2);
    /* The inbox still works after a withdrawal from its tail. */
    loop_call_soon_threadsafe(loop, note, &a);
    loop_run_once(loop);
    cr_assert_eq(rec.n, 2);
    cr_assert_eq(rec.seen[1], 1);
    loop_destroy(loop);
}

/* A post may withdraw a later one that was posted before it ran. */
static void withdraw_b(loop_t *loop, void *arg)
{
    loop_cancel_threadsafe(loop, note, arg);
}

Test(threadsafe, a_post_can_withdraw_one_posted_after_it)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = -1};
    post_arg_t b = {&rec, 2};

    loop_call_soon_threadsafe(loop, withdraw_b, &b);
    loop_call_soon_threadsafe(loop, note, &b);
    loop_run_once(loop);          /* runs both posts' turn: one is gone */
    cr_assert_eq(rec.n, 0);
    cr_assert_eq(loop_cancel_threadsafe(loop, note, &b), 0);
    loop_destroy(loop);
}

Test(threadsafe, posts_left_when_the_loop_is_destroyed_are_dropped)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = -1};
    post_arg_t a = {&rec, 1};

    loop_call_soon_threadsafe(loop, note, &a);
    loop_destroy(loop);          /* no leak (ASan), no call */
    cr_assert_eq(rec.n, 0);
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;

    cr_assert_not_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* One wake-up mechanism: the executor opens no descriptor of its own. */
Test(threadsafe, the_executor_wakes_the_loop_without_a_descriptor_of_its_own)
{
    loop_t *loop = loop_create(NULL);
    int before = open_fds();
    executor_t *ex = executor_create(loop, 2);

    cr_assert_not_null(ex);
    cr_assert_eq(open_fds(), before);
    executor_destroy(ex);
    loop_destroy(loop);
}

static void on_usr1(loop_t *loop, void *arg)
{
    (void)loop;
    *(int *)arg += 1;
}

/* Signals and posts share the one self-pipe: both arrive, in one wake-up
 * or two, and neither hides the other. */
Test(threadsafe, a_signal_and_a_post_share_the_wake_up)
{
    loop_t *loop = loop_create(NULL);
    record_t rec = {.stop_after = -1};
    post_arg_t a = {&rec, 5};
    int signals = 0;

    cr_assert_eq(loop_add_signal_handler(loop, SIGUSR1, on_usr1, &signals),
                 0);
    cr_assert_eq(loop_call_soon_threadsafe(loop, note, &a), 0);
    raise(SIGUSR1);
    cr_assert_eq(loop_run_once(loop), 0);
    cr_assert_eq(rec.n, 1);
    cr_assert_eq(signals, 1);
    loop_remove_signal_handler(loop, SIGUSR1);
    loop_destroy(loop);
}

/* ---- a wake-up that needs no memory ---------------------------------- */

/* AddressSanitizer's allocator needs the memory this test takes away. */
#if defined(__SANITIZE_ADDRESS__)
Test(threadsafe, the_executor_wakes_the_loop_even_out_of_memory)
{
    cr_skip_test("the sanitizer's allocator needs the memory taken away");
}
#else
static struct rlimit data_limit;

/* The job: from now on the process cannot get more memory, as if it had
 * run out (a worker's first malloc() needs a new arena: it fails). */
static void *exhaust_memory(void *arg)
{
    struct rlimit none = data_limit;

    none.rlim_cur = 1;
    setrlimit(RLIMIT_DATA, &none);
    return arg;
}

static void stop_loop(loop_t *loop, void *arg)
{
    (void)arg;
    loop_stop(loop);
}

static void stop_on_done(future_t *future, void *arg)
{
    (void)future;
    loop_stop(arg);
}

/* Out of memory, a worker must still wake the loop with its result: a
 * lost wake-up leaves the job's awaiter waiting for ever (the executor
 * posts from storage it owns, so the post cannot fail). */
Test(threadsafe, the_executor_wakes_the_loop_even_out_of_memory)
{
    loop_t *loop = loop_create(NULL);
    executor_t *ex = executor_create(loop, 1);
    loop_timer_t guard;
    future_callback_t stop;
    future_t job;
    int gave_up = 0;

    getrlimit(RLIMIT_DATA, &data_limit);
    loop_timer_init(&guard);
    /* Everything the loop thread allocates on the way is allocated now. */
    loop_call_soon(loop, stop_loop, NULL);
    loop_run_forever(loop);
    loop_call_later(loop, &guard, 2.0, give_up, &gave_up);
    executor_submit(ex, &job, exhaust_memory, &job);
    future_add_done_callback(&job, &stop, stop_on_done, loop);
    loop_run_forever(loop);
    setrlimit(RLIMIT_DATA, &data_limit);
    cr_assert(!gave_up, "the worker's wake-up was lost");
    cr_assert(future_done(&job));
    loop_cancel(loop, &guard);
    executor_destroy(ex);
    loop_destroy(loop);
}
#endif

/* ---- a signal on another thread while the loop closes ------------------ */

enum { ROUNDS = 150, SIGNALLERS = 2 };

static atomic_int signalling;

static void ignore_signal(int signo)
{
    (void)signo;
}

/* Takes SIGUSR1 on this thread, over and over: the loop's C handler runs
 * here, on a thread that is not the loop's. */
static void *signal_myself(void *arg)
{
    sigset_t usr1;

    (void)arg;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_UNBLOCK, &usr1, NULL);
    while (atomic_load(&signalling))
        pthread_kill(pthread_self(), SIGUSR1);
    return NULL;
}

static size_t bytes_waiting(int fd)
{
    char buf[64];
    ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);

    return n > 0 ? (size_t)n : 0;
}

/* A handler running on another thread may have read the loop's wake-up
 * descriptor just before loop_destroy() closed it: it must not then write
 * into whatever a later open() gets that number for. Each round leaves
 * socketpairs on the numbers the loop freed; none may receive a byte. */
Test(threadsafe, a_handler_on_another_thread_never_writes_after_destroy,
     .timeout = 60)
{
    static int witness[ROUNDS][2][2];
    struct sigaction quiet = {.sa_handler = ignore_signal};
    sigset_t usr1;
    pthread_t t[SIGNALLERS];
    size_t stray = 0;

    sigaction(SIGUSR1, &quiet, NULL);   /* what the loop restores */
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    atomic_store(&signalling, 1);
    for (int i = 0; i < SIGNALLERS; i++)
        pthread_create(&t[i], NULL, signal_myself, NULL);
    for (int r = 0; r < ROUNDS; r++) {
        loop_t *loop = loop_create(NULL);
        int signals = 0;

        cr_assert_not_null(loop);
        cr_assert_eq(loop_add_signal_handler(loop, SIGUSR1, on_usr1,
                                             &signals), 0);
        pause_ms(1);
        loop_destroy(loop);
        for (int k = 0; k < 2; k++)
            cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, witness[r][k]),
                         0);
    }
    atomic_store(&signalling, 0);
    for (int i = 0; i < SIGNALLERS; i++)
        pthread_join(t[i], NULL);
    for (int r = 0; r < ROUNDS; r++) {
        for (int k = 0; k < 4; k++) {
            stray += bytes_waiting(witness[r][k / 2][k % 2]);
            close(witness[r][k / 2][k % 2]);
        }
    }
    cr_assert_eq(stray, 0, "%zu bytes written after the loop was destroyed",
                 stray);
}
