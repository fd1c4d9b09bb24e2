/* Tests for exercise 03-flow-control: a relay between two socketpairs. A
 * client sends megabytes into one side; the peer on the other side does
 * not read, then reads everything. */
#include "exercise.h"

#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

enum { TOTAL = 4 << 20 };

static void nothing(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

static void spin(loop_t *loop)
{
    loop_call_soon(loop, nothing, NULL); /* never wait */
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

/* client <-> [a  relay  b] <-> sink */
Test(flow_control, a_sink_that_does_not_read_costs_the_relay_bounded_memory,
     .timeout = 30)
{
    loop_t *loop = loop_create(NULL);
    int front[2], back[2];
    transport_t *a, *b;
    size_t sent = 0, got = 0, max_buffer = 0;

    nonblocking_pair(front);
    nonblocking_pair(back);
    cr_assert_eq(relay_start(loop, front[1], back[0], &a, &b), 0);
    int client = front[0], sink = back[1];

    /* The client sends as long as the relay keeps taking bytes; the sink
     * does not read. */
    for (int idle = 0; idle < 200 && sent < TOTAL;) {
        size_t w = send_more(client, sent);
        sent += w;
        idle = w ? 0 : idle + 1;
        spin(loop);
        size_t n = transport_write_buffer_size(b);
        max_buffer = n > max_buffer ? n : max_buffer;
    }
    cr_assert_lt(max_buffer, TRANSPORT_HIGH_WATER + TRANSPORT_READ_CHUNK,
                 "the relay buffered %zu bytes for a sink that does not "
                 "read (client sent %zu)", max_buffer, sent);
    cr_assert_lt(sent, (size_t)TOTAL, "the relay never pushed back");
    cr_assert_lt(transport_write_buffer_size(a), (size_t)TRANSPORT_HIGH_WATER,
                 "nothing should pile up towards the client");

    /* Now the sink reads: everything arrives in order, and the rest of
     * the client's data flows through. */
    char *out = malloc(TOTAL);
    for (int i = 0; i < 200000 && got < TOTAL; i++) {
        if (sent < TOTAL)
            sent += send_more(client, sent);
        ssize_t r = read(sink, out + got, TOTAL - got);
        if (r > 0)
            got += (size_t)r;
        spin(loop);
    }
    cr_assert_eq(got, (size_t)TOTAL, "only %zu of %d bytes came through "
                 "(reading never resumed?)", got, TOTAL);
    size_t bad = 0;
    while (bad < TOTAL && out[bad] == byte_at(bad))
        bad++;
    cr_assert_eq(bad, (size_t)TOTAL, "byte %zu differs", bad);
    free(out);

    /* The client leaves: the relay closes the sink's side too. */
    close(client);
    char c;
    ssize_t r = -1;
    for (int i = 0; i < 1000 && r != 0; i++) {
        spin(loop);
        r = read(sink, &c, 1);
    }
    cr_assert_eq(r, 0, "the sink never saw the relay close");
    loop_destroy(loop);
    close(sink);
}
