/* Tests for exercise 03-connect-timeout: servers on 127.0.0.1, one that
 * accepts, one where nobody listens, one whose queue is full. */
#include "exercise.h"
#include "guard.h"
#include "net.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* How many descriptors this process has open (each Criterion test runs
 * in a process of its own). */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

/* A listening socket on 127.0.0.1 and a free port, with its address. */
static int server(struct sockaddr_storage *addr, socklen_t *len)
{
    char where[NET_ADDRSTR_MAX];
    int fd = net_listen("127.0.0.1", 0, where);
    cr_assert_geq(fd, 0, "net_listen: %s", strerror(errno));
    *len = sizeof *addr;
    cr_assert_eq(getsockname(fd, (struct sockaddr *)addr, len), 0);
    return fd;
}

static int call(const struct sockaddr_storage *addr, socklen_t len,
                int timeout_ms, const char *hang)
{
    guard_arm(10, hang);
    errno = 0;
    int fd = connect_timeout((const struct sockaddr *)addr, len, timeout_ms);
    int err = errno;
    guard_disarm();
    errno = err;
    return fd;
}

static const char *blocked =
    "connect_timeout() did not return: a blocking connect() waits as long "
    "as the kernel keeps trying (minutes), whatever timeout_ms says. Start "
    "the connection without waiting for it, and wait yourself, with a limit. "
    "If you do: does your wait end once timeout_ms milliseconds (not "
    "seconds) have passed, counting the time before each signal?";

Test(connect_timeout, connects_to_a_server_that_accepts, .timeout = 60)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int lfd = server(&addr, &len);
    int fds = open_fds();
    int fd = call(&addr, len, 5000, blocked);
    int err = errno;
    struct pollfd pending = {.fd = lfd, .events = POLLIN};
    cr_assert(fd >= 0 || poll(&pending, 1, 0) != 1, "connect_timeout() "
              "failed (%s) to a server that accepts, although the kernel "
              "made the connection (the server has it, waiting to be "
              "accepted): your wait did not see the connect() finish. A "
              "non-blocking connect() that is done makes the socket "
              "writable, not readable", strerror(err));
    cr_assert_geq(fd, 0, "connect_timeout() failed (%s) to a server that "
                  "accepts", strerror(err));
    cr_assert_eq(open_fds(), fds + 1, "one connection made, but %d "
                 "descriptors more are open", open_fds() - fds);
    int flags = fcntl(fd, F_GETFL);
    cr_assert_eq(flags & O_NONBLOCK, 0, "the socket returned is still "
                 "non-blocking: the contract says blocking, as socket() made "
                 "it; put its flags back before returning it");
    int conn = accept(lfd, NULL, NULL);
    cr_assert_geq(conn, 0);
    cr_assert_eq(write(fd, "ping", 4), 4);
    char buf[4];
    cr_assert_eq(net_recv_all(conn, buf, 4), 0);
    cr_assert_arr_eq(buf, "ping", 4, "the bytes did not cross the "
                     "connection");
    close(conn);
    close(fd);
    close(lfd);
}

Test(connect_timeout, a_port_where_nobody_listens_is_refused, .timeout = 60)
{
    struct sockaddr_storage addr;
    socklen_t len;
    close(server(&addr, &len)); /* a port that was free a moment ago */
    int fds = open_fds();
    int fd = call(&addr, len, 5000, blocked);
    int err = errno;
    if (fd >= 0)
        close(fd);
    cr_assert_lt(fd, 0, "connect_timeout() returned a socket for a port "
                 "where nobody listens: writable after a non-blocking "
                 "connect() means the attempt finished, successfully or "
                 "not; the socket's pending error (SO_ERROR, socket(7)) "
                 "says which");
    cr_assert_eq(err, ECONNREFUSED, "nobody listens there: errno %d (%s), "
                 "want ECONNREFUSED", err, strerror(err));
    cr_assert_eq(open_fds(), fds, "connect_timeout() failed but left a "
                 "descriptor open: close the socket before returning -1");
}

/* A server whose listen queue is full: a listen queue of 0 takes one
 * connection; while nobody accepts, the kernel drops every later SYN, and
 * those clients keep retrying. */
static int full_server(struct sockaddr_storage *addr, socklen_t *len,
                       int filler[3])
{
    int lfd = server(addr, len);
    cr_assert_eq(listen(lfd, 0), 0);
    for (int i = 0; i < 3; i++) {
        filler[i] = socket(addr->ss_family, SOCK_STREAM | SOCK_NONBLOCK, 0);
        cr_assert_geq(filler[i], 0);
        connect(filler[i], (struct sockaddr *)addr, *len);
    }
    nanosleep(&(struct timespec){0, 100000000}, NULL); /* the queue fills */
    return lfd;
}

