/* wrong: one static timer serves every connection, so a new connection moves the deadline of the others | expect: one timer shared by all connections */
#include "exercise.h"

#include <stdlib.h>

static loop_timer_t idle; /* the idle timer (loop_timer_init'ed once) */
static int idle_ready;

void *idle_echo_factory(void *arg)
{
    (void)arg;
    idle_conn_t *c = calloc(1, sizeof *c);
    if (c != NULL)
        loop_timer_init(&c->idle);
    return c;
}

static void on_idle(loop_t *loop, void *arg)
{
    idle_conn_t *c = arg;
    (void)loop;
    transport_close(c->transport);
}

static void idle_connection_made(transport_t *transport, void *state)
{
    idle_conn_t *c = state;
    c->transport = transport;
    if (!idle_ready) {
        loop_timer_init(&idle);
        idle_ready = 1;
    }
    loop_call_later(transport_loop(transport), &idle, IDLE_TIMEOUT_S,
                    on_idle, c);
}

static void idle_data_received(transport_t *transport, void *state,
                               const char *data, size_t len)
{
    idle_conn_t *c = state;
    transport_write(transport, data, len);
    loop_call_later(transport_loop(transport), &idle, IDLE_TIMEOUT_S,
                    on_idle, c);
}

static void idle_connection_lost(transport_t *transport, void *state, int err)
{
    idle_conn_t *c = state;
    (void)err;
    if (idle.arg == c) /* only if it is armed for this one */
        loop_cancel(transport_loop(transport), &idle);
    free(c);
}

const protocol_t idle_echo_protocol = {
    .connection_made = idle_connection_made,
    .data_received = idle_data_received,
    .connection_lost = idle_connection_lost,
};
