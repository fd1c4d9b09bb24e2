/* Exercise 03-flow-control: the reference solution. */
#include "exercise.h"

static void fc_connection_made(transport_t *transport, void *state)
{
    (void)transport;
    (void)state;
}

static void fc_data_received(transport_t *transport, void *state,
                             const char *data, size_t len)
{
    (void)state;
    transport_write(transport, data, len);
}

static void fc_pause_writing(transport_t *transport, void *state)
{
    (void)state;
    transport_pause_reading(transport);
}

static void fc_resume_writing(transport_t *transport, void *state)
{
    (void)state;
    transport_resume_reading(transport);
}

const protocol_t fc_echo_protocol = {
    .connection_made = fc_connection_made,
    .data_received = fc_data_received,
    .pause_writing = fc_pause_writing,
    .resume_writing = fc_resume_writing,
};
