/* Unit tests for net.c (carried over from chapter 02, where they shared a
 * file with the blocking echo's tests). */
#include "net.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void make_pair(int sv[2])
{
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
}

/* A recognisable byte pattern, so that a reordering or a lost chunk shows. */
static unsigned char pattern_byte(size_t i)
{
    return (unsigned char)((i * 2654435761u) >> 24);
}


/* ---- a reader thread that collects everything until EOF ---- */

struct reader {
    pthread_t thread;
    int fd;
    unsigned char *data;
    size_t len, cap;
    unsigned pause_us; /* > 0 makes it a slow reader */
};

static void *reader_main(void *arg)
{
    struct reader *r = arg;
    for (;;) {
        if (r->len == r->cap)
            break;
        ssize_t got = recv(r->fd, r->data + r->len, r->cap - r->len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        r->len += (size_t)got;
        if (r->pause_us) {
            struct timespec pause = {0, (long)r->pause_us * 1000};
            nanosleep(&pause, NULL);
        }
    }
    return NULL;
}

static void reader_start(struct reader *r, int fd, size_t cap, unsigned pause_us)
{
    memset(r, 0, sizeof *r);
    r->fd = fd;
    r->pause_us = pause_us;
    r->cap = cap;
    r->data = malloc(cap);
    cr_assert_not_null(r->data);
    cr_assert_eq(pthread_create(&r->thread, NULL, reader_main, r), 0);
}

Test(net, listen_on_port_zero_reports_the_port_the_kernel_chose)
{
    char where[NET_ADDRSTR_MAX];
    int fd = net_listen("127.0.0.1", 0, where);
    cr_assert_geq(fd, 0);
    cr_assert_eq(strncmp(where, "127.0.0.1:", 10), 0, "got %s", where);
    cr_assert_gt(atoi(where + 10), 0, "got %s", where);
    close(fd);
}

Test(net, listen_puts_ipv6_addresses_in_brackets)
{
    char where[NET_ADDRSTR_MAX];
    int fd = net_listen("::1", 0, where);
    if (fd < 0 && (errno == EADDRNOTAVAIL || errno == EAFNOSUPPORT))
        cr_skip_test("no IPv6 loopback on this machine");
    cr_assert_geq(fd, 0, "net_listen: %s", strerror(errno));
    cr_assert_eq(strncmp(where, "[::1]:", 6), 0, "got %s", where);
    close(fd);
}

Test(net, listen_fails_cleanly_on_a_bad_host)
{
    char where[NET_ADDRSTR_MAX];
    errno = 0;
    cr_assert_eq(net_listen("not an address", 0, where), -1);
    cr_assert_neq(errno, 0);
}

Test(net, recv_all_waits_for_every_byte_and_reports_an_early_end,
     .timeout = 10)
{
    int sv[2];
    char buf[8];

    make_pair(sv);
    cr_assert_eq(net_send_all(sv[0], "abc", 3), 0);
    cr_assert_eq(net_send_all(sv[0], "def", 3), 0);
    cr_assert_eq(net_recv_all(sv[1], buf, 6), 0);
    cr_assert_arr_eq(buf, "abcdef", 6);

    cr_assert_eq(net_send_all(sv[0], "gh", 2), 0);
    shutdown(sv[0], SHUT_WR);
    errno = 0;
    cr_assert_eq(net_recv_all(sv[1], buf, 4), -1);
    cr_assert_eq(errno, ECONNRESET);
    close(sv[0]);
    close(sv[1]);
}

static void on_alarm(int signo)
{
    (void)signo;
}

Test(net, send_all_survives_signals_and_partial_writes, .timeout = 30)
{
    const size_t total = 4u << 20;
    unsigned char *out = malloc(total);
    int sv[2];
    struct reader r;

    cr_assert_not_null(out);
    for (size_t i = 0; i < total; i++)
        out[i] = pattern_byte(i);
    make_pair(sv);
    /* A slow reader keeps send() blocked; a signal every millisecond
     * without SA_RESTART interrupts it, so a single send() would return a
     * short count or EINTR. */
    reader_start(&r, sv[0], total + 1, 200);
    struct sigaction sa = {.sa_handler = on_alarm};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGALRM, &sa, NULL);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}};
    setitimer(ITIMER_REAL, &every_ms, NULL);

    int rc = net_send_all(sv[1], out, total);

    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    shutdown(sv[1], SHUT_WR);
    pthread_join(r.thread, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(r.len, total);
    cr_assert_eq(memcmp(r.data, out, total), 0);
    free(r.data);
    free(out);
    close(sv[0]);
    close(sv[1]);
}
