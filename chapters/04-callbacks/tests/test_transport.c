/*
 * test_transport.c - the socket transport on socketpairs: bytes both ways,
 * partial writes buffered and finished, flow control's pause and resume,
 * end of file, abort, and a peer that resets the connection.
 */
#include "loop.h"
#include "net.h"
#include "transport.h"

#include <criterion/criterion.h>
#include <criterion/redirect.h>
#include <errno.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

/* A recording protocol. */
typedef struct rec {
    transport_t *t;
    int made, eofs, pauses, resumes, lost, lost_err;
    size_t received;
    char last[256];
    int echo;       /* write every byte back */
    int keep_open;  /* eof_received's answer */
    int pause_reading_on_pause; /* the echo server's flow control */
} rec_t;

static void made(transport_t *t, void *s)
{
    rec_t *r = s;
    r->t = t;
    r->made++;
}

static void received(transport_t *t, void *s, const char *data, size_t len)
{
    rec_t *r = s;
    r->received += len;
    memcpy(r->last, data, len < sizeof r->last ? len : sizeof r->last);
    if (r->echo)
        transport_write(t, data, len);
}

static int eof(transport_t *t, void *s)
{
    rec_t *r = s;
    (void)t;
    r->eofs++;
    return r->keep_open;
}

static void paused(transport_t *t, void *s)
{
    rec_t *r = s;
    r->pauses++;
    if (r->pause_reading_on_pause)
        transport_pause_reading(t);
}

static void resumed(transport_t *t, void *s)
{
    rec_t *r = s;
    r->resumes++;
    if (r->pause_reading_on_pause)
        transport_resume_reading(t);
}

static void lost(transport_t *t, void *s, int err)
{
    rec_t *r = s;
    (void)t;
    r->lost++;
    r->lost_err = err;
}

static const protocol_t recorder = {made, received, eof, paused, resumed,
                                    lost};

static void nonblocking_pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    fcntl(sv[0], F_SETFL, O_NONBLOCK);
}

/* Run iterations until cond holds (at most n); a pending call_soon keeps
 * each iteration from waiting. */
static void nothing(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

#define RUN_UNTIL(loop, cond)                                               \
    for (int i_ = 0; i_ < 2000 && !(cond); i_++) {                          \
        loop_call_soon(loop, nothing, NULL);                                \
        loop_run_once(loop);                                                \
    }

Test(transport, echoes_bytes_and_calls_connection_made_first, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    rec_t r = {.echo = 1};
    char buf[16];

    nonblocking_pair(sv);
    transport_t *t = transport_create(loop, sv[0], &recorder, &r);
    cr_assert_not_null(t);
    cr_assert_eq(r.made, 1);
    cr_assert_eq(r.t, t);
    cr_assert_eq(write(sv[1], "hello", 5), 5);
    RUN_UNTIL(loop, r.received == 5);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 5);
    cr_assert_eq(memcmp(buf, "hello", 5), 0);
    transport_close(t);
    RUN_UNTIL(loop, r.lost);
    cr_assert_eq(r.lost, 1);
    cr_assert_eq(r.lost_err, 0);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 0, "closed after close()");
    loop_destroy(loop);
    close(sv[1]);
}

Test(transport, a_write_the_socket_cannot_take_is_buffered_then_sent,
     .timeout = 20)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    rec_t r = {0};
    enum { BIG = 4 << 20 };
    char *data = malloc(BIG), *back = malloc(BIG);

    for (size_t i = 0; i < BIG; i++)
        data[i] = (char)(i * 7 + i / 251);
    nonblocking_pair(sv);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    transport_t *t = transport_create(loop, sv[0], &recorder, &r);
    transport_set_write_buffer_limits(t, SIZE_MAX, SIZE_MAX);
    transport_write(t, data, BIG);
    cr_assert_gt(transport_write_buffer_size(t), 0, "4 MiB fit at once?");
    size_t got = 0;
    for (int i = 0; i < 100000 && got < BIG; i++) {
        ssize_t n = read(sv[1], back + got, BIG - got);
        if (n > 0)
            got += (size_t)n;
        loop_call_soon(loop, nothing, NULL);
        loop_run_once(loop);
    }
    cr_assert_eq(got, (size_t)BIG);
    cr_assert_eq(memcmp(data, back, BIG), 0, "bytes changed or reordered");
    cr_assert_eq(transport_write_buffer_size(t), 0);
    transport_abort(t);
    RUN_UNTIL(loop, r.lost);
    loop_destroy(loop);
    close(sv[1]);
    free(data);
    free(back);
}

