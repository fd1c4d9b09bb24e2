/*
 * counter.c - chapter 02: shared memory, a race, its fix, and a deadlock.
 *
 *   counter --unsafe     threads increment one counter with no lock: updates
 *                        are lost, and the total comes out short
 *   counter --mutex      the same under a mutex: the total is exact
 *   counter --deadlock   two threads take two locks in opposite orders; each
 *                        waits for the other. The wait uses a 1 s timeout
 *                        (pthread_mutex_timedlock) so the demo reports the
 *                        deadlock and exits instead of hanging forever
 *   counter --ordered    the same two threads, both taking the locks in one
 *                        agreed order: no deadlock
 *
 * Build with `make SAN=thread` and run build/san-thread/counter --unsafe to
 * watch ThreadSanitizer name the racing lines.
 */
#include "options.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: counter --unsafe|--mutex|--deadlock|--ordered [--threads N]\n"
    "               [--iterations M]\n"
    "\n"
    "--unsafe and --mutex: N threads (default 4) each add 1 to a shared\n"
    "counter M times (default 10000000); prints the expected and the actual\n"
    "total. --deadlock and --ordered: two threads, two locks, opposite or\n"
    "equal lock order; a deadlock is detected after 1 s and reported.\n"
    "Exit status: 0 when the result is right, 1 when updates were lost or a\n"
    "deadlock was detected, 2 on a usage error.\n";

enum mode { MODE_NONE, MODE_UNSAFE, MODE_MUTEX, MODE_DEADLOCK, MODE_ORDERED };

/* [race] */
/* volatile forces a load and a store on every increment, as a counter
 * updated through a pointer in a real program would be; without it the
 * compiler may add all the iterations at once and hide the race. volatile
 * is NOT a lock: load, add, store is 3 steps another thread can cut into. */
static volatile long counter;
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long iterations = 10000000;
static pthread_barrier_t start_line; /* all threads start adding together */

static void *add_unsafe(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < iterations; i++)
        counter++; /* read, add, write: two threads can read the same value */
    return NULL;
}

static void *add_locked(void *arg)
{
    (void)arg;
    pthread_barrier_wait(&start_line);
    for (long i = 0; i < iterations; i++) {
        pthread_mutex_lock(&counter_lock);
        counter++;
        pthread_mutex_unlock(&counter_lock);
    }
    return NULL;
}
/* [race] */

