/* wrong: pauses reading on the side whose buffer is full, as the chapter's echo protocol does, though its bytes come from the other side | expect: but the bytes piling up come from the client's side */
#include "exercise.h"

#include <stdlib.h>
#include <unistd.h>

static void relay_connection_made(transport_t *transport, void *state)
{
    relay_side_t *side = state;
    side->transport = transport;
}

static void relay_data_received(transport_t *transport, void *state,
                                const char *data, size_t len)
{
    relay_side_t *side = state;
    (void)transport;
    if (side->other)
        transport_write(side->other->transport, data, len);
}

/* This side's write buffer is too full. Its bytes come from the OTHER
 * side's reads: that is the reading to pause. */
static void relay_pause_writing(transport_t *transport, void *state)
{
    (void)state;
    transport_pause_reading(transport);
}

static void relay_resume_writing(transport_t *transport, void *state)
{
    (void)state;
    transport_resume_reading(transport);
}

/* One side gone: close the other once it has sent what it holds. */
static void relay_connection_lost(transport_t *transport, void *state, int err)
{
    relay_side_t *side = state;
    (void)transport;
    (void)err;
    if (side->other) {
        side->other->other = NULL;
        transport_close(side->other->transport);
    }
    free(side);
}

const protocol_t relay_protocol = {
    .connection_made = relay_connection_made,
    .data_received = relay_data_received,
    .pause_writing = relay_pause_writing,
    .resume_writing = relay_resume_writing,
    .connection_lost = relay_connection_lost,
};

int relay_start(loop_t *loop, int fd_a, int fd_b, transport_t **a,
                transport_t **b)
{
    relay_side_t *sa = calloc(1, sizeof *sa);
    relay_side_t *sb = calloc(1, sizeof *sb);

    if (sa == NULL || sb == NULL) {
        free(sa);
        free(sb);
        close(fd_a);
        close(fd_b);
        return -1;
    }
    sa->other = sb;
    sb->other = sa;
    *a = transport_create(loop, fd_a, &relay_protocol, sa);
    if (*a == NULL) {
        free(sa);
        free(sb);
        close(fd_b);
        return -1;
    }
    *b = transport_create(loop, fd_b, &relay_protocol, sb);
    if (*b == NULL) {
        sa->other = NULL;
        free(sb);
        transport_abort(*a);
        return -1;
    }
    return 0;
}
