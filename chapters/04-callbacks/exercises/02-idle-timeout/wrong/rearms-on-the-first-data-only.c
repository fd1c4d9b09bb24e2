/* wrong: pushes the deadline back on the first data only, so the timeout counts from the first data, not the last | expect: must count from the last data received */
#include "exercise.h"

#include <stdlib.h>

/* The state, with one more field (the test knows only the first ones). */
typedef struct {
    idle_conn_t base;
    int seen_data;
} conn_t;

void *idle_echo_factory(void *arg)
{
    (void)arg;
    conn_t *c = calloc(1, sizeof *c);
    if (c != NULL)
        loop_timer_init(&c->base.idle);
    return c;
}

static void on_idle(loop_t *loop, void *arg)
{
    conn_t *c = arg;
    (void)loop;
    transport_close(c->base.transport);
}

static void idle_connection_made(transport_t *transport, void *state)
{
    conn_t *c = state;
    c->base.transport = transport;
    loop_call_later(transport_loop(transport), &c->base.idle, IDLE_TIMEOUT_S,
                    on_idle, c);
}

static void idle_data_received(transport_t *transport, void *state,
                               const char *data, size_t len)
{
    conn_t *c = state;
    transport_write(transport, data, len);
    if (c->seen_data)
        return;
    c->seen_data = 1;
    loop_call_later(transport_loop(transport), &c->base.idle, IDLE_TIMEOUT_S,
                    on_idle, c);
}

static void idle_connection_lost(transport_t *transport, void *state, int err)
{
    conn_t *c = state;
    (void)err;
    loop_cancel(transport_loop(transport), &c->base.idle);
    free(c);
}

const protocol_t idle_echo_protocol = {
    .connection_made = idle_connection_made,
    .data_received = idle_data_received,
    .connection_lost = idle_connection_lost,
};
