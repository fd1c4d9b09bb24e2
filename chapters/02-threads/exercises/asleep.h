/*
 * asleep.h - what the kernel says about a test's thread: is it asleep yet,
 * and how often has it woken up. Given, for the tests of this chapter's
 * exercises; Linux only (it reads /proc/self/task/TID/).
 *
 * "The call must block" cannot be tested with a fixed pause: on a loaded
 * machine a thread just created may not even have reached the call when
 * the pause ends, and the test then tests nothing (or fails a right
 * answer). Waiting until the kernel shows the thread asleep does not
 * depend on how busy the machine is.
 *
 * A test that includes this header defines _GNU_SOURCE before its first
 * #include (for syscall(SYS_gettid)). The thread under test stores
 * asleep_tid() in an atomic_int that starts at 0; the test thread passes
 * that atomic_int here.
 */
#ifndef ASLEEP_H
#define ASLEEP_H

#ifndef _GNU_SOURCE
#error "asleep.h: define _GNU_SOURCE before the first #include"
#endif

#include <dirent.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/** @brief Sleep @p ms milliseconds. */
static inline void asleep_pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/** @brief The kernel's id of the calling thread (its /proc/self/task/ entry). */
static inline int asleep_tid(void)
{
    return (int)syscall(SYS_gettid);
}

/* The state letter of thread @p tid (R, S, D, ...), or 0 if it has ended. */
static inline char asleep_state_(int tid)
{
    char path[64], stat[512];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    size_t n = fread(stat, 1, sizeof stat - 1, f);
    fclose(f);
    stat[n] = '\0';
    const char *end = strrchr(stat, ')'); /* after the name */
    return end != NULL && end[1] == ' ' ? end[2] : '?';
}

/**
 * @brief How many times the thread @p tid has gone to sleep of its own
 * accord so far (voluntary_ctxt_switches in /proc), or -1 when it cannot
 * be read. A thread asleep in pthread_cond_wait() adds none while nobody
 * signals it; one that polls (sleeps a little, looks again) adds one per
 * look.
 */
static inline long asleep_wakeups(int tid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/self/task/%d/status", tid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return -1;
    long n = -1;
    while (fgets(line, sizeof line, f) != NULL)
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

/**
 * @brief Wait until the thread whose id @p tid holds (0 until it has
 * stored it) is asleep, in state S (blocked in a wait), or has ended; for
 * at most 5 s, then 0.3 s more, so that a wrong answer that would get past
 * its wait has the time to show it.
 */
static inline void asleep_wait(atomic_int *tid)
{
    for (int i = 0; i < 1000; i++) {
        int t = atomic_load(tid);
        char state = t > 0 ? asleep_state_(t) : '?';
        if (state == 0 || state == 'S')
            break; /* the thread has ended, or sleeps */
        asleep_pause_ms(5);
    }
    asleep_pause_ms(300);
}

/* Sum of asleep_wakeups() over the process's threads but the caller;
 * @p all_asleep (if not NULL) says whether each of them is in state S. */
static inline long asleep_others_(int *all_asleep)
{
    DIR *d = opendir("/proc/self/task");
    if (d == NULL)
        return -1;
    int self = asleep_tid();
    long sum = 0;
    if (all_asleep != NULL)
        *all_asleep = 1;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int t = atoi(e->d_name);
        if (t <= 0 || t == self)
            continue;
        long n = asleep_wakeups(t);
        sum += n > 0 ? n : 0; /* one that just ended counts no more */
        char state = asleep_state_(t);
        if (all_asleep != NULL && state != 0 && state != 'S')
            *all_asleep = 0;
    }
    closedir(d);
    return sum;
}

/**
 * @brief As asleep_wait(), for every thread of the process but the caller
 * (threads the test did not start itself, such as a pool's workers).
 */
static inline void asleep_wait_others(void)
{
    for (int i = 0; i < 1000; i++) {
        int all_asleep;
        if (asleep_others_(&all_asleep) < 0 || all_asleep)
            break;
        asleep_pause_ms(5);
    }
    asleep_pause_ms(300);
}

/**
 * @brief asleep_wakeups() summed over every thread of the process but the
 * caller, or -1 when /proc/self/task cannot be read.
 */
static inline long asleep_wakeups_of_others(void)
{
    return asleep_others_(NULL);
}

#endif
