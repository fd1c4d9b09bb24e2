/* Tests for exercise 01-idle-echo, on a fake clock and a socketpair. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fixture.h"
#include "guard.h"

#define GUARD_S 10
#define GUARD_WHAT "the echo coroutine never gave the loop back: does it " \
    "wait for something in a loop without awaiting it?"

static fixture_t fx;
static int peer = -1;

static void setup(void) { fixture_start(&fx); }
static void teardown(void) { close(peer); fixture_stop(&fx); }

TestSuite(idle_echo, .init = setup, .fini = teardown, .timeout = 60);

static task_t *start(double idle_s)
{
    int sv[2];
    idle_echo_t *f;
    task_t *t;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
    peer = sv[1];
    t = task_create(fx.loop, idle_echo_body, sizeof *f, (void **)&f);
    cr_assert_not_null(t);
    f->loop = fx.loop;
    f->fd = sv[0];
    f->idle_s = idle_s;
    fixture_settle(&fx);
    return t;
}

static void talk(const char *text)
{
    char back[64] = {0};
    ssize_t n;

    cr_assert_eq(write(peer, text, strlen(text)), (ssize_t)strlen(text),
                 "the client could not send \"%s\": was the connection "
                 "closed too early?", text);
    fixture_settle(&fx);
    n = read(peer, back, sizeof back - 1);
    cr_assert_eq(n, (ssize_t)strlen(text), "the client sent \"%s\" and got "
                 "%zd bytes back", text, n);
    cr_assert_str_eq(back, text, "the echo is not what the client sent");
}

/* 1 if the peer sees the connection closed, 0 if it is still open. */
static int peer_sees_eof(void)
{
    char c;

    return read(peer, &c, 1) == 0;
}

static void assert_nothing_left(void)
{
    cr_assert_eq(loop_timer_count(fx.loop), 0, "the coroutine has ended, "
                 "but %zu timer(s) are still armed", loop_timer_count(fx.loop));
    cr_assert(peer_sees_eof(), "the coroutine has ended, but the client "
              "does not see the connection closed: is close() reached on "
              "every way out? (a plain AWAIT leaves the body at once when "
              "its Future fails)");
}

Test(idle_echo, a_silent_client_is_dropped_after_idle_s)
{
    task_t *t;
    int err = 0;

    guard_arm(GUARD_S, GUARD_WHAT);
    t = start(1.0);
    fixture_advance(&fx, 0.5);
    talk("abc");
    fixture_advance(&fx, 0.9);
    cr_assert(!future_done(task_future(t)), "the client was dropped 0.9 s "
              "after its message, with idle_s = 1: the silence must count "
              "from the last data received, not from the start");
    fixture_advance(&fx, 0.2);
    cr_assert(future_done(task_future(t)), "the client is still connected "
              "1.1 s after its last message, with idle_s = 1: the silence "
              "after a message must count too");
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_E_ERROR,
                 "a client dropped for silence must end the coroutine with "
                 "an error (ETIMEDOUT), not a normal return");
    cr_assert_eq(err, ETIMEDOUT, "dropped for silence, the coroutine must "
                 "fail with ETIMEDOUT, not %d (%s)", err, strerror(err));
    assert_nothing_left();
    task_release(t);
    guard_disarm();
}

Test(idle_echo, every_message_starts_the_wait_again)
{
    task_t *t;

    guard_arm(GUARD_S, GUARD_WHAT);
    t = start(1.0);
    for (int i = 0; i < 5; i++) {
        fixture_advance(&fx, 0.8);
        cr_assert(!future_done(task_future(t)), "a client that sends a "
                  "message every 0.8 s was dropped after %.1f s, with "
                  "idle_s = 1: the wait must start again at every message",
                  0.8 * (i + 1));
        talk("ping");
    }
    fixture_advance(&fx, 1.1);
    cr_assert(future_done(task_future(t)), "silent for 1.1 s after its last "
              "message, the client is still connected (idle_s = 1)");
    future_result(task_future(t), NULL, NULL);
    assert_nothing_left();
    task_release(t);
    guard_disarm();
}

Test(idle_echo, end_of_input_ends_it_normally)
{
    task_t *t;
    int err = 0;

    guard_arm(GUARD_S, GUARD_WHAT);
    t = start(1.0);
    talk("bye");
    shutdown(peer, SHUT_WR);
    fixture_settle(&fx);
    cr_assert_eq(future_result(task_future(t), NULL, &err), FUTURE_OK,
                 "after end of input the coroutine must return normally "
                 "(state %d, error %d)", future_state(task_future(t)), err);
    assert_nothing_left();
    task_release(t);
    guard_disarm();
}

Test(idle_echo, cancelled_it_closes_and_leaves_no_timer)
{
    task_t *t;

    guard_arm(GUARD_S, GUARD_WHAT);
    t = start(5.0);
    talk("hi");
    task_cancel(t);
    fixture_settle(&fx);
    cr_assert_eq(future_state(task_future(t)), FUTURE_CANCELLED, "cancelled, "
                 "the coroutine must end cancelled (ECANCELED re-raised)");
    assert_nothing_left();
    task_release(t);
    guard_disarm();
}
