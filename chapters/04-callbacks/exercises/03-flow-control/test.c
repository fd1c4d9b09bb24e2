/* Tests for exercise 03-flow-control: a peer on a socketpair that sends
 * megabytes without reading, then reads everything back. */
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

Test(flow_control, a_peer_that_never_reads_costs_bounded_memory,
     .timeout = 30)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    char chunk[16384];
    size_t sent = 0, got = 0, max_buffer = 0;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    transport_t *t = transport_create(loop, sv[0], &fc_echo_protocol, NULL);
    cr_assert_not_null(t);

    /* Send without reading, as long as the server keeps taking bytes. */
    for (int idle = 0; idle < 200 && sent < TOTAL;) {
        size_t n = sizeof chunk;
        for (size_t i = 0; i < n; i++)
            chunk[i] = byte_at(sent + i);
        ssize_t w = write(sv[1], chunk, n);
        if (w > 0) {
            sent += (size_t)w;
            idle = 0;
        } else {
            idle++;
        }
        spin(loop);
        size_t b = transport_write_buffer_size(t);
        max_buffer = b > max_buffer ? b : max_buffer;
    }
    cr_assert_lt(max_buffer, TRANSPORT_HIGH_WATER + TRANSPORT_READ_CHUNK,
                 "the server buffered %zu bytes for a peer that does not "
                 "read (sent %zu)", max_buffer, sent);
    cr_assert_lt(sent, (size_t)TOTAL, "the server never pushed back");

    /* Now the peer reads: everything comes back in order, and the rest of
     * the data flows through. */
    char *back = malloc(TOTAL);
    for (int i = 0; i < 200000 && got < TOTAL; i++) {
        if (sent < TOTAL) {
            size_t n = sizeof chunk;
            if (n > TOTAL - sent)
                n = TOTAL - sent;
            for (size_t k = 0; k < n; k++)
                chunk[k] = byte_at(sent + k);
            ssize_t w = write(sv[1], chunk, n);
            if (w > 0)
                sent += (size_t)w;
        }
        ssize_t r = read(sv[1], back + got, TOTAL - got);
        if (r > 0)
            got += (size_t)r;
        spin(loop);
    }
    cr_assert_eq(got, (size_t)TOTAL, "only %zu of %d bytes came back "
                 "(reading never resumed?)", got, TOTAL);
    size_t bad = 0;
    while (bad < TOTAL && back[bad] == byte_at(bad))
        bad++;
    cr_assert_eq(bad, (size_t)TOTAL, "byte %zu differs", bad);
    free(back);
    transport_abort(t);
    spin(loop);
    loop_destroy(loop);
    close(sv[1]);
}
