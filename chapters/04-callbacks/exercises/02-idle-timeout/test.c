/* Tests for exercise 02-idle-timeout, on a fake clock and a socketpair. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

static double fake_now_s;

static double fake_clock(void *arg)
{
    (void)arg;
    return fake_now_s;
}

static void nothing(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/* A few iterations at the current fake time, never waiting. */
static void run_at(loop_t *loop, double t)
{
    fake_now_s = t;
    for (int i = 0; i < 5; i++) {
        loop_call_soon(loop, nothing, NULL);
        loop_run_once(loop);
    }
}

static loop_t *setup(int sv[2])
{
    loop_options_t opt = {.clock = fake_clock};
    fake_now_s = 0;
    loop_t *loop = loop_create(&opt);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    cr_assert_not_null(transport_create(loop, sv[0], &idle_echo_protocol,
                                        idle_echo_factory(NULL)));
    return loop;
}

/* 1: the peer saw end of file; 0: still open; the echo is drained. */
static int peer_sees_close(int fd)
{
    char buf[256];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0)
        ;
    return n == 0;
}

Test(idle_timeout, a_silent_connection_is_closed_after_the_timeout,
     .timeout = 10)
{
    int sv[2];
    loop_t *loop = setup(sv);

    run_at(loop, IDLE_TIMEOUT_S - 1);
    cr_assert_not(peer_sees_close(sv[1]), "closed too early");
    run_at(loop, IDLE_TIMEOUT_S);
    cr_assert(peer_sees_close(sv[1]), "not closed after the timeout");
    cr_assert_eq(loop_timer_count(loop), 0);
    loop_destroy(loop);
    close(sv[1]);
}

Test(idle_timeout, data_pushes_the_deadline_back, .timeout = 10)
{
    int sv[2];
    loop_t *loop = setup(sv);

    run_at(loop, 6);
    cr_assert_eq(write(sv[1], "hi", 2), 2);
    run_at(loop, 6);
    run_at(loop, 6 + IDLE_TIMEOUT_S - 1); /* 15: 9 s after the data */
    cr_assert_not(peer_sees_close(sv[1]),
                  "closed 10 s after the first data, not the last");
    run_at(loop, 6 + IDLE_TIMEOUT_S);
    cr_assert(peer_sees_close(sv[1]), "not closed 10 s after the data");
    loop_destroy(loop);
    close(sv[1]);
}

Test(idle_timeout, a_connection_that_ends_early_leaves_no_timer_behind,
     .timeout = 10)
{
    int sv[2];
    loop_t *loop = setup(sv);

    run_at(loop, 1);
    close(sv[1]); /* the client leaves: end of file, connection lost */
    run_at(loop, 2);
    cr_assert_eq(loop_timer_count(loop), 0,
                 "the idle timer is still armed, inside freed memory");
    run_at(loop, 2 * IDLE_TIMEOUT_S);
    loop_destroy(loop);
}

/* A TCP connection on loopback: sv[0] the server's end (nonblocking, under
 * a transport), sv[1] the client's. */
static loop_t *setup_tcp(int sv[2])
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    loop_options_t opt = {.clock = fake_clock};
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(lfd, 1), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
    sv[1] = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(sv[1], (struct sockaddr *)&addr, sizeof addr), 0);
    sv[0] = accept(lfd, NULL, NULL);
    cr_assert_geq(sv[0], 0);
    close(lfd);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fake_now_s = 0;
    loop_t *loop = loop_create(&opt);
    cr_assert_not_null(transport_create(loop, sv[0], &idle_echo_protocol,
                                        idle_echo_factory(NULL)));
    return loop;
}

/* The same, when the connection ends in a reset: no end of file reaches
 * the protocol, and connection_lost() gets an error (ECONNRESET). The
 * timer must go however the connection ended. */
Test(idle_timeout, a_connection_ended_by_a_reset_leaves_no_timer_behind,
     .timeout = 10)
{
    int sv[2];
    loop_t *loop = setup_tcp(sv);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};

    run_at(loop, 1);
    cr_assert_eq(write(sv[1], "hi", 2), 2);
    run_at(loop, 1);
    cr_assert_eq(setsockopt(sv[1], SOL_SOCKET, SO_LINGER, &reset,
                            sizeof reset), 0);
    close(sv[1]); /* closed with linger 0: the kernel sends a reset */
    run_at(loop, 2);
    cr_assert_eq(loop_timer_count(loop), 0,
                 "after a reset the idle timer is still armed, inside "
                 "freed memory");
    run_at(loop, 2 * IDLE_TIMEOUT_S); /* past the deadline: nothing fires */
    loop_destroy(loop);
}
