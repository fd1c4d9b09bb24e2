/* Tests for exercise 03-deadline: a server on the other end of a
 * socketpair, in a thread, that answers well, late, slowly or never. */
#include "exercise.h"

#include "guard.h"
#include "net.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

struct server {
    void (*serve)(struct server *s);
    int fd;
    char got[64]; /* the request as the server received it */
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    s->serve(s);
    return NULL;
}

/* Read one request line (up to 63 bytes) into s->got. */
static void read_request(struct server *s)
{
    size_t len = 0;
    char c;
    while (len + 1 < sizeof s->got && recv(s->fd, &c, 1, 0) == 1) {
        s->got[len++] = c;
        if (c == '\n')
            break;
    }
    s->got[len] = '\0';
}

static void pong(struct server *s)
{
    read_request(s);
    net_send_all(s->fd, "pong\n", 5);
}

static void two_lines(struct server *s)
{
    read_request(s);
    net_send_all(s->fd, "one\ntwo\n", 8);
}

static void silent(struct server *s)
{
    read_request(s);
}

static void dripping(struct server *s)
{
    read_request(s);
    while (send(s->fd, "x", 1, MSG_NOSIGNAL) == 1)
        pause_ms(50);
}

static void never_reads(struct server *s)
{
    (void)s;
}

static void long_line(struct server *s)
{
    char line[101];
    read_request(s);
    memset(line, 'a', 100);
    line[100] = '\n';
    net_send_all(s->fd, line, sizeof line);
}

/* A line of exactly 15 bytes: with cap 16 it just fits, with its NUL. */
static void line_of_15(struct server *s)
{
    read_request(s);
    net_send_all(s->fd, "bbbbbbbbbbbbbbb\n", 16);
}

/* A line of exactly 16 bytes: with cap 16 its NUL would not fit. */
static void line_of_16(struct server *s)
{
    read_request(s);
    net_send_all(s->fd, "cccccccccccccccc\n", 17);
}

static void hangs_up_mid_line(struct server *s)
{
    read_request(s);
    net_send_all(s->fd, "par", 3);
    shutdown(s->fd, SHUT_RDWR);
}

/* One exchange against `serve`: the call's result, errno and duration. */
struct outcome {
    ssize_t rc;
    int err;
    double took;
};

static struct outcome ask(void (*serve)(struct server *), const char *request,
                          char *reply, size_t cap, int deadline_ms,
                          const char *what, int *client_fd,
                          struct server *s)
{
    int sv[2];
    pthread_t thread;

    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    *s = (struct server){.serve = serve, .fd = sv[1]};
    cr_assert_eq(pthread_create(&thread, NULL, server_main, s), 0);
    pthread_detach(thread);

    struct outcome o;
    double start = now_s();
    guard_arm(6, what);
    errno = 0;
    o.rc = ask_with_deadline(sv[0], request, reply, cap, deadline_ms);
    o.err = errno;
    guard_disarm();
    o.took = now_s() - start;
    *client_fd = sv[0];
    return o;
}

static void expect_timeout(struct outcome o, int deadline_ms)
{
    cr_assert_eq(o.rc, -1, "ask_with_deadline() returned %zd; the deadline "
                 "passed first, so it must return -1", o.rc);
    cr_assert_eq(o.err, ETIMEDOUT, "errno is %s; when the deadline passes it "
                 "must be ETIMEDOUT (a timed-out blocking call leaves EAGAIN)",
                 strerror(o.err));
    cr_assert_geq(o.took, deadline_ms / 1000.0 * 0.9, "gave up after %.3f s, "
                  "before the %d ms deadline", o.took, deadline_ms);
    cr_assert_lt(o.took, deadline_ms / 1000.0 + 2.0, "gave up after %.3f s, "
                 "long after the %d ms deadline", o.took, deadline_ms);
}

Test(deadline, returns_the_reply_line)
{
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */
    struct outcome o = ask(pong, "ping\n", reply, sizeof reply, 2000,
                           "ask_with_deadline() did not return though the "
                           "server answered at once", &fd, &s);

    cr_assert_eq(o.rc, 4, "ask_with_deadline() returned %zd (errno %s) for "
                 "the reply \"pong\\n\"; it must return 4, the length "
                 "without the newline", o.rc, strerror(o.err));
    cr_assert_str_eq(reply, "pong", "the reply buffer holds \"%s\"", reply);
    cr_assert_str_eq(s.got, "ping\n", "the server received \"%s\" instead of "
                     "the request \"ping\\n\"", s.got);
    close(fd);
}

Test(deadline, reads_no_byte_past_the_newline)
{
    char reply[32];
    char rest[16] = {0};
    int fd;
    static struct server s; /* the detached server thread may outlive the call */
    struct outcome o = ask(two_lines, "ping\n", reply, sizeof reply, 2000,
                           "ask_with_deadline() did not return though the "
                           "server answered at once", &fd, &s);

    cr_assert_eq(o.rc, 3, "returned %zd (errno %s) for the first line "
                 "\"one\"", o.rc, strerror(o.err));
    cr_assert_str_eq(reply, "one");
    pause_ms(50);
    ssize_t n = recv(fd, rest, sizeof rest - 1, MSG_DONTWAIT);
    cr_assert(n == 4 && memcmp(rest, "two\n", 4) == 0, "after the call "
              "returned \"one\", the line \"two\\n\" that the server sent "
              "right behind it must still be in the socket; found %zd "
              "bytes: did the call read past its newline?", n);
    close(fd);
}

