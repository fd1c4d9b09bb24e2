/*
 * test.c - exercise 02-idle-timeout: the echo protocol with an idle
 * timeout, on the fake clock (exercises/fakeclock.h) and socketpairs, so
 * the tests take no time. Connections end in every way a real one can:
 * the timeout, the client closing, the client resetting the connection.
 */
#include "exercise.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakeclock.h"
#include "guard.h"

#define GUARD_S 20
#define GUARD_WHAT "the test did not finish: does a callback of your " \
                   "answer loop for ever?"

/* The server's end of the last connection made (under a transport). */
static int server_fd = -1;

/* A connection under idle_echo_protocol: the server's end (under a
 * transport) is the first socket of a pair, the client's end returned. */
static int connect_one(loop_t *loop)
{
    int sv[2];

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    void *state = idle_echo_factory(NULL);
    cr_assert_not_null(state, "idle_echo_factory() returned NULL");
    cr_assert_not_null(transport_create(loop, sv[0], &idle_echo_protocol,
                                        state));
    server_fd = sv[0];
    return sv[1];
}

/* Run the loop one iteration at a time, at @p t_s, until the transport
 * has closed the server's end: its connection_lost() has returned and
 * the state is freed. Stopping right there matters: a timer left armed in
 * the freed state would be read by the loop's next iteration. */
static void run_until_lost(loop_t *loop, double t_s)
{
    fakeclock_now_s = t_s;
    for (int i = 0; i < 20 && fcntl(server_fd, F_GETFD) >= 0; i++) {
        loop_call_soon(loop, fakeclock_nothing, NULL);
        loop_run_once(loop);
    }
    cr_assert_lt(fcntl(server_fd, F_GETFD), 0, "the connection ended, but "
                 "its transport was never closed (connection_lost() did "
                 "not return?)");
}

/* 1 if the client has read end of file (its connection was closed), 0 if
 * it is still open. Whatever echo is waiting is read and thrown away. */
static int closed(int client)
{
    char buf[256];
    ssize_t n;

    while ((n = read(client, buf, sizeof buf)) > 0)
        ;
    return n == 0;
}

/* At @p t_s, the client sends two bytes; 0 if the connection was already
 * closed then (nothing sent). */
static int send_at(loop_t *loop, int client, double t_s)
{
    fakeclock_run_at(loop, t_s);
    if (closed(client))
        return 0;
    cr_assert_eq(send(client, "hi", 2, MSG_NOSIGNAL), 2);
    fakeclock_run_at(loop, t_s);
    return 1;
}

Test(idle_timeout, every_byte_is_echoed)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int client = connect_one(loop);
    char buf[16] = {0};

    cr_assert_eq(write(client, "hello", 5), 5);
    fakeclock_run_at(loop, 1);
    cr_assert_eq(read(client, buf, sizeof buf), 5,
                 "the echo did not come back: data_received() must still "
                 "write the bytes back");
    cr_assert_str_eq(buf, "hello");
    loop_destroy(loop);
    close(client);
    guard_disarm();
}

Test(idle_timeout, a_silent_connection_is_closed_after_the_timeout)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int client = connect_one(loop);

    fakeclock_run_at(loop, IDLE_TIMEOUT_S - 0.5);
    cr_assert_not(closed(client), "a silent connection was closed after "
                  "%g s, before the %g s idle timeout",
                  IDLE_TIMEOUT_S - 0.5, IDLE_TIMEOUT_S);
    fakeclock_run_at(loop, IDLE_TIMEOUT_S);
    cr_assert(closed(client), "a connection silent since it was made is "
              "still open %g s later: nothing closes an idle connection",
              IDLE_TIMEOUT_S);
    cr_assert_eq(loop_timer_count(loop), 0, "the connection was closed by "
                 "its timeout, but a timer is still armed");
    loop_destroy(loop);
    close(client);
    guard_disarm();
}

Test(idle_timeout, data_pushes_the_deadline_back)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int client = connect_one(loop);

    cr_assert(send_at(loop, client, 6), "closed before 6 s");
    fakeclock_run_at(loop, 6 + IDLE_TIMEOUT_S - 0.5);
    cr_assert_not(closed(client), "data came at 6 s, and the connection "
                  "was closed at %g s, before 6 + %g s: data must push the "
                  "deadline back", 6 + IDLE_TIMEOUT_S - 0.5, IDLE_TIMEOUT_S);
    fakeclock_run_at(loop, 6 + IDLE_TIMEOUT_S);
    cr_assert(closed(client), "data came at 6 s, and the connection was "
              "still open at 6 + %g s: the new deadline did not fire",
              IDLE_TIMEOUT_S);
    loop_destroy(loop);
    close(client);
    guard_disarm();
}

