/*
 * fib.c - naive Fibonacci, the stand-in for CPU-bound work.
 *
 * No memoisation and no loop: the point is to burn a predictable amount of
 * CPU so that the reader can watch what it does to the rest of the program.
 */
#include "fib.h"

#include <time.h>

uint64_t fib(unsigned n)
{
    if (n < 2)
        return n;
    return fib(n - 1) + fib(n - 2);
}

uint64_t fib_timed(unsigned n, double *seconds)
{
    struct timespec start, end;

    clock_gettime(CLOCK_MONOTONIC, &start);
    uint64_t value = fib(n);
    clock_gettime(CLOCK_MONOTONIC, &end);
    *seconds = (double)(end.tv_sec - start.tv_sec) +
               (double)(end.tv_nsec - start.tv_nsec) / 1e9;
    return value;
}
