/*
 * bench_threads.c - chapter 02: what a thread costs on this machine.
 *
 *   bench-threads [--csv FILE]
 *
 * Side by side in one run:
 *   - a plain function call (the floor: what "doing something" costs);
 *   - creating and joining a thread that does nothing;
 *   - a context switch: two threads ping-pong one byte over two pipes, each
 *     blocked in read() until the other writes. Once with both threads
 *     pinned to the same CPU (every hand-over is a switch on that CPU), once
 *     on two different CPUs (the hand-over is a cross-CPU wake-up);
 *   - the same function call and thread start+join in Python, through
 *     python3 (the language of asyncio), when it is installed;
 *   - memory per idle thread: the growth of the resident set while
 *     IDLE_THREADS threads sit blocked on a condition variable, and the
 *     virtual stack reserved for each.
 * Each time is the best of 3 runs: the best run is the one least disturbed
 * by other processes on the machine.
 */
#define _GNU_SOURCE /* pthread_setaffinity_np, CPU_SET */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define CALLS 10000000L
#define CREATES 2000
#define ROUND_TRIPS 20000
#define IDLE_THREADS 200

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- the floor: a function call the compiler cannot inline ---------------- */

static long add_one(long x) { return x + 1; }
static long (*volatile call_through)(long) = add_one;

static double bench_call(void)
{
    long x = 0;
    double t = now_s();
    for (long i = 0; i < CALLS; i++)
        x = call_through(x);
    t = now_s() - t;
    if (x != CALLS)
        abort();
    return t / CALLS;
}

/* ---- create + join ---------------------------------------------------------- */

static void *do_nothing(void *arg) { return arg; }

static double bench_create_join(void)
{
    double t = now_s();
    for (int i = 0; i < CREATES; i++) {
        pthread_t th;
        if (pthread_create(&th, NULL, do_nothing, NULL) != 0)
            return -1.0;
        pthread_join(th, NULL);
    }
    return (now_s() - t) / CREATES;
}

/* ---- ping-pong ---------------------------------------------------------------- */

struct pong { int in, out, cpu; };

static void pin(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static void unpin(void)
{
    cpu_set_t all;
    CPU_ZERO(&all);
    for (int i = 0; i < CPU_SETSIZE; i++)
        CPU_SET(i, &all);
    pthread_setaffinity_np(pthread_self(), sizeof all, &all);
}

static void *ponger(void *arg)
{
    struct pong *p = arg;
    char c;
    pin(p->cpu);
    for (int i = 0; i < ROUND_TRIPS; i++) {
        if (read(p->in, &c, 1) != 1 || write(p->out, &c, 1) != 1)
            break;
    }
    return NULL;
}

/* Seconds per one-way hand-over (half a round trip). */
static double bench_ping_pong(int cpu_a, int cpu_b)
{
    int to[2], from[2];
    pthread_t th;
    char c = 'x';

    if (pipe(to) < 0)
        return -1.0;
    if (pipe(from) < 0) {
        close(to[0]);
        close(to[1]);
        return -1.0;
    }
    struct pong p = {to[0], from[1], cpu_b};
    pin(cpu_a);
    pthread_create(&th, NULL, ponger, &p);
    double t = now_s();
    for (int i = 0; i < ROUND_TRIPS; i++) {
        if (write(to[1], &c, 1) != 1 || read(from[0], &c, 1) != 1)
            break;
    }
    t = now_s() - t;
    pthread_join(th, NULL);
    close(to[0]);
    close(to[1]);
    close(from[0]);
    close(from[1]);
    unpin();
    return t / ROUND_TRIPS / 2;
}

/* ---- memory per idle thread ---------------------------------------------------- */

static pthread_mutex_t idle_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t idle_wake = PTHREAD_COND_INITIALIZER;
static int idle_release;

static void *idle(void *arg)
{
    pthread_mutex_lock(&idle_lock);
    while (!idle_release)
        pthread_cond_wait(&idle_wake, &idle_lock);
    pthread_mutex_unlock(&idle_lock);
    return arg;
}

static long rss_kib(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f == NULL)
        return -1;
    if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static double bench_idle_memory(size_t *stack_bytes)
{
    pthread_t th[IDLE_THREADS];
    pthread_attr_t attr;
    int n = 0;

    pthread_attr_init(&attr);
    pthread_attr_getstacksize(&attr, stack_bytes);
    pthread_attr_destroy(&attr);
    long before = rss_kib();
    for (; n < IDLE_THREADS; n++)
        if (pthread_create(&th[n], NULL, idle, NULL) != 0)
            break;
    usleep(200000); /* let every thread reach its wait */
    long after = rss_kib();
    pthread_mutex_lock(&idle_lock);
    idle_release = 1;
    pthread_cond_broadcast(&idle_wake);
    pthread_mutex_unlock(&idle_lock);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return n > 0 ? (double)(after - before) / n : -1.0;
}

/* ---- the same in Python, the language of asyncio ----------------------------- */

/* Seconds per operation measured by python3 (best of 3), or -1 without it. */
static double python_per_op(const char *what)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import threading, time\n"
             "def f(): pass\n"
             "def create(n):\n"
             "    for _ in range(n):\n"
             "        t = threading.Thread(target=f); t.start(); t.join()\n"
             "def call(n):\n"
             "    for _ in range(n): f()\n"
             "n = 2000 if \"%s\" == \"create\" else 1000000\n"
             "best = 1e9\n"
             "for _ in range(3):\n"
             "    t = time.perf_counter(); %s(n)\n"
             "    best = min(best, (time.perf_counter() - t) / n)\n"
             "print(best)' 2>/dev/null",
             what, what);
    FILE *p = popen(cmd, "r");
    double s = -1.0;
    if (p == NULL)
        return -1.0;
    if (fscanf(p, "%lf", &s) != 1)
        s = -1.0;
    pclose(p);
    return s;
}

