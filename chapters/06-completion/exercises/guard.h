/*
 * guard.h - a watchdog for exercise tests: no answer, however wrong, can
 * make a test hang.
 *
 * Criterion runs each test in a process of its own. guard_arm() sets an
 * alarm in that process; if the test is still running when it rings, the
 * handler prints "TIMED OUT after N s: <what the test was waiting for>" on
 * stderr and ends the process, so Criterion reports the test as failed and
 * the student reads which call never returned and the likely reason.
 *
 *     guard_arm(5, "bq_get() did not return after bq_close(): "
 *                  "does it check `closed` while it waits?");
 *     ... the call that could block for ever ...
 *     guard_disarm();
 *
 * Only async-signal-safe calls (write, _exit) run in the handler.
 */
#ifndef GUARD_H
#define GUARD_H

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char *guard_what;
static char guard_head[48];

static inline void guard_write(const char *s)
{
    ssize_t n = write(STDERR_FILENO, s, strlen(s));
    (void)n; /* nothing better to do in a handler that is about to exit */
}

static inline void guard_fire(int sig)
{
    (void)sig;
    guard_write(guard_head);
    guard_write(guard_what != NULL ? guard_what : "(no description)");
    guard_write("\n");
    _exit(124);
}

/** If the calling test still runs after @p seconds, report @p what and end it. */
static inline void guard_arm(unsigned seconds, const char *what)
{
    struct sigaction sa;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = guard_fire;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    snprintf(guard_head, sizeof guard_head, "\nTIMED OUT after %u s: ", seconds);
    guard_what = what;
    alarm(seconds);
}

/** The guarded part returned in time: cancel the alarm. */
static inline void guard_disarm(void)
{
    alarm(0);
}

#endif
