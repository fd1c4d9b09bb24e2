/* wrong: takes pause_writing() literally and stops writing, dropping what arrives for a side whose buffer is full | expect: was lost (holding data back must not drop any) */
#include "exercise.h"

#include <stdlib.h>
#include <unistd.h>

/* The sides whose buffer is too full to write to (a relay has two). */
static const transport_t *full[2];

static int is_full(const transport_t *t)
{
    return full[0] == t || full[1] == t;
}

static void set_full(const transport_t *t, int yes)
{
    for (int i = 0; i < 2; i++)
        if (yes ? full[i] == NULL : full[i] == t) {
            full[i] = yes ? t : NULL;
            return;
        }
}

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
    if (side->other && !is_full(side->other->transport))
        transport_write(side->other->transport, data, len);
}

/* This side's write buffer is too full. Its bytes come from the OTHER
 * side's reads: that is the reading to pause. */
static void relay_pause_writing(transport_t *transport, void *state)
{
    (void)state;
    set_full(transport, 1); /* stop writing to it */
}

static void relay_resume_writing(transport_t *transport, void *state)
{
    (void)state;
    set_full(transport, 0);
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
