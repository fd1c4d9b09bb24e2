/* Exercise 03-flow-control: your answer. See EXERCISE.md. */
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

/* The write buffer passed the high-water mark. */
static void fc_pause_writing(transport_t *transport, void *state)
{
    /* ---- TODO(exercise): your code here ------------------------------- */
    (void)transport;
    (void)state;
}

/* The write buffer drained to the low-water mark. */
static void fc_resume_writing(transport_t *transport, void *state)
{
    /* ---- TODO(exercise): your code here ------------------------------- */
    (void)transport;
    (void)state;
}

const protocol_t fc_echo_protocol = {
    .connection_made = fc_connection_made,
    .data_received = fc_data_received,
    .pause_writing = fc_pause_writing,
    .resume_writing = fc_resume_writing,
};
