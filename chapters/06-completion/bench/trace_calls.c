/*
 * trace_calls.c - a call recorder for a program built with
 * -finstrument-functions (bench/trace_line.sh uses it).
 *
 * The compiler makes every instrumented function call
 * __cyg_profile_func_enter(this_fn, call_site) on entry. This file keeps
 * one record per entry in memory (a time, the function, where it was
 * called from, which thread) and writes them all at exit to the file named
 * by $TRACE_OUT, one line each: "nanoseconds function call_site thread",
 * addresses relative to the executable's load address, so that
 * `addr2line -f -e PROGRAM` names them. Writing at exit, not as it goes,
 * keeps the recorder's own I/O out of the program's timing and system
 * calls. The program itself is not changed: only the build is.
 *
 * Not part of the runtime; never instrumented itself.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NO_TRACE __attribute__((no_instrument_function))

enum { MAX_RECORDS = 1 << 20 };

typedef struct record {
    uint64_t ns;
    uintptr_t fn;
    uintptr_t site;
    unsigned thread;
} record_t;

static record_t records[MAX_RECORDS];
static atomic_size_t used;
static atomic_uint threads;
static _Thread_local unsigned thread_id; /* 0: not numbered yet */

void __cyg_profile_func_enter(void *fn, void *site) NO_TRACE;
void __cyg_profile_func_exit(void *fn, void *site) NO_TRACE;

void __cyg_profile_func_enter(void *fn, void *site)
{
    struct timespec ts;
    size_t i = atomic_fetch_add(&used, 1);

    if (i >= MAX_RECORDS)
        return;
    if (thread_id == 0)
        thread_id = atomic_fetch_add(&threads, 1) + 1;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    records[i] = (record_t){(uint64_t)ts.tv_sec * 1000000000u +
                                (uint64_t)ts.tv_nsec,
                            (uintptr_t)fn, (uintptr_t)site, thread_id};
}

void __cyg_profile_func_exit(void *fn, void *site)
{
    (void)fn;
    (void)site;
}

/* At exit: the records, relative to the executable's load address. */
static void NO_TRACE dump(void) __attribute__((destructor));

static void dump(void)
{
    const char *path = getenv("TRACE_OUT");
    Dl_info info;
    FILE *out;
    size_t n = atomic_load(&used);

    if (path == NULL || (out = fopen(path, "w")) == NULL)
        return;
    if (dladdr((void *)dump, &info) == 0)
        info.dli_fbase = NULL;
    uintptr_t base = (uintptr_t)info.dli_fbase;
    if (n > MAX_RECORDS) {
        fprintf(stderr, "trace_calls: %zu calls, kept the first %d\n", n,
                MAX_RECORDS);
        n = MAX_RECORDS;
    }
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%llu %#llx %#llx %u\n", (unsigned long long)records[i].ns,
                (unsigned long long)(records[i].fn - base),
                (unsigned long long)(records[i].site - base),
                records[i].thread);
    fclose(out);
}
