/* wrong: cancels the timer when the client sends end of file, so a connection ended by a reset keeps it | expect: a connection ended by a reset */
#include "exercise.h"

#include <stdlib.h>

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
    loop_call_later(transport_loop(transport), &c->idle, IDLE_TIMEOUT_S,
                    on_idle, c);
}

static void idle_data_received(transport_t *transport, void *state,
                               const char *data, size_t len)
{
    idle_conn_t *c = state;
    transport_write(transport, data, len);
    loop_call_later(transport_loop(transport), &c->idle, IDLE_TIMEOUT_S,
                    on_idle, c);
}

/* The client is done: no more idle timeout for it. */
static int idle_eof_received(transport_t *transport, void *state)
{
    idle_conn_t *c = state;
    loop_cancel(transport_loop(transport), &c->idle);
    return 0;
}

static void idle_connection_lost(transport_t *transport, void *state, int err)
{
    (void)transport;
    (void)err;
    free(state);
}

const protocol_t idle_echo_protocol = {
    .connection_made = idle_connection_made,
    .data_received = idle_data_received,
    .eof_received = idle_eof_received,
    .connection_lost = idle_connection_lost,
};