/* ---- report ---------------------------------------------------------------------- */

static void cpu_model(char *out, size_t len)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    snprintf(out, len, "unknown CPU");
    while (f != NULL && fgets(line, sizeof line, f) != NULL) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon != NULL) {
            snprintf(out, len, "%s", colon + 2);
            out[strcspn(out, "\n")] = '\0';
            break;
        }
    }
    if (f != NULL)
        fclose(f);
}

static double best_of_3(double (*f)(void))
{
    double best = f();
    for (int i = 0; i < 2; i++) {
        double t = f();
        if (t >= 0 && (best < 0 || t < best))
            best = t;
    }
    return best;
}

static double ping_same(void) { return bench_ping_pong(0, 0); }
static double ping_across(void) { return bench_ping_pong(0, 1); }

static void csv_row(FILE *f, const char *cpu, const char *date,
                    const char *measure, double value, const char *unit)
{
    fprintf(f, "\"%s\",\"gcc %s\",%s,%s,%.1f,%s\n", cpu, __VERSION__, date,
            measure, value, unit);
}

int main(int argc, char **argv)
{
    const char *csv_path = NULL;
    if (argc == 3 && strcmp(argv[1], "--csv") == 0) {
        csv_path = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench-threads [--csv FILE]\n");
        return 2;
    }

    struct utsname u;
    char cpu[128], date[32];
    time_t now = time(NULL);
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    uname(&u);
    cpu_model(cpu, sizeof cpu);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    printf("what a thread costs, best of 3 runs\nmachine: %s, %ld CPUs, %s %s\n"
           "compiler: gcc %s\ndate: %s\n\n", cpu, ncpu, u.sysname, u.release,
           __VERSION__, date);

    double call = best_of_3(bench_call);
    double create = best_of_3(bench_create_join);
    double same = best_of_3(ping_same);
    double across = ncpu > 1 ? best_of_3(ping_across) : -1.0;
    size_t stack = 0;
    double kib = bench_idle_memory(&stack);
    double py_call = python_per_op("call");
    double py_create = python_per_op("create");

    printf("%-36s %12s %12s\n", "operation", "ns", "x call");
    printf("%-36s %12.1f %12.0f\n", "function call (the floor)", call * 1e9, 1.0);
    printf("%-36s %12.1f %12.0f\n", "thread create + join", create * 1e9,
           create / call);
    printf("%-36s %12.1f %12.0f\n", "switch, same CPU (pipe ping-pong)",
           same * 1e9, same / call);
    if (across >= 0)
        printf("%-36s %12.1f %12.0f\n", "hand-over across CPUs", across * 1e9,
               across / call);
    else
        printf("%-36s %12s\n", "hand-over across CPUs", "(1 CPU)");
    if (py_call >= 0 && py_create >= 0) {
        printf("%-36s %12.1f %12.0f\n", "Python: function call", py_call * 1e9,
               py_call / call);
        printf("%-36s %12.1f %12.0f\n", "Python: Thread start + join",
               py_create * 1e9, py_create / call);
    } else {
        printf("(python3 not found: no Python rows)\n");
    }
    printf("\nidle thread: %.1f KiB resident each (%d threads), %zu KiB of "
           "stack reserved each\n", kib, IDLE_THREADS, stack / 1024);

    if (csv_path != NULL) {
        FILE *f = fopen(csv_path, "w");
        if (f == NULL) {
            perror(csv_path);
            return 1;
        }
        fprintf(f, "machine,compiler,date,measure,value,unit\n");
        csv_row(f, cpu, date, "function_call", call * 1e9, "ns");
        csv_row(f, cpu, date, "create_join", create * 1e9, "ns");
        csv_row(f, cpu, date, "switch_same_cpu", same * 1e9, "ns");
        if (across >= 0)
            csv_row(f, cpu, date, "handover_across_cpus", across * 1e9, "ns");
        if (py_call >= 0 && py_create >= 0) {
            csv_row(f, cpu, date, "python_function_call", py_call * 1e9, "ns");
            csv_row(f, cpu, date, "python_thread_start_join", py_create * 1e9,
                    "ns");
        }
        csv_row(f, cpu, date, "idle_thread_rss", kib, "KiB");
        csv_row(f, cpu, date, "thread_stack_reserved", (double)(stack / 1024),
                "KiB");
        fclose(f);
        printf("CSV: %s\n", csv_path);
    }
    return 0;
}
