/* Tests for exercise 01-idle-timeout: the answer serves one end of a
 * socketpair; the test plays the client on the other end. */
#include "exercise.h"

#include "guard.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* The likely reason for a wrong errno, in words. */
static const char *why_not_etimedout(int err)
{
    if (err == EAGAIN || err == EWOULDBLOCK)
        return ". EAGAIN is what a timed-out recv() leaves: report it as "
               "ETIMEDOUT";
    if (err == EDOM)
        return ". EDOM: setsockopt() refused the timeout, as tv_usec must be "
               "below 1000000";
    return "";
}

/* Serve a client that never sends a byte; check that the answer gave up
 * with ETIMEDOUT, not before the limit and not long after it. */
static void expect_dropped_after(int idle_ms)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    double start = now_s();
    errno = 0;
    guard_arm(8, "echo_serve_with_timeout() never returned for a client that "
                 "sends nothing: does every recv() give up after idle_ms? "
                 "(A timeout of zero seconds and zero microseconds means no "
                 "timeout at all: are the milliseconds below one second "
                 "lost?)");
    int rc = echo_serve_with_timeout(sv[1], idle_ms);
    int err = errno;
    guard_disarm();
    double waited = now_s() - start;

    cr_assert_eq(rc, -1, "echo_serve_with_timeout() returned %d for a client "
                 "that never sent a byte; it must give up with -1", rc);
    cr_assert_eq(err, ETIMEDOUT, "after giving up, errno is %s (%d); it must "
                 "be ETIMEDOUT%s", strerror(err), err, why_not_etimedout(err));
    cr_assert_geq(waited, idle_ms / 1000.0 * 0.9, "gave up after %.3f s, "
                  "before the %d ms limit: are the milliseconds beyond the "
                  "whole seconds lost?", waited, idle_ms);
    cr_assert_lt(waited, idle_ms / 1000.0 + 2.0, "gave up after %.3f s for a "
                 "%d ms limit: far too late", waited, idle_ms);
    close(sv[0]);
    close(sv[1]);
}

Test(idle_timeout, drops_a_client_that_sends_nothing)
{
    expect_dropped_after(300);
}

Test(idle_timeout, works_with_a_limit_over_one_second)
{
    expect_dropped_after(1200);
}

Test(idle_timeout, echoes_what_came_before_the_silence)
{
    int sv[2];
    char echoed[16] = {0};

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(send(sv[0], "hello\n", 6, MSG_NOSIGNAL), 6);

    guard_arm(8, "echo_serve_with_timeout() never returned for a client that "
                 "sent one line and then nothing: does every recv() give up "
                 "after idle_ms?");
    errno = 0;
    int rc = echo_serve_with_timeout(sv[1], 300);
    int err = errno;
    guard_disarm();

    cr_assert_eq(rc, -1, "returned %d for a client that fell silent; it must "
                 "give up with -1", rc);
    cr_assert_eq(err, ETIMEDOUT, "errno is %s; it must be ETIMEDOUT%s",
                 strerror(err), why_not_etimedout(err));
    ssize_t got = recv(sv[0], echoed, sizeof echoed, MSG_DONTWAIT);
    cr_assert(got == 6 && memcmp(echoed, "hello\n", 6) == 0,
              "the line the client sent before falling silent was not echoed "
              "back (got %zd bytes): echo first, then give up", got);
    close(sv[0]);
    close(sv[1]);
}

/* A client that talks every 100 ms, ten times, then half-closes. */
static void *chatty_client(void *arg)
{
    int fd = *(int *)arg;
    for (int i = 0; i < 10; i++) {
        pause_ms(100);
        send(fd, "ping\n", 5, MSG_NOSIGNAL);
    }
    shutdown(fd, SHUT_WR);
    return NULL;
}

Test(idle_timeout, serves_a_client_that_keeps_talking_past_the_limit)
{
    int sv[2];
    pthread_t client;
    char echoed[128];

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pthread_create(&client, NULL, chatty_client, &sv[0]), 0);

    /* A second in total, but never 600 ms of silence (the margin is for a
     * loaded machine). */
    guard_arm(10, "echo_serve_with_timeout() did not return after the client "
                  "shut down its side: does it still end on end of stream?");
    errno = 0;
    int rc = echo_serve_with_timeout(sv[1], 600);
    int err = errno;
    guard_disarm();
    pthread_join(client, NULL);

    cr_assert_eq(rc, 0, "returned %d (errno %s) for a client that talked "
                 "every 100 ms with a 600 ms limit: the limit is on silence, "
                 "not on the whole conversation", rc, strerror(err));
    ssize_t got = recv(sv[0], echoed, sizeof echoed, MSG_DONTWAIT);
    cr_assert_eq(got, 50, "the client sent 50 bytes and got %zd back", got);
    close(sv[0]);
    close(sv[1]);
}

/* A client that sends a line, waits for its echo, then closes without
 * reading it: on a stream socketpair the server's next recv() fails with
 * ECONNRESET, an error that is not a timeout. */
static void *resetting_client(void *arg)
{
    int fd = *(int *)arg;
    struct pollfd p = {.fd = fd, .events = POLLIN};

    send(fd, "hello\n", 6, MSG_NOSIGNAL);
    poll(&p, 1, 5000);
    close(fd);
    return NULL;
}

Test(idle_timeout, leaves_other_errors_as_they_are)
{
    int sv[2];
    pthread_t client;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pthread_create(&client, NULL, resetting_client, &sv[0]), 0);

    guard_arm(10, "echo_serve_with_timeout() did not return after the client "
                  "reset the connection: does it still return on errors?");
    errno = 0;
    int rc = echo_serve_with_timeout(sv[1], 3000);
    int err = errno;
    guard_disarm();
    pthread_join(client, NULL);

    cr_assert_eq(rc, -1, "returned %d for a client that reset the "
                 "connection; it must fail with -1 as echo_serve() does", rc);
    cr_assert_eq(err, ECONNRESET, "the client reset the connection long "
                 "before the limit, and errno is %s; it must be ECONNRESET, "
                 "as echo_serve() left it: only a silent client is a timeout, "
                 "every other error keeps its own errno", strerror(err));
    close(sv[1]);
}