Test(idle_timeout, the_deadline_counts_from_the_last_data)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int client = connect_one(loop);

    for (double t = 3; t < 15; t += 5.5) /* data at 3, 8.5 and 14 s */
        cr_assert(send_at(loop, client, t), "data came at 3 and 8.5 s, and "
                  "the connection was closed before %g s: the deadline must "
                  "count from the last data received, not the first", t);
    fakeclock_run_at(loop, 14 + IDLE_TIMEOUT_S - 0.5);
    cr_assert_not(closed(client), "data came at 3, 8.5 and 14 s, and the "
                  "connection was closed before 14 + %g s: the deadline "
                  "must count from the last data received, not the first",
                  IDLE_TIMEOUT_S);
    fakeclock_run_at(loop, 14 + IDLE_TIMEOUT_S);
    cr_assert(closed(client), "data came at 3, 8.5 and 14 s, and the "
              "connection was still open at 14 + %g s", IDLE_TIMEOUT_S);
    loop_destroy(loop);
    close(client);
    guard_disarm();
}

Test(idle_timeout, two_connections_keep_their_own_deadlines)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int a = connect_one(loop);

    fakeclock_run_at(loop, 4);
    int b = connect_one(loop);
    fakeclock_run_at(loop, IDLE_TIMEOUT_S);
    int a_closed = closed(a), b_closed_early = closed(b);
    fakeclock_run_at(loop, 4 + IDLE_TIMEOUT_S);
    int b_closed = b_closed_early || closed(b);

    cr_assert(a_closed || !b_closed, "connection A (made at 0 s) was still "
              "open at %g s, and B (made at 4 s) was closed at %g s: one "
              "timer shared by all connections? Each connection needs its "
              "own", IDLE_TIMEOUT_S, 4 + IDLE_TIMEOUT_S);
    cr_assert(a_closed, "connection A (made at 0 s) was still open at %g s",
              IDLE_TIMEOUT_S);
    cr_assert_not(b_closed_early, "connection B (made at 4 s) was closed at "
                  "%g s, with A: each connection needs its own deadline",
                  IDLE_TIMEOUT_S);
    cr_assert(b_closed, "connection B (made at 4 s) was still open at %g s",
              4 + IDLE_TIMEOUT_S);
    loop_destroy(loop);
    close(a);
    close(b);
    guard_disarm();
}

Test(idle_timeout, a_connection_the_client_closes_leaves_no_timer_behind)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int client = connect_one(loop);

    cr_assert(send_at(loop, client, 1), "closed before 1 s");
    /* Read the echo first: a socket closed with unread bytes resets the
     * connection instead of ending it. */
    cr_assert_not(closed(client), "closed at 1 s");
    close(client); /* end of file, then connection_lost(0) */
    run_until_lost(loop, 2);
    cr_assert_eq(loop_timer_count(loop), 0, "the client closed and "
                 "connection_lost() ran, but a timer is still armed after "
                 "the connection was lost: it would fire later on the "
                 "freed state");
    fakeclock_run_at(loop, 3 * IDLE_TIMEOUT_S); /* nothing may fire */
    loop_destroy(loop);
    guard_disarm();
}

/* A TCP connection on loopback, so that the client can reset it; returns
 * the client's socket. */
static int connect_tcp(loop_t *loop)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t len = sizeof addr;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(bind(lfd, (struct sockaddr *)&addr, sizeof addr), 0);
    cr_assert_eq(listen(lfd, 1), 0);
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&addr, &len), 0);
    int client = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(client, (struct sockaddr *)&addr, sizeof addr), 0);
    int server = accept(lfd, NULL, NULL);
    cr_assert_geq(server, 0);
    close(lfd);
    fcntl(server, F_SETFL, O_NONBLOCK);
    fcntl(client, F_SETFL, O_NONBLOCK);
    cr_assert_not_null(transport_create(loop, server, &idle_echo_protocol,
                                        idle_echo_factory(NULL)));
    server_fd = server;
    return client;
}

Test(idle_timeout, a_connection_ended_by_a_reset_leaves_no_timer_behind)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    loop_t *loop = fakeclock_loop();
    int client = connect_tcp(loop);
    struct linger reset = {.l_onoff = 1, .l_linger = 0};

    cr_assert(send_at(loop, client, 1), "closed before 1 s");
    cr_assert_eq(setsockopt(client, SOL_SOCKET, SO_LINGER, &reset,
                            sizeof reset), 0);
    close(client); /* linger 0: a reset, no end of file */
    run_until_lost(loop, 2);
    cr_assert_eq(loop_timer_count(loop), 0, "a connection ended by a reset "
                 "(no end of file; connection_lost() gets ECONNRESET) left "
                 "a timer armed: it would fire later on the freed state");
    fakeclock_run_at(loop, 3 * IDLE_TIMEOUT_S); /* nothing may fire */
    loop_destroy(loop);
    guard_disarm();
}
