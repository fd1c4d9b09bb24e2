/*
 * starter.c - exercise 02-idle-timeout: your answer starts here. An echo
 * protocol without the timeout yet; see EXERCISE.md for what it must do.
 */
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

static void idle_connection_made(transport_t *transport, void *state)
{
    idle_conn_t *c = state;
    c->transport = transport;
}

static void idle_data_received(transport_t *transport, void *state,
                               const char *data, size_t len)
{
    (void)state;
    transport_write(transport, data, len);
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
    .connection_lost = idle_connection_lost,
};
