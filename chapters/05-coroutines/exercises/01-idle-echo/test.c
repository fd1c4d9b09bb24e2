/* Tests for exercise 04-idle-timeout, on a fake clock and a socketpair. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"

static fixture_t fx;
static int peer;

static void setup(void) { fixture_start(&fx); }
static void teardown(void) { close(peer); fixture_stop(&fx); }

TestSuite(idle_timeout, .init = setup, .fini = teardown, .timeout = 10);

static task_t *start(double idle_s)
{
    int sv[2];
    idle_echo_t *f;
    task_t *t;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    peer = sv[1];
    t = task_create(fx.loop, idle_echo_body, sizeof *f, (void **)&f);
    f->loop = fx.loop;
    f->fd = sv[0];
    f->idle_s = idle_s;
    fixture_settle(&fx);
    return t;
}

static void talk(const char *text)
{
    char back[64] = {0};

    cr_assert_eq(write(peer, text, strlen(text)), (ssize_t)strlen(text));
    fixture_settle(&fx);
    cr_assert_eq(read(peer, back, sizeof back - 1), (ssize_t)strlen(text));
    cr_assert_str_eq(back, text);
}

/* 0 if the peer sees the connection closed, -1 if it is still open. */
static int peer_sees_eof(void)
{
    char c;

    return read(peer, &c, 1) == 0 ? 0 : -1;
}

Test(idle_timeout, a_silent_client_is_dropped_after_idle_s)
{
    task_t *t = start(1.0);
    int err = 0;

    talk("abc");
    fixture_advance(&fx, 0.9);
    cr_assert(!future_done(task_future(t)), "dropped before idle_s");
    fixture_advance(&fx, 0.2);
    cr_assert(future_done(task_future(t)), "still open after idle_s");
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR);
    cr_assert_eq(err, ETIMEDOUT);
    cr_assert_eq(peer_sees_eof(), 0, "the socket was not closed");
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}

Test(idle_timeout, every_message_starts_the_wait_again)
{
    task_t *t = start(1.0);

    for (int i = 0; i < 5; i++) {
        fixture_advance(&fx, 0.8);
        talk("ping");
    }
    cr_assert(!future_done(task_future(t)), "an active client was dropped");
    fixture_advance(&fx, 1.1);
    cr_assert(future_done(task_future(t)));
    task_release(t);
}

Test(idle_timeout, end_of_input_ends_it_normally)
{
    task_t *t = start(1.0);

    talk("bye");
    shutdown(peer, SHUT_WR);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_RESULT);
    cr_assert_eq(peer_sees_eof(), 0);
    cr_assert_eq(loop_timer_count(fx.loop), 0, "a timer was left armed");
    task_release(t);
}

Test(idle_timeout, cancelled_it_closes_and_leaves_no_timer)
{
    task_t *t = start(5.0);

    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED);
    cr_assert_eq(peer_sees_eof(), 0);
    cr_assert_eq(loop_timer_count(fx.loop), 0);
    task_release(t);
}