Test(deadline, gives_up_on_a_silent_server)
{
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */
    struct outcome o = ask(silent, "ping\n", reply, sizeof reply, 300,
                           "ask_with_deadline() never returned while the "
                           "server said nothing: is every wait bounded by "
                           "the deadline?", &fd, &s);
    expect_timeout(o, 300);
    close(fd);
}

Test(deadline, gives_up_on_a_server_that_drips_one_byte_at_a_time)
{
    char reply[4096];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */
    struct outcome o = ask(dripping, "ping\n", reply, sizeof reply, 400,
                           "ask_with_deadline() was still reading a reply "
                           "that comes one byte every 50 ms, long after its "
                           "400 ms deadline: is your limit on the whole "
                           "call, or only on each wait?", &fd, &s);
    expect_timeout(o, 400);
    close(fd);
}

Test(deadline, gives_up_on_a_server_that_never_reads)
{
    size_t len = 8u << 20; /* more than the socket buffers hold */
    char *request = malloc(len + 1);
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */

    cr_assert(request != NULL);
    memset(request, 'r', len - 1);
    request[len - 1] = '\n';
    request[len] = '\0';
    struct outcome o = ask(never_reads, request, reply, sizeof reply, 300,
                           "ask_with_deadline() was still sending a request "
                           "the server never reads, long after its 300 ms "
                           "deadline: is sending bounded too?", &fd, &s);
    expect_timeout(o, 300);
    close(fd);
    free(request);
}

Test(deadline, refuses_a_line_longer_than_the_buffer)
{
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */

    memset(reply, '#', sizeof reply);
    struct outcome o = ask(long_line, "ping\n", reply, 16, 2000,
                           "ask_with_deadline() did not return on a 100-byte "
                           "line", &fd, &s);

    cr_assert_eq(o.rc, -1, "returned %zd for a 100-byte line and a 16-byte "
                 "buffer: a line that does not fit is an error (EMSGSIZE), "
                 "not a truncated reply", o.rc);
    cr_assert_eq(o.err, EMSGSIZE, "errno is %s; a line that does not fit "
                 "must give EMSGSIZE", strerror(o.err));
    for (size_t i = 16; i < sizeof reply; i++)
        cr_assert_eq(reply[i], '#', "byte %zu of the buffer was written, but "
                     "cap is 16: the answer writes past the buffer", i);
    close(fd);
}

Test(deadline, takes_a_line_that_just_fits)
{
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */

    memset(reply, '#', sizeof reply);
    struct outcome o = ask(line_of_15, "ping\n", reply, 16, 2000,
                           "ask_with_deadline() did not return on a 15-byte "
                           "line", &fd, &s);

    cr_assert_eq(o.rc, 15, "returned %zd (errno %s) for a 15-byte line and "
                 "cap 16: 15 bytes and the NUL fit exactly, so the call must "
                 "return 15; is the size checked before the newline is seen?",
                 o.rc, strerror(o.err));
    cr_assert(memcmp(reply, "bbbbbbbbbbbbbbb", 16) == 0, "the reply is not "
              "the 15-byte line followed by its NUL");
    close(fd);
}

Test(deadline, refuses_a_line_one_byte_too_long)
{
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */

    memset(reply, '#', sizeof reply);
    struct outcome o = ask(line_of_16, "ping\n", reply, 16, 2000,
                           "ask_with_deadline() did not return on a 16-byte "
                           "line", &fd, &s);

    for (size_t i = 16; i < sizeof reply; i++)
        cr_assert_eq(reply[i], '#', "byte %zu of the buffer was written for a "
                     "16-byte line, but cap is 16: the line and its NUL need "
                     "17 bytes, so it does not fit (off by one?)", i);
    cr_assert_eq(o.rc, -1, "returned %zd for a 16-byte line and cap 16: the "
                 "line and its NUL need 17 bytes, so it does not fit "
                 "(EMSGSIZE); off by one?", o.rc);
    cr_assert_eq(o.err, EMSGSIZE, "errno is %s; a line that does not fit "
                 "must give EMSGSIZE", strerror(o.err));
    close(fd);
}

Test(deadline, reports_a_server_that_hangs_up_mid_line)
{
    char reply[32];
    int fd;
    static struct server s; /* the detached server thread may outlive the call */
    struct outcome o = ask(hangs_up_mid_line, "ping\n", reply, sizeof reply,
                           2000, "ask_with_deadline() did not return after "
                           "the server hung up: does it notice the end of "
                           "stream (recv() returns 0)?", &fd, &s);

    cr_assert_eq(o.rc, -1, "returned %zd: the server closed after \"par\" "
                 "without a newline, and a cut line is an error "
                 "(ECONNRESET)", o.rc);
    cr_assert_eq(o.err, ECONNRESET, "errno is %s; a server that hangs up "
                 "mid-line must give ECONNRESET", strerror(o.err));
    close(fd);
}
