/*
 * test.c - exercise 01-flow-control: a relay between two socketpairs,
 *
 *     client <-> [a  relay  b] <-> sink
 *
 * The client sends 4 MiB as fast as the relay takes it; the sink reads
 * nothing at first, then everything; then the client leaves. Each test
 * runs that story as far as it needs and checks one part of the contract.
 */
#include "exercise.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "guard.h"

#define GUARD_S 60
#define GUARD_WHAT "the test did not finish: does a callback of your " \
                   "answer loop for ever?"

enum { TOTAL = 4 << 20, BOUND = TRANSPORT_HIGH_WATER + TRANSPORT_READ_CHUNK };

static void nothing(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/* One iteration that never waits: the tests poll the sockets themselves. */
static void spin(loop_t *loop)
{
    loop_call_soon(loop, nothing, NULL);
    loop_run_once(loop);
}

static char byte_at(size_t i)
{
    return (char)(i * 131 + (i >> 9));
}

static void nonblocking_pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
}

/* Send the next bytes of the pattern from fd; returns how many went. */
static size_t send_more(int fd, size_t sent)
{
    char chunk[16384];
    size_t n = sizeof chunk;

    if (n > TOTAL - sent)
        n = TOTAL - sent;
    for (size_t i = 0; i < n; i++)
        chunk[i] = byte_at(sent + i);
    ssize_t w = write(fd, chunk, n);
    return w > 0 ? (size_t)w : 0;
}

/* What one run of the story saw. */
typedef struct story {
    loop_t *loop;
    transport_t *a, *b;
    int client, sink;
    size_t sent, max_buffer;  /* while the sink did not read */
    int client_side_paused;   /* ... at the end of that phase */
    int sink_side_paused;
    size_t got;               /* once the sink read */
    char *out;
} story_t;

/* Phase 1: the client sends as long as the relay keeps taking bytes; the
 * sink reads nothing. */
static void stall(story_t *s)
{
    int front[2], back[2];

    s->loop = loop_create(NULL);
    cr_assert_not_null(s->loop);
    nonblocking_pair(front);
    nonblocking_pair(back);
    cr_assert_eq(relay_start(s->loop, front[1], back[0], &s->a, &s->b), 0,
                 "relay_start() failed");
    s->client = front[0];
    s->sink = back[1];
    for (int idle = 0; idle < 200 && s->sent < TOTAL;) {
        size_t w = send_more(s->client, s->sent);
        s->sent += w;
        idle = w ? 0 : idle + 1;
        spin(s->loop);
        size_t n = transport_write_buffer_size(s->b);
        s->max_buffer = n > s->max_buffer ? n : s->max_buffer;
    }
    s->client_side_paused = transport_is_reading_paused(s->a);
    s->sink_side_paused = transport_is_reading_paused(s->b);
}

/* Phase 2: the sink reads; the client sends the rest. */
static void drain(story_t *s)
{
    s->out = malloc(TOTAL);
    cr_assert_not_null(s->out);
    for (int i = 0; i < 200000 && s->got < TOTAL; i++) {
        if (s->sent < TOTAL)
            s->sent += send_more(s->client, s->sent);
        ssize_t r = read(s->sink, s->out + s->got, TOTAL - s->got);
        if (r > 0)
            s->got += (size_t)r;
        spin(s->loop);
    }
}

static void end(story_t *s)
{
    loop_destroy(s->loop);
    if (s->client >= 0)
        close(s->client);
    close(s->sink);
    free(s->out);
}

Test(flow_control, a_sink_that_does_not_read_costs_the_relay_bounded_memory)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    story_t s = {0};

    stall(&s);
    cr_assert(s.max_buffer < BOUND || !s.sink_side_paused ||
              s.client_side_paused, "the relay buffered %zu bytes for a "
              "sink that does not read: reading was paused on the sink's "
              "side, but the bytes piling up come from the client's side",
              s.max_buffer);
    cr_assert_lt(s.max_buffer, BOUND, "the relay buffered %zu bytes for a "
                 "sink that does not read (the client sent %zu): it must "
                 "stay below the high-water mark plus one read (%d)",
                 s.max_buffer, s.sent, BOUND);
    cr_assert_lt(s.sent, (size_t)TOTAL, "the client could send all %d "
                 "bytes though the sink read none: the relay never pushed "
                 "back on the client", TOTAL);
    cr_assert_lt(transport_write_buffer_size(s.a),
                 (size_t)TRANSPORT_HIGH_WATER, "%zu bytes piled up towards "
                 "the client, which sent them: nothing flows that way",
                 transport_write_buffer_size(s.a));
    end(&s);
    guard_disarm();
}

Test(flow_control, everything_comes_through_in_order_once_the_sink_reads)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    story_t s = {0};

    stall(&s);
    drain(&s);
    int still_paused = transport_is_reading_paused(s.a);
    cr_assert(s.got == TOTAL || !still_paused, "only %zu of %d bytes came "
              "through: reading on the client's side was paused and never "
              "resumed after the sink drained", s.got, TOTAL);
    cr_assert(s.got == TOTAL || s.sent < TOTAL, "the client sent all %d "
              "bytes, the sink got %zu: data that arrived while the sink "
              "was slow was lost (holding data back must not drop any)",
              TOTAL, s.got);
    cr_assert_eq(s.got, (size_t)TOTAL, "only %zu of %d bytes came through",
                 s.got, TOTAL);
    size_t bad = 0;
    while (bad < TOTAL && s.out[bad] == byte_at(bad))
        bad++;
    cr_assert_eq(bad, (size_t)TOTAL, "byte %zu of what the sink read "
                 "differs from what the client sent: bytes were lost or "
                 "reordered on the way", bad);
    end(&s);
    guard_disarm();
}

Test(flow_control, reading_resumes_once_the_sink_has_drained)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    story_t s = {0};

    stall(&s);
    drain(&s);
    for (int i = 0; i < 10; i++)
        spin(s.loop);
    cr_assert_eq(transport_write_buffer_size(s.b), 0, "the sink read "
                 "everything, yet %zu bytes wait in the relay",
                 transport_write_buffer_size(s.b));
    cr_assert_not(transport_is_reading_paused(s.a), "the sink drained the "
                  "relay's buffer, but reading on the client's side is "
                  "still paused: paused and never resumed");
    cr_assert_not(transport_is_reading_paused(s.b), "reading on the sink's "
                  "side is paused, though nothing piles up towards the "
                  "client");
    end(&s);
    guard_disarm();
}

Test(flow_control, when_the_client_leaves_the_sink_sees_the_end)
{
    guard_arm(GUARD_S, GUARD_WHAT);
    story_t s = {0};
    char c;
    ssize_t r = -1;

    stall(&s);
    drain(&s);
    close(s.client);
    s.client = -1;
    for (int i = 0; i < 1000 && r != 0; i++) {
        spin(s.loop);
        r = read(s.sink, &c, 1);
    }
    cr_assert_eq(r, 0, "the client left, and the sink never read end of "
                 "file from the relay");
    end(&s);
    guard_disarm();
}
