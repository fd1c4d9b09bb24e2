/* Tests for exercise 01-idle-timeout. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
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

Test(idle_timeout, drops_a_client_that_sends_nothing, .timeout = 10)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);

    double start = now_s();
    errno = 0;
    int rc = echo_serve_with_timeout(sv[1], 300);
    double waited = now_s() - start;

    cr_assert_eq(rc, -1);
    cr_assert_eq(errno, ETIMEDOUT, "errno is %s", strerror(errno));
    cr_assert_geq(waited, 0.25, "gave up after only %.3f s", waited);
    close(sv[0]);
    close(sv[1]);
}

/* A client that talks every 100 ms, five times, then half-closes. */
static void *chatty_client(void *arg)
{
    int fd = *(int *)arg;
    for (int i = 0; i < 5; i++) {
        pause_ms(100);
        send(fd, "ping\n", 5, MSG_NOSIGNAL);
    }
    shutdown(fd, SHUT_WR);
    return NULL;
}

Test(idle_timeout, serves_a_client_that_keeps_talking_past_the_limit,
     .timeout = 10)
{
    int sv[2];
    pthread_t client;
    char echoed[64];

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pthread_create(&client, NULL, chatty_client, &sv[0]), 0);

    /* 500 ms in total, but never 400 ms of silence. */
    int rc = echo_serve_with_timeout(sv[1], 400);
    pthread_join(client, NULL);

    cr_assert_eq(rc, 0, "errno %s", strerror(errno));
    ssize_t got = recv(sv[0], echoed, sizeof echoed, MSG_WAITALL);
    cr_assert_eq(got, 25);
    cr_assert_arr_eq(echoed, "ping\nping\nping\nping\nping\n", 25);
    close(sv[0]);
    close(sv[1]);
}
