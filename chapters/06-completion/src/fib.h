/**
 * @file fib.h
 * @brief The CPU-bound work of the `hello` program: naive recursive Fibonacci.
 *
 * fib is exponential on purpose. It stands for any computation that keeps
 * the CPU busy and never waits for I/O: the one kind of work that no event
 * loop can hide. Every chapter copies this file unchanged.
 */
#ifndef FIB_H
#define FIB_H

#include <stdint.h>

/**
 * @brief Largest n that `hello` accepts.
 *
 * fib(n) makes about 1.6^n calls, so each step up multiplies the time by
 * 1.6. With -O2 on a 2020s x86-64 core fib(40) takes about 0.2 s and
 * fib(45) about 2 s; fib(50) would take over 20 s. The cap keeps a typo from
 * freezing the program for minutes. fib(93) is the largest that fits in
 * 64 bits, so the cap also keeps the result exact.
 */
#define FIB_MAX_N 45

/**
 * @brief fib(n) by the textbook double recursion: fib(0)=0, fib(1)=1.
 * @param n any value up to 93 gives an exact result; large n take very long.
 * @return fib(n).
 * @note Pure function; safe from any thread.
 */
uint64_t fib(unsigned n);

/**
 * @brief fib(n), and how long it took by the monotonic clock.
 * @param n as for fib().
 * @param[out] seconds wall-clock seconds the computation took.
 * @return fib(n).
 */
uint64_t fib_timed(unsigned n, double *seconds);

#endif