Test(transport, flow_control_pauses_above_high_and_resumes_at_low,
     .timeout = 20)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    rec_t r = {.echo = 1, .pause_reading_on_pause = 1};
    char chunk[8192] = {0};

    nonblocking_pair(sv);
    fcntl(sv[1], F_SETFL, O_NONBLOCK);
    transport_t *t = transport_create(loop, sv[0], &recorder, &r);
    /* The peer writes and never reads: the echo piles up. */
    for (int i = 0; i < 2000 && r.pauses == 0; i++) {
        ssize_t n = write(sv[1], chunk, sizeof chunk);
        (void)n;
        loop_call_soon(loop, nothing, NULL);
        loop_run_once(loop);
    }
    cr_assert_eq(r.pauses, 1, "pause_writing never came");
    cr_assert(transport_is_reading_paused(t));
    size_t held = transport_write_buffer_size(t);
    cr_assert_gt(held, TRANSPORT_HIGH_WATER);
    cr_assert_leq(held, TRANSPORT_HIGH_WATER + TRANSPORT_READ_CHUNK);
    /* More input does not grow the buffer: nobody reads it now. */
    for (int i = 0; i < 50; i++) {
        ssize_t n = write(sv[1], chunk, sizeof chunk);
        (void)n;
        loop_call_soon(loop, nothing, NULL);
        loop_run_once(loop);
    }
    cr_assert_eq(transport_write_buffer_size(t), held);
    /* The peer starts reading: the buffer drains, reading resumes. */
    char sink[65536];
    for (int i = 0; i < 5000 && r.resumes == 0; i++) {
        ssize_t n = read(sv[1], sink, sizeof sink);
        (void)n;
        loop_call_soon(loop, nothing, NULL);
        loop_run_once(loop);
    }
    cr_assert_eq(r.resumes, 1);
    cr_assert_not(transport_is_reading_paused(t));
    cr_assert_leq(transport_write_buffer_size(t), TRANSPORT_LOW_WATER);
    transport_abort(t);
    RUN_UNTIL(loop, r.lost);
    loop_destroy(loop);
    close(sv[1]);
}

Test(transport, end_of_file_closes_after_the_buffer_unless_kept_open,
     .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    rec_t r = {.keep_open = 1};
    char buf[16];

    nonblocking_pair(sv);
    transport_t *t = transport_create(loop, sv[0], &recorder, &r);
    shutdown(sv[1], SHUT_WR);
    RUN_UNTIL(loop, r.eofs);
    cr_assert_eq(r.eofs, 1);
    cr_assert_eq(r.lost, 0, "kept open, but closed");
    transport_write(t, "late", 4); /* still allowed: half-closed */
    transport_write_eof(t);
    RUN_UNTIL(loop, 0);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 4);
    cr_assert_eq(read(sv[1], buf, sizeof buf), 0, "write_eof: end of file");
    transport_close(t);
    RUN_UNTIL(loop, r.lost);
    cr_assert_eq(r.lost, 1);
    loop_destroy(loop);
    close(sv[1]);
}

Test(transport, a_peer_that_vanishes_ends_with_an_error_once, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    rec_t r = {.echo = 1};

    signal(SIGPIPE, SIG_DFL); /* a SIGPIPE would kill the test */
    nonblocking_pair(sv);
    transport_t *t = transport_create(loop, sv[0], &recorder, &r);
    close(sv[1]);
    transport_write(t, "x", 1); /* EPIPE, not SIGPIPE */
    transport_write(t, "y", 1); /* ignored: already failed */
    RUN_UNTIL(loop, r.lost);
    cr_assert_eq(r.lost, 1);
    cr_assert_eq(r.lost_err, EPIPE);
    RUN_UNTIL(loop, 0);
    cr_assert_eq(r.lost, 1, "connection_lost twice");
    loop_destroy(loop);
}

Test(transport, abort_from_inside_data_received_is_safe, .timeout = 10)
{
    loop_t *loop = loop_create(NULL);
    int sv[2];
    rec_t r = {0};

    nonblocking_pair(sv);
    transport_t *t = transport_create(loop, sv[0], &recorder, &r);
    cr_assert_eq(write(sv[1], "a", 1), 1);
    RUN_UNTIL(loop, r.received);
    transport_abort(t);
    transport_abort(t); /* twice: one connection_lost */
    cr_assert_eq(r.lost, 0, "connection_lost must be its own callback");
    RUN_UNTIL(loop, r.lost);
    RUN_UNTIL(loop, 0);
    cr_assert_eq(r.lost, 1);
    loop_destroy(loop);
    close(sv[1]);
}

/* ---- the server --------------------------------------------------------- */

static rec_t server_recs[4];
static int server_made;

static void *rec_factory(void *arg)
{
    (void)arg;
    if (server_made >= 4)
        return NULL; /* refuse the fifth */
    rec_t *r = &server_recs[server_made++];
    memset(r, 0, sizeof *r);
    r->echo = 1;
    return r;
}