Test(connect_timeout, a_server_that_never_answers_times_out, .timeout = 60)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int filler[3];
    int lfd = full_server(&addr, &len, filler);
    int fds = open_fds();
    double start = now_s();
    int fd = call(&addr, len, 500, blocked);
    int err = errno;
    double took = now_s() - start;
    if (fd >= 0)
        close(fd);
    cr_assert_lt(fd, 0, "connect_timeout() returned a socket although the "
                 "server never completed the connection: writable after a "
                 "non-blocking connect() means the attempt finished; did "
                 "your wait time out, and you took that for success?");
    cr_assert_eq(err, ETIMEDOUT, "a connection that never completes: errno "
                 "%d (%s), want ETIMEDOUT", err, strerror(err));
    cr_assert_geq(took, 0.45, "gave up after %.2f s, before the 0.5 s "
                  "timeout", took);
    cr_assert_lt(took, 5.0, "gave up after %.2f s with a 0.5 s timeout",
                 took);
    cr_assert_eq(open_fds(), fds, "connect_timeout() timed out but left a "
                 "descriptor open: close the socket before returning -1");
    for (int i = 0; i < 3; i++)
        close(filler[i]);
    close(lfd);
}

static void on_signal(int sig)
{
    (void)sig; /* only there to interrupt the wait */
}

/* Interrupts the main thread with a signal every 50 ms, a dozen times. */
static void *pester(void *arg)
{
    pthread_t target = *(pthread_t *)arg;
    for (int i = 0; i < 12; i++) {
        nanosleep(&(struct timespec){0, 50000000}, NULL);
        pthread_kill(target, SIGUSR1);
    }
    return NULL;
}

Test(connect_timeout, a_signal_does_not_cut_the_wait_short, .timeout = 60)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int filler[3];
    int lfd = full_server(&addr, &len, filler);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: waits fail with EINTR */
    sigemptyset(&sa.sa_mask);
    cr_assert_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    pthread_t self = pthread_self(), thread;
    double start = now_s();
    cr_assert_eq(pthread_create(&thread, NULL, pester, &self), 0);
    int fd = call(&addr, len, 500, blocked);
    int err = errno;
    double took = now_s() - start;
    pthread_join(thread, NULL);
    if (fd >= 0)
        close(fd);
    cr_assert_neq(err, EINTR, "a signal arrived during the wait and "
                  "connect_timeout() failed with EINTR after %.2f s: a "
                  "signal is not a failure, wait again for the time left "
                  "(the chapter's selector_select() does)", took);
    cr_assert_eq(fd, -1, "connect_timeout() returned a socket although the "
                 "server never completed the connection");
    cr_assert_eq(err, ETIMEDOUT, "errno %d (%s), want ETIMEDOUT", err,
                 strerror(err));
    cr_assert_geq(took, 0.45, "gave up after %.2f s, before the 0.5 s "
                  "timeout, with signals arriving", took);
    for (int i = 0; i < 3; i++)
        close(filler[i]);
    close(lfd);
}

Test(connect_timeout, a_negative_timeout_is_refused, .timeout = 60)
{
    struct sockaddr_storage addr;
    socklen_t len;
    int lfd = server(&addr, &len);
    int fds = open_fds();
    int fd = call(&addr, len, -5, blocked);
    int err = errno;
    cr_assert_eq(fd, -1, "a negative timeout_ms was accepted");
    cr_assert_eq(err, EINVAL, "a negative timeout_ms: errno %d (%s), want "
                 "EINVAL", err, strerror(err));
    cr_assert_eq(open_fds(), fds, "connect_timeout() failed but left a "
                 "descriptor open");
    close(lfd);
}

Test(connect_timeout, a_zero_timeout_only_looks, .timeout = 60)
{
    /* timeout_ms 0 is allowed: look once, do not wait. */
    struct sockaddr_storage addr;
    socklen_t len;
    int filler[3];
    int lfd = full_server(&addr, &len, filler);
    int fds = open_fds();
    double start = now_s();
    int fd = call(&addr, len, 0, blocked);
    int err = errno;
    double took = now_s() - start;
    if (fd >= 0)
        close(fd);
    cr_assert_neq(err, EINVAL, "a timeout_ms of 0 was refused with EINVAL: "
                  "the contract allows 0 or more; only a negative one is "
                  "invalid");
    cr_assert_eq(fd, -1, "connect_timeout() returned a socket although the "
                 "server never completed the connection");
    cr_assert_eq(err, ETIMEDOUT, "a timeout_ms of 0 and a connection that "
                 "is not made at once: errno %d (%s), want ETIMEDOUT", err,
                 strerror(err));
    cr_assert_lt(took, 1.0, "a timeout_ms of 0 took %.2f s: 0 means do not "
                 "wait at all", took);
    cr_assert_eq(open_fds(), fds, "connect_timeout() timed out but left a "
                 "descriptor open");
    for (int i = 0; i < 3; i++)
        close(filler[i]);
    close(lfd);
}
