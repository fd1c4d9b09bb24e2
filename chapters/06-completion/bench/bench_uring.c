/*
 * bench_uring.c - one byte's round trip through a socketpair, waited for
 * two ways: readiness (epoll_wait, then recv: two system calls) and
 * completion (one io_uring_enter that submits the next recv and waits for
 * the last one's completion; multishot: one recv submitted for all).
 *
 * The peer's write() is in every round, so the numbers are ratios more
 * than absolute costs. Prints a table and, with a path argument, writes
 * CSV there.
 *
 *   build/bench-uring [ROUNDS] [CSV-PATH]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, int err)
{
    fprintf(stderr, "bench-uring: %s: %s\n", what, strerror(err));
    exit(1);
}

static void peer_write(int fd)
{
    if (write(fd, "x", 1) != 1)
        die("write", errno);
}

/* Readiness: wait until readable, then read. */
static double bench_epoll(int sv[2], long rounds)
{
    char buf[64];
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = sv[0]};
    int ep = epoll_create1(EPOLL_CLOEXEC);

    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev) < 0)
        die("epoll", errno);
    double t0 = now_s();
    /* [readiness-round] */
    for (long i = 0; i < rounds; i++) {
        peer_write(sv[1]);
        if (epoll_wait(ep, &ev, 1, -1) != 1)
            die("epoll_wait", errno);
        if (recv(sv[0], buf, sizeof buf, 0) != 1)
            die("recv", errno);
    }
    /* [readiness-round] */
    double dt = now_s() - t0;
    close(ep);
    return dt;
}

static void prep_recv(struct io_uring *ring, int fd, char *buf, size_t n)
{
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_recv(sqe, fd, buf, n, 0);
}

static void reap_one(struct io_uring *ring, int want)
{
    struct io_uring_cqe *cqe;
    int rc = io_uring_peek_cqe(ring, &cqe);

    if (rc != 0)
        die("no completion", -rc);
    if (cqe->res != want)
        die("recv", cqe->res < 0 ? -cqe->res : EIO);
    io_uring_cqe_seen(ring, cqe);
}

/* Completion: the recv is in the kernel before the byte comes; one
 * enter per round submits the next recv and waits for this one. */
static double bench_uring(struct io_uring *ring, int sv[2], long rounds)
{
    char buf[64];

    prep_recv(ring, sv[0], buf, sizeof buf);
    io_uring_submit(ring);
    double t0 = now_s();
    /* [completion-round] */
    for (long i = 0; i < rounds; i++) {
        peer_write(sv[1]);
        if (i + 1 < rounds)
            prep_recv(ring, sv[0], buf, sizeof buf); /* the next one */
        int rc = io_uring_submit_and_wait(ring, 1);
        if (rc < 0)
            die("io_uring_submit_and_wait", -rc);
        reap_one(ring, 1);
    }
    /* [completion-round] */
    return now_s() - t0;
}

/* Multishot: one recv for every round, from a one-buffer ring. */
static double bench_multishot(struct io_uring *ring, int sv[2], long rounds)
{
    static char pool[64] __attribute__((aligned(4096)));
    static struct io_uring_buf_ring br __attribute__((aligned(4096)));
    struct io_uring_buf_reg reg = {.ring_addr = (unsigned long)&br,
                                   .ring_entries = 1, .bgid = 1};
    int rc = io_uring_register_buf_ring(ring, &reg, 0);

    if (rc < 0)
        die("io_uring_register_buf_ring", -rc);
    io_uring_buf_ring_init(&br);
    io_uring_buf_ring_add(&br, pool, sizeof pool, 0, 0, 0);
    io_uring_buf_ring_advance(&br, 1);
    struct io_uring_sqe *sqe = io_uring_get_sqe(ring);
    io_uring_prep_recv_multishot(sqe, sv[0], NULL, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = 1;
    io_uring_submit(ring);
    double t0 = now_s();
    for (long i = 0; i < rounds; i++) {
        struct io_uring_cqe *cqe;
        peer_write(sv[1]);
        if ((rc = io_uring_wait_cqe(ring, &cqe)) < 0)
            die("io_uring_wait_cqe", -rc);
        if (cqe->res != 1 || !(cqe->flags & IORING_CQE_F_MORE))
            die("multishot recv", cqe->res < 0 ? -cqe->res : EIO);
        io_uring_cqe_seen(ring, cqe);
        io_uring_buf_ring_add(&br, pool, sizeof pool, 0, 0, 0); /* back */
        io_uring_buf_ring_advance(&br, 1);
    }
    return now_s() - t0;
}

int main(int argc, char **argv)
{
    long rounds = argc > 1 ? atol(argv[1]) : 200000;
    const char *csv = argc > 2 ? argv[2] : NULL;
    int sv[2];
    struct io_uring ring;
    struct utsname u;

    if (rounds <= 0) {
        fprintf(stderr, "usage: bench-uring [ROUNDS] [CSV-PATH]\n");
        return 2;
    }
    int rc = io_uring_queue_init(64, &ring, 0);
    if (rc < 0)
        die("io_uring is not available here", -rc);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        die("socketpair", errno);
    uname(&u);
    const char *names[] = {"epoll_wait + recv", "io_uring recv",
                           "io_uring multishot recv"};
    double t[3];
    t[0] = bench_epoll(sv, rounds);
    t[1] = bench_uring(&ring, sv, rounds);
    t[2] = bench_multishot(&ring, sv, rounds);
    printf("one byte's round trip on a socketpair, %ld rounds\n"
           "machine: %s %s, %ld cpus; compiler: %s\n\n",
           rounds, u.sysname, u.release, sysconf(_SC_NPROCESSORS_ONLN),
           __VERSION__);
    printf("%-26s %12s %8s\n", "wait", "ns/round", "ratio");
    for (int i = 0; i < 3; i++)
        printf("%-26s %12.0f %8.2f\n", names[i], t[i] / rounds * 1e9,
               t[i] / t[0]);
    if (csv != NULL) {
        FILE *f = fopen(csv, "w");
        if (f == NULL)
            die(csv, errno);
        fprintf(f, "wait,ns_per_round,ratio_to_epoll,rounds,kernel\n");
        for (int i = 0; i < 3; i++)
            fprintf(f, "%s,%.0f,%.3f,%ld,%s\n", names[i],
                    t[i] / rounds * 1e9, t[i] / t[0], rounds, u.release);
        fclose(f);
    }
    io_uring_queue_exit(&ring);
    close(sv[0]);
    close(sv[1]);
    return 0;
}
