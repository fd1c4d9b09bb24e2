/*
 * bench_fib.c - chapter 01's benchmark: how long is "CPU-bound"?
 *
 * Every later chapter juggles fib(n) against a timer. This measures, in one
 * run, what fib(n) costs here in C and in CPython (the Python that runs
 * asyncio), so the text can say how large n must be before a computation
 * blocks a loop for a noticeable time, and by how much C and Python differ.
 *
 * It counts CPU time (the processor time this process used), not elapsed
 * time: on a machine that other programs keep busy, a run of a tenth of a
 * second is interrupted and its elapsed time grows several fold, more for
 * the long Python runs than for the short C ones, so that the ratio says
 * more about the other programs than about the two languages. For fib,
 * which never waits, CPU time on a quiet machine is the elapsed time.
 *
 *   bench-fib [--csv FILE]
 */
#include "fib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>

static const unsigned ns[] = {20, 25, 28, 30, 32, 35, 38, 40};
#define PYTHON_MAX_N 30 /* beyond this CPython needs seconds per run */

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double best_of_3_c(unsigned n)
{
    double best = 1e9;
    for (int i = 0; i < 3; i++) {
        double start = cpu_seconds();
        volatile uint64_t sink = fib(n);
        double s = cpu_seconds() - start;
        (void)sink;
        if (s < best)
            best = s;
    }
    return best;
}

/* The same naive fib in CPython, timed inside Python so that start-up
 * is not counted, in CPU time as the C is (time.process_time()). Returns
 * seconds, or -1 if python3 is not available. */
static double best_of_3_python(unsigned n)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "python3 -c 'import time\n"
             "def fib(n): return n if n < 2 else fib(n-1) + fib(n-2)\n"
             "best = 1e9\n"
             "for _ in range(3):\n"
             "    t = time.process_time(); fib(%u)\n"
             "    best = min(best, time.process_time() - t)\n"
             "print(best)' 2>/dev/null",
             n);
    FILE *p = popen(cmd, "r");
    double s = -1.0;
    if (p == NULL)
        return -1.0;
    if (fscanf(p, "%lf", &s) != 1)
        s = -1.0;
    pclose(p);
    return s;
}

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

int main(int argc, char **argv)
{
    const char *csv_path = NULL;
    if (argc == 3 && strcmp(argv[1], "--csv") == 0) {
        csv_path = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench-fib [--csv FILE]\n");
        return 2;
    }

    struct utsname u;
    char cpu[128], date[32];
    time_t now = time(NULL);
    uname(&u);
    cpu_model(cpu, sizeof cpu);
    strftime(date, sizeof date, "%Y-%m-%d", gmtime(&now));
    printf("fib(n), CPU time, best of 3 runs\nmachine: %s, %s %s\ncompiler: gcc %s\n"
           "date: %s\n\n", cpu, u.sysname, u.release, __VERSION__, date);

    FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
    if (csv_path && csv == NULL) {
        perror(csv_path);
        return 1;
    }
    if (csv)
        fprintf(csv, "n,c_seconds,python_seconds,python_over_c\n");
    printf("%4s  %12s  %12s  %10s\n", "n", "C (s)", "CPython (s)",
           "Python / C");
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        double c = best_of_3_c(ns[i]);
        double py = ns[i] <= PYTHON_MAX_N ? best_of_3_python(ns[i]) : -1.0;
        if (py > 0) {
            printf("%4u  %12.6f  %12.6f  %9.0fx\n", ns[i], c, py, py / c);
        } else {
            printf("%4u  %12.6f  %12s  %10s\n", ns[i], c, "-", "-");
        }
        if (csv)
            fprintf(csv, "%u,%.9f,%.9f,%.1f\n", ns[i], c, py,
                    py > 0 ? py / c : -1.0);
    }
    if (csv) {
        fclose(csv);
        printf("\nCSV: %s\n", csv_path);
    }
    printf("(- : CPython is not run above n=%d; it would take seconds)\n",
           PYTHON_MAX_N);
    return 0;
}