static int run_counter(enum mode mode, long nthreads)
{
    pthread_t *threads = calloc((size_t)nthreads, sizeof *threads);
    if (threads == NULL) {
        perror("counter");
        return 1;
    }
    /* Threads start one after the other; without the barrier the first
     * could finish before the last begins, and nothing would race. */
    pthread_barrier_init(&start_line, NULL, (unsigned)nthreads);
    long started = 0;
    for (; started < nthreads; started++) {
        int err = pthread_create(&threads[started], NULL,
                                 mode == MODE_UNSAFE ? add_unsafe : add_locked,
                                 NULL);
        if (err != 0) {
            /* the others wait at the barrier for a thread that never comes */
            fprintf(stderr, "counter: thread %ld: %s\n", started, strerror(err));
            exit(1);
        }
    }
    for (long i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    pthread_barrier_destroy(&start_line);

    long expected = started * iterations;
    printf("%s: %ld threads x %ld increments: expected %ld, got %ld%s\n",
           mode == MODE_UNSAFE ? "unsafe" : "mutex", started, iterations,
           expected, counter,
           counter == expected ? "" : " (updates were lost)");
    return counter == expected && started == nthreads ? 0 : 1;
}

/* [deadlock] */
static pthread_mutex_t lock_a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t lock_b = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t both_hold_one;

struct locker {
    const char *name;
    pthread_mutex_t *first, *second;
    const char *first_name, *second_name;
    int opposite; /* wait until the other thread holds its first lock */
    int deadlocked;
};

static void *take_two_locks(void *arg)
{
    struct locker *l = arg;
    struct timespec deadline;

    pthread_mutex_lock(l->first);
    if (l->opposite) /* make the bad interleaving certain, not just likely */
        pthread_barrier_wait(&both_hold_one);
    /* timedlock measures against CLOCK_REALTIME, as POSIX specifies. */
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += 1;
    int err = pthread_mutex_timedlock(l->second, &deadline);
    if (err == ETIMEDOUT) {
        l->deadlocked = 1;
        printf("%s holds %s and has waited 1 s for %s\n", l->name,
               l->first_name, l->second_name);
    } else {
        pthread_mutex_unlock(l->second);
    }
    pthread_mutex_unlock(l->first);
    return NULL;
}
/* [deadlock] */

static int run_locks(enum mode mode)
{
    int opposite = mode == MODE_DEADLOCK;
    struct locker one = {"thread 1", &lock_a, &lock_b, "A", "B", opposite, 0};
    struct locker two = {"thread 2", opposite ? &lock_b : &lock_a,
                         opposite ? &lock_a : &lock_b, opposite ? "B" : "A",
                         opposite ? "A" : "B", opposite, 0};
    pthread_t t1, t2;

    pthread_barrier_init(&both_hold_one, NULL, 2);
    if (pthread_create(&t1, NULL, take_two_locks, &one) != 0)
        return 1;
    if (pthread_create(&t2, NULL, take_two_locks, &two) != 0) {
        /* thread 1 would wait on the barrier forever: say so and leave */
        fprintf(stderr, "counter: cannot start the second thread\n");
        exit(1);
    }
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    pthread_barrier_destroy(&both_hold_one);

    if (one.deadlocked || two.deadlocked) {
        printf("deadlock detected after 1 s: the two threads took A and B in "
               "opposite orders\n");
        return 1;
    }
    printf("no deadlock: both threads took A, then B\n");
    return 0;
}

static long parse_count(const char *arg, const char *what)
{
    char *end;
    errno = 0;
    long v = strtol(arg, &end, 10);
    if (errno != 0 || end == arg || *end != '\0' || v < 1 || v > 1000000000)
        options_usage_error("counter", what, arg);
    return v;
}

int main(int argc, char **argv)
{
    /* Before anything opens a descriptor: see options_open_std_fds(). */
    if (options_open_std_fds() < 0)
        return 1;
    static const struct option longopts[] = {
        {"unsafe", no_argument, NULL, 'u'},
        {"mutex", no_argument, NULL, 'm'},
        {"deadlock", no_argument, NULL, 'd'},
        {"ordered", no_argument, NULL, 'o'},
        {"threads", required_argument, NULL, 't'},
        {"iterations", required_argument, NULL, 'n'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    enum mode mode = MODE_NONE;
    long nthreads = 4;
    int opt;

    setvbuf(stdout, NULL, _IOLBF, 0);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (opt) {
        case 'u': case 'm': case 'd': case 'o': {
            enum mode chosen = opt == 'u' ? MODE_UNSAFE : opt == 'm' ? MODE_MUTEX
                             : opt == 'd' ? MODE_DEADLOCK : MODE_ORDERED;
            if (mode != MODE_NONE && mode != chosen)
                options_usage_error("counter", "%s", "choose one mode, not several");
            mode = chosen;
            break;
        }
        case 't':
            nthreads = parse_count(optarg, "bad --threads '%s': want 1 to 1000000000");
            break;
        case 'n':
            iterations = parse_count(optarg, "bad --iterations '%s': want 1 to 1000000000");
            break;
        case 'h':
            fputs(usage, stdout);
            return 0;
        default:
            options_usage_error("counter", "unknown option or missing value: '%s'", argv[optind - 1]);
        }
    }
    if (optind < argc)
        options_usage_error("counter", "unexpected argument '%s'", argv[optind]);
    if (mode == MODE_NONE)
        options_usage_error("counter", "%s", "choose a mode: --unsafe, --mutex, --deadlock or --ordered");
    if (mode == MODE_UNSAFE || mode == MODE_MUTEX)
        return run_counter(mode, nthreads);
    return run_locks(mode);
}