Test(server, accepts_clients_as_transports_and_close_ends_them_all,
     .timeout = 20)
{
    loop_t *loop = loop_create(NULL);
    char where[NET_ADDRSTR_MAX];
    int lfd = net_listen("127.0.0.1", 0, where);
    cr_assert_geq(lfd, 0);
    server_t *s = server_create(loop, lfd, &recorder, rec_factory, NULL);
    cr_assert_not_null(s);
    unsigned short port = (unsigned short)atoi(strrchr(where, ':') + 1);

    int c[5];
    for (int i = 0; i < 5; i++) {
        struct sockaddr_in a = {.sin_family = AF_INET,
                                .sin_port = htons(port),
                                .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        c[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert_eq(connect(c[i], (struct sockaddr *)&a, sizeof a), 0);
    }
    RUN_UNTIL(loop, server_made == 4 && server_connection_count(s) == 4);
    cr_assert_eq(server_connection_count(s), 4, "the fifth was refused");
    char buf[8];
    cr_assert_eq(write(c[0], "abc", 3), 3);
    RUN_UNTIL(loop, server_recs[0].received == 3 ||
                        server_recs[1].received == 3);
    cr_assert_eq(read(c[0], buf, sizeof buf), 3);
    server_close(s);
    cr_assert_eq(server_recs[0].lost, 0, "connection_lost is queued");
    RUN_UNTIL(loop, server_connection_count(s) == 0);
    for (int i = 0; i < 4; i++)
        cr_assert_eq(server_recs[i].lost, 1);
    server_destroy(s);
    loop_destroy(loop);
    for (int i = 0; i < 5; i++)
        close(c[i]);
}

static void nothing_timer(loop_t *loop, void *arg)
{
    (void)loop;
    (void)arg;
}

/* Runs the loop for real (it may sleep in the selector) until @p cond or
 * five seconds. */
#define RUN_FOR_REAL_UNTIL(loop, cond)                                      \
    for (double t0_ = loop_time(loop);                                      \
         !(cond) && loop_time(loop) < t0_ + 5;) {                           \
        loop_timer_t tick_;                                                 \
        loop_timer_init(&tick_);                                            \
        loop_call_later(loop, &tick_, 0.01, nothing_timer, NULL);           \
        loop_run_once(loop);                                                \
        loop_cancel(loop, &tick_);                                          \
    }

/* What a server told its report callback. */
typedef struct told {
    int events[8];
    int errs[8];
    int n;
} told_t;

static void note_event(server_t *s, server_event_t event, int err, void *arg)
{
    told_t *t = arg;

    (void)s;
    if (t->n < 8) {
        t->events[t->n] = event;
        t->errs[t->n] = err;
        t->n++;
    }
}

/* Library code never prints a program's name: out of descriptors, the
 * server backs off and resumes without a word on stderr, and tells the
 * program, once per episode, which decides what to say. */
Test(server, backs_off_out_of_descriptors_and_tells_the_program_only,
     .init = cr_redirect_stderr, .timeout = 20)
{
    loop_t *loop = loop_create(NULL);
    char where[NET_ADDRSTR_MAX];
    int lfd = net_listen("127.0.0.1", 0, where);
    cr_assert_geq(lfd, 0);
    server_made = 0;
    server_t *s = server_create(loop, lfd, &recorder, rec_factory, NULL);
    told_t told = {0};
    cr_assert_not_null(s);
    server_set_report(s, note_event, &told);
    unsigned short port = (unsigned short)atoi(strrchr(where, ':') + 1);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port),
                            .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    int c = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert_eq(connect(c, (struct sockaddr *)&a, sizeof a), 0);

    /* No descriptor left: the lowest free number becomes the limit. */
    struct rlimit was, none;
    int lowest = dup(0);
    close(lowest);
    getrlimit(RLIMIT_NOFILE, &was);
    none = was;
    none.rlim_cur = (rlim_t)lowest;
    cr_assert_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    for (int i = 0; i < 3; i++)
        loop_run_once(loop);             /* accept() fails: EMFILE */
    setrlimit(RLIMIT_NOFILE, &was);
    RUN_FOR_REAL_UNTIL(loop, server_connection_count(s) == 1);
    cr_assert_eq(server_connection_count(s), 1, "never accepted again");
    cr_assert_eq(told.n, 2, "told %d times", told.n);
    cr_assert_eq(told.events[0], SERVER_ACCEPT_PAUSED);
    cr_assert_eq(told.errs[0], EMFILE);
    cr_assert_eq(told.events[1], SERVER_ACCEPT_RESUMED);
    server_close(s);
    RUN_UNTIL(loop, server_connection_count(s) == 0);
    server_destroy(s);
    loop_destroy(loop);
    close(c);
    fflush(stderr);
    cr_assert_stderr_eq_str("", "the library printed on stderr");
}
