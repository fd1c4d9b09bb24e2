/* Tests for exercise 04-chat-room: clients on socketpairs and on TCP
 * loopback, driven from this one thread by calling chat_step(). */
#include "exercise.h"
#include "guard.h"
#include "net.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* One client, as the test sees it: its end of the connection and
 * everything that came in on it. */
typedef struct client {
    const char *name;
    int fd;           /* the test's end, non-blocking; -1 when closed */
    int reads;        /* 0: a client that never reads */
    int eof;          /* the room closed the connection */
    size_t len;
    char got[400000]; /* NUL-terminated */
} client_t;

#define CLIENTS 6
static client_t clients[CLIENTS];

/* What the guard says when chat_step() does not come back; a test that
 * knows more says more. */
static const char *step_hang =
    "chat_step() did not return: something in it waited. The room must make "
    "every client's socket non-blocking, and chat_step() must come back "
    "after timeout_ms when nothing happens.";

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void on_sigpipe(int sig)
{
    (void)sig;
    guard_write("\nKILLED BY SIGPIPE: the room wrote to a client that had "
                "gone, and the signal ended the process. send() with "
                "MSG_NOSIGNAL reports EPIPE instead; write() cannot.\n");
    _exit(1);
}

static void set_nonblocking(int fd)
{
    int flags = fcntl(fd, F_GETFL);
    cr_assert_geq(flags, 0);
    cr_assert_eq(fcntl(fd, F_SETFL, flags | O_NONBLOCK), 0);
}

static chat_t *room(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigpipe;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
    chat_t *chat = chat_create();
    cr_assert_not_null(chat, "chat_create() returned NULL: %s",
                       strerror(errno));
    return chat;
}

/* Hand `room_end` to the room as member `name`; the test keeps `ours`. */
static client_t *join_fd(chat_t *chat, int i, const char *name, int ours,
                         int room_end)
{
    client_t *c = &clients[i];
    c->name = name;
    c->fd = ours;
    c->reads = 1;
    c->eof = 0;
    c->len = 0;
    c->got[0] = '\0';
    set_nonblocking(ours);
    guard_arm(10, "chat_join() did not return: did it send the `joined` "
                  "line with a blocking send()?");
    int rc = chat_join(chat, room_end, name);
    guard_disarm();
    cr_assert_eq(rc, 0, "chat_join(\"%s\") failed: %s", name,
                 strerror(errno));
    return c;
}

/* A client on a socketpair; sndbuf > 0 shrinks the room's send buffer
 * for it, so that the kernel holds little of what it does not read. */
static client_t *join(chat_t *chat, int i, const char *name, int sndbuf)
{
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (sndbuf > 0)
        cr_assert_eq(setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &sndbuf,
                                sizeof sndbuf), 0);
    return join_fd(chat, i, name, sv[0], sv[1]);
}

static void take_input(client_t *c)
{
    if (c->fd < 0 || !c->reads || c->eof)
        return;
    for (;;) {
        size_t room_left = sizeof c->got - 1 - c->len;
        cr_assert_gt(room_left, 0, "%s got more bytes than were ever sent",
                     c->name);
        ssize_t got = read(c->fd, c->got + c->len, room_left);
        if (got > 0) {
            c->len += (size_t)got;
            c->got[c->len] = '\0';
        } else if (got == 0 || errno == ECONNRESET) {
            c->eof = 1; /* the room closed its end */
            return;
        } else {
            cr_assert(errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR,
                      "read() on %s's end: %s", c->name, strerror(errno));
            if (errno != EINTR)
                return;
        }
    }
}

/* One turn of the room, then every reading client takes what came. */
static void step(chat_t *chat)
{
    guard_arm(10, step_hang);
    int rc = chat_step(chat, 20);
    int err = errno;
    guard_disarm();
    cr_assert_eq(rc, 0, "chat_step() failed: %s%s", strerror(err),
                 err == EBADF ? " (the selector watched a closed socket: "
                 "was one closed before it was unregistered?)" : "");
    for (int i = 0; i < CLIENTS; i++)
        take_input(&clients[i]);
}

/* Step until `c` has received `text`, for at most 10 s. */
static int arrived(chat_t *chat, client_t *c, const char *text)
{
    double end = now_s() + 10;
    while (strstr(c->got, text) == NULL && now_s() < end)
        step(chat);
    return strstr(c->got, text) != NULL;
}

/* Step for `ms` milliseconds: whatever was on its way has arrived. */
static void settle(chat_t *chat, int ms)
{
    double end = now_s() + ms / 1000.0;
    while (now_s() < end)
        step(chat);
}

/* How many descriptors this process has open (the test's process: each
 * Criterion test runs in one of its own). */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        n += fcntl(fd, F_GETFD) != -1;
    return n;
}

static void say(client_t *c, const char *text)
{
    size_t len = strlen(text);
    cr_assert_eq(write(c->fd, text, len), (ssize_t)len);
}

static void expect_exactly(const client_t *c, const char *want)
{
    cr_assert_str_eq(c->got, want, "%s received:\n%s\nwant:\n%s", c->name,
                     c->got, want);
}

Test(chat, a_line_reaches_every_other_client_and_not_the_sender,
     .timeout = 60)
{
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    client_t *c = join(chat, 2, "cyd", 0);
    say(a, "hello\n");
    cr_assert(arrived(chat, b, "ann: hello\n"), "bob never got ann's line "
              "`hello` (he got: \"%s\")", b->got);
    cr_assert(arrived(chat, c, "ann: hello\n"), "cyd never got ann's line "
              "`hello` (she got: \"%s\")", c->got);
    settle(chat, 200);
    cr_assert_null(strstr(a->got, "hello"), "ann got her own line back: a "
                   "line goes to every member except the one who sent it");
    expect_exactly(a, "* bob joined\n* cyd joined\n");
    expect_exactly(b, "* cyd joined\nann: hello\n");
    expect_exactly(c, "ann: hello\n");
    chat_destroy(chat);
    for (int i = 0; i < 3; i++) {
        char byte;
        ssize_t got = read(clients[i].fd, &byte, 1);
        cr_assert(got == 0 || (got < 0 && errno == ECONNRESET), "after "
                  "chat_destroy(), %s's connection is still open: "
                  "chat_destroy() closes every member's socket",
                  clients[i].name);
    }
}

Test(chat, lines_in_one_write_and_a_line_in_pieces_all_arrive,
     .timeout = 60)
{
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    say(a, "one\ntwo\nthr");
    cr_assert(arrived(chat, b, "ann: one\n"), "bob never got ann's line "
              "`one` (he got: \"%s\")", b->got);
    cr_assert(arrived(chat, b, "ann: two\n"), "of two lines ann sent in one "
              "write, bob got only the first: after each read, every "
              "complete line the room holds must go out (the selector will "
              "not report bytes the room already read)");
    settle(chat, 100);
    cr_assert_null(strstr(b->got, "thr"), "bob got `thr` before its newline "
                   "came: a line is complete only at its '\\n'");
    say(a, "ee\n");
    cr_assert(arrived(chat, b, "ann: three\n"), "a line sent in two pieces "
              "(`thr`, then `ee\\n`) did not arrive whole as `three` (bob "
              "got: \"%s\")", b->got);
    expect_exactly(b, "ann: one\nann: two\nann: three\n");
    chat_destroy(chat);
}

Test(chat, joins_and_leaves_are_announced, .timeout = 60)
{
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    cr_assert_eq(chat_backlog(chat, "ann"), 0);
    int fds = open_fds();
    client_t *b = join(chat, 1, "bob", 0);
    cr_assert(arrived(chat, a, "* bob joined\n"), "ann was not told that bob "
              "joined (she got: \"%s\")", a->got);
    say(b, "bye\nunfinished");
    close(b->fd); /* bob leaves in the middle of a line */
    b->fd = -1;
    cr_assert(arrived(chat, a, "* bob left\n"), "ann was not told that bob "
              "left (she got: \"%s\"): reading 0 bytes means the client "
              "closed its end", a->got);
    cr_assert_eq(chat_backlog(chat, "bob"), -1, "bob left, but "
                 "chat_backlog(\"bob\") still finds him");
    cr_assert_eq(open_fds(), fds, "bob left, but the room did not close "
                 "its end of his connection (%d descriptors open, %d before "
                 "he joined): a member who leaves has its socket closed",
                 open_fds(), fds);
    settle(chat, 100);
    expect_exactly(a, "* bob joined\nbob: bye\n* bob left\n");
    chat_destroy(chat);
}

Test(chat, a_client_joining_after_one_left_is_served, .timeout = 60)
{
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    int old = sv[1];
    join_fd(chat, 1, "bob", sv[0], sv[1]);
    close(clients[1].fd);
    clients[1].fd = -1;
    cr_assert(arrived(chat, a, "* bob left\n"), "ann was not told that bob "
              "left (she got: \"%s\")", a->got);
    /* The next socket gets the number bob's had, as it would in a server
     * (the lowest free number); the room closed it when bob left. */
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    if (sv[1] != old && sv[0] != old) {
        cr_assert_eq(dup2(sv[1], old), old);
        close(sv[1]);
        sv[1] = old;
    } else if (sv[0] == old) { /* keep `old` for the room's end */
        int t = sv[0];
        sv[0] = sv[1];
        sv[1] = t;
    }
    set_nonblocking(sv[0]);
    guard_arm(10, step_hang);
    int rc = chat_join(chat, sv[1], "cyd");
    int err = errno;
    guard_disarm();
    cr_assert_eq(rc, 0, "chat_join() failed (%s) for a new client whose "
                 "socket has the number of one that left: the room's "
                 "selector still had the old socket registered; unregister "
                 "a socket before closing it", strerror(err));
    client_t *c = &clients[2];
    c->name = "cyd";
    c->fd = sv[0];
    c->reads = 1;
    say(c, "hi\n");
    cr_assert(arrived(chat, a, "cyd: hi\n"), "a client that joined after "
              "another left was never served (ann got: \"%s\"): did the room "
              "close the old socket without unregistering it? The selector "
              "may still watch the old one under that number", a->got);
    chat_destroy(chat);
}

/* The line ann sends as number i: 48 bytes with its newline. */
static void line_of(char *out, size_t size, int i)
{
    snprintf(out, size, "line %05d of a long conversation, bob reads it\n",
             i);
}

Test(chat, a_client_that_never_reads_stalls_nobody, .timeout = 120)
{
    enum { BATCHES = 70, PER_BATCH = 50 };
    static char batch[PER_BATCH * 80], want[BATCHES * PER_BATCH * 80];
    char line[80];
    size_t want_len = 0;
    long worst = 0;
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    client_t *s = join(chat, 2, "sid", 4096);
    s->reads = 0; /* sid never reads */
    step_hang = "chat_step() did not return while sid never reads: a send() "
                "to sid blocked, and with it the whole room. Make every "
                "client's socket non-blocking and keep in the room what the "
                "kernel does not take.";
    for (int n = 0; n < BATCHES; n++) {
        size_t len = 0;
        for (int i = 0; i < PER_BATCH; i++) {
            line_of(line, sizeof line, n * PER_BATCH + i);
            size_t l = strlen(line);
            memcpy(batch + len, line, l);
            len += l;
            want_len += (size_t)snprintf(want + want_len,
                                         sizeof want - want_len, "ann: %s",
                                         line);
        }
        cr_assert_eq(write(a->fd, batch, len), (ssize_t)len);
        double end = now_s() + 10;
        while (strstr(b->got, line) == NULL && now_s() < end) {
            step(chat);
            long held = chat_backlog(chat, "sid");
            if (held > worst)
                worst = held;
            cr_assert_leq(held, CHAT_OUTPUT_MAX, "the room holds %ld bytes "
                          "for sid, who never reads: more than "
                          "CHAT_OUTPUT_MAX (%d). A client that never reads "
                          "must not make the room's memory grow without "
                          "bound: drop it when it falls that far behind",
                          held, CHAT_OUTPUT_MAX);
        }
        cr_assert_neq(strstr(b->got, line), NULL, "bob stopped getting "
                      "ann's lines after %d of %d batches while sid never "
                      "reads (the room holds %ld bytes for bob): one slow "
                      "reader must not stall the others. (If the room holds "
                      "nothing for bob, the lines stopped on their way in: "
                      "are all the complete lines of each read handed "
                      "out?)", n, BATCHES, chat_backlog(chat, "bob"));
    }
    cr_assert_eq(chat_backlog(chat, "sid"), -1, "sid is still a member after "
                 "falling more than CHAT_OUTPUT_MAX bytes behind (the room "
                 "held at most %ld bytes for sid)", worst);
    cr_assert(arrived(chat, b, "* sid dropped: too slow\n"), "nobody was "
              "told that sid was dropped: the others must get `* sid "
              "dropped: too slow`");
    cr_assert(arrived(chat, a, "* sid dropped: too slow\n"), "ann was not "
              "told that sid was dropped");
    /* bob got every line, in order, with the notices in between. */
    char *notice = strstr(b->got, "* sid dropped: too slow\n");
    size_t nl = strlen("* sid dropped: too slow\n");
    memmove(notice, notice + nl, strlen(notice + nl) + 1);
    cr_assert(strncmp(b->got, "* sid joined\n", 13) == 0, "bob's first line "
              "is not `* sid joined`");
    cr_assert_eq(strlen(b->got + 13), want_len, "bob got %zu bytes of ann's "
                 "lines, want %zu", strlen(b->got + 13), want_len);
    cr_assert(memcmp(b->got + 13, want, want_len) == 0, "bob got ann's lines "
              "out of order or changed");
    /* sid, reading at last, finds the end of the stream. */
    s->reads = 1;
    double end = now_s() + 10;
    while (!s->eof && now_s() < end) {
        take_input(s);
        nanosleep(&(struct timespec){0, 1000000}, NULL);
    }
    cr_assert(s->eof, "sid's socket was not closed when sid was dropped");
    chat_destroy(chat);
}

Test(chat, a_client_a_little_behind_gets_everything_once_it_reads,
     .timeout = 60)
{
    enum { LINES = 600 }; /* about 32 KB for bob: more than the kernel
                             holds for him, less than CHAT_OUTPUT_MAX */
    static char text[LINES * 80], want[LINES * 80];
    char line[80];
    size_t len = 0, want_len = 0;
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 4096);
    b->reads = 0; /* bob looks away for a moment */
    for (int i = 0; i < LINES; i++) {
        line_of(line, sizeof line, i);
        len += (size_t)snprintf(text + len, sizeof text - len, "%s", line);
        want_len += (size_t)snprintf(want + want_len, sizeof want - want_len,
                                     "ann: %s", line);
    }
    cr_assert_eq(write(a->fd, text, len), (ssize_t)len);
    settle(chat, 300);
    long held = chat_backlog(chat, "bob");
    cr_assert_neq(held, -1, "bob, who fell about 32 KB behind, is no longer "
                  "a member: a client may be dropped only when it falls "
                  "more than CHAT_OUTPUT_MAX (%d) bytes behind; until then "
                  "the room keeps what the kernel does not take",
                  CHAT_OUTPUT_MAX);
    cr_assert_gt(held, 0, "the room holds nothing for bob, who has not read "
                 "32 KB: did the lines go anywhere?");
    b->reads = 1;
    int all = arrived(chat, b, line);
    held = chat_backlog(chat, "bob");
    cr_assert(all || held <= 0, "bob reads again, but the rest of ann's "
              "lines never came (he has %zu of %zu bytes, the room still "
              "holds %ld for him): what the room keeps for a client must go "
              "out when its socket becomes writable again, without waiting "
              "for another line", b->len, want_len, held);
    cr_assert(all, "bob got %zu of %zu bytes, and the room holds nothing "
              "more for him: ann's lines stopped on their way in. Are all "
              "the complete lines of each read handed out?", b->len,
              want_len);
    cr_assert_eq(b->len, want_len, "bob got %zu bytes, want %zu", b->len,
                 want_len);
    cr_assert(memcmp(b->got, want, want_len) == 0, "bob got ann's lines out "
              "of order or changed");
    cr_assert_eq(chat_backlog(chat, "bob"), 0);
    chat_destroy(chat);
}

Test(chat, a_client_that_vanished_costs_only_its_connection, .timeout = 60)
{
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    client_t *v = join(chat, 2, "vic", 0);
    settle(chat, 50);
    /* vic stops receiving: the next send to vic fails with EPIPE, and a
     * plain write() would raise SIGPIPE, which kills a process. */
    cr_assert_eq(shutdown(v->fd, SHUT_RD), 0);
    say(a, "anyone there?\n");
    cr_assert(arrived(chat, b, "ann: anyone there?\n"), "bob never got "
              "ann's line once vic had gone (bob got: \"%s\")", b->got);
    cr_assert(arrived(chat, b, "* vic left\n"), "bob was not told that vic "
              "left: a send() that fails with EPIPE means the client is "
              "gone (bob got: \"%s\")", b->got);
    cr_assert_eq(chat_backlog(chat, "vic"), -1);
    chat_destroy(chat);
}

Test(chat, a_line_too_long_drops_its_sender, .timeout = 60)
{
    static char text[CHAT_LINE_MAX + 2];
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    client_t *l = join(chat, 2, "len", 0);
    memset(text, 'x', CHAT_LINE_MAX);
    text[CHAT_LINE_MAX] = '\n';
    say(l, text); /* the longest line allowed */
    cr_assert(arrived(chat, b, "len: x"), "a line of exactly CHAT_LINE_MAX "
              "bytes never arrived");
    cr_assert(arrived(chat, b, "x\n"), "a line of exactly CHAT_LINE_MAX "
              "bytes never arrived whole");
    text[CHAT_LINE_MAX] = 'x';
    say(l, text); /* one byte too many, and no newline in sight */
    cr_assert(arrived(chat, a, "* len dropped: line too long\n"), "len sent "
              "%d bytes without a newline, and nobody was told `* len "
              "dropped: line too long` (ann got: \"%.200s\")",
              CHAT_LINE_MAX + 1, a->got);
    cr_assert_eq(chat_backlog(chat, "len"), -1);
    chat_destroy(chat);
}

Test(chat, five_clients_over_tcp_loopback_hear_each_other, .timeout = 60)
{
    char where[NET_ADDRSTR_MAX], name[5][8], line[64];
    int lfd = net_listen("127.0.0.1", 0, where);
    cr_assert_geq(lfd, 0, "net_listen: %s", strerror(errno));
    struct sockaddr_storage addr;
    socklen_t alen = sizeof addr;
    cr_assert_eq(getsockname(lfd, (struct sockaddr *)&addr, &alen), 0);
    chat_t *chat = room();
    for (int i = 0; i < 5; i++) {
        int fd = socket(addr.ss_family, SOCK_STREAM, 0);
        cr_assert_geq(fd, 0);
        cr_assert_eq(connect(fd, (struct sockaddr *)&addr, alen), 0);
        int conn = accept(lfd, NULL, NULL);
        cr_assert_geq(conn, 0);
        snprintf(name[i], sizeof name[i], "tcp%d", i);
        join_fd(chat, i, name[i], fd, conn);
    }
    close(lfd);
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "greetings from %s\n", name[i]);
        say(&clients[i], line);
    }
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++) {
            if (i == j)
                continue;
            snprintf(line, sizeof line, "%s: greetings from %s\n", name[j],
                     name[j]);
            cr_assert(arrived(chat, &clients[i], line), "%s never got %s's "
                      "line over TCP (got: \"%s\")", name[i], name[j],
                      clients[i].got);
        }
    settle(chat, 100);
    for (int i = 0; i < 5; i++) {
        snprintf(line, sizeof line, "%s: greetings", name[i]);
        cr_assert_null(strstr(clients[i].got, line), "%s got its own line "
                       "back: a line goes to every member except the one "
                       "who sent it", name[i]);
    }
    chat_destroy(chat);
}

Test(chat, chat_step_comes_back_when_nothing_happens, .timeout = 60)
{
    chat_t *chat = room();
    join(chat, 0, "ann", 0);
    int sv[2];
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    const char *bad[] = {"", "a-name-of-thirty-three-bytes-long", "two\nlines"};
    for (int i = 0; i < 3; i++) {
        errno = 0;
        cr_assert_eq(chat_join(chat, sv[1], bad[i]), -1, "chat_join() "
                     "accepted the name \"%s\"", bad[i]);
        cr_assert_eq(errno, EINVAL, "a bad name (\"%s\"): errno %d (%s), "
                     "want EINVAL", bad[i], errno, strerror(errno));
    }
    close(sv[0]);
    close(sv[1]); /* a failed join leaves the socket to the caller */
    double start = now_s();
    step(chat);
    step(chat);
    cr_assert_lt(now_s() - start, 5.0, "two chat_step(chat, 20) calls with "
                 "nothing to do took %.1f s", now_s() - start);
    chat_destroy(chat);
}

Test(chat, an_idle_room_waits_instead_of_spinning, .timeout = 60)
{
    /* A socket with room in its send buffer is always writable: a room
     * that watches for writable with nothing to send never sleeps. */
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    join(chat, 1, "bob", 0);
    cr_assert(arrived(chat, a, "* bob joined\n"), "ann was never told that "
              "bob joined");
    settle(chat, 100);
    double start = now_s();
    for (int i = 0; i < 3; i++) {
        guard_arm(10, step_hang);
        cr_assert_eq(chat_step(chat, 300), 0);
        guard_disarm();
    }
    double took = now_s() - start;
    cr_assert_geq(took, 0.5, "three chat_step(chat, 300) calls in a room "
                  "where nothing happens took %.3f s in all, not about "
                  "0.9: the wait ended at once although there was nothing "
                  "to do. Is the room watching for writable a client it "
                  "has nothing to send? That loop never sleeps (100%% CPU)",
                  took);
    chat_destroy(chat);
}

Test(chat, a_line_is_bytes_a_nul_included, .timeout = 60)
{
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    cr_assert_eq(write(a->fd, "a\0b\n", 4), 4);
    say(a, "next\n");
    static const char want[] = "ann: a\0b\nann: next\n";
    /* Not arrived(): its strstr() would stop at the NUL too. */
    double end = now_s() + 10;
    while (b->len < sizeof want - 1 && now_s() < end)
        step(chat);
    settle(chat, 100);
    cr_assert(b->len >= sizeof want - 1 &&
              memcmp(b->got + b->len - (sizeof want - 1), want,
                     sizeof want - 1) == 0,
              "ann sent the line \"a\\0b\" (a, a NUL byte, b) and bob got "
              "\"%s\" (%zu bytes in all): a line is every byte before the "
              "newline, a '\\0' included; C string functions (strlen, "
              "%%s, strcpy) stop at the first one", b->got, b->len);
    chat_destroy(chat);
}

Test(chat, a_drop_notice_comes_after_the_line_that_caused_it, .timeout = 120)
{
    /* bob joined before sid, cyd after him: whichever way the room walks
     * its members, one of them is reached after sid. Both must get the
     * room's lines in the one order the room made them. */
    enum { BATCH = 50, MAX_BATCHES = 100 };
    static char batch[BATCH * 80];
    char line[80];
    chat_t *chat = room();
    client_t *a = join(chat, 0, "ann", 0);
    client_t *b = join(chat, 1, "bob", 0);
    client_t *s = join(chat, 2, "sid", 4096);
    client_t *c = join(chat, 3, "cyd", 0);
    s->reads = 0; /* sid never reads */
    step_hang = "chat_step() did not return while sid never reads: a send() "
                "to sid blocked";
    for (int n = 0; n < MAX_BATCHES && chat_backlog(chat, "sid") != -1; n++) {
        size_t len = 0;
        for (int i = 0; i < BATCH; i++) {
            line_of(line, sizeof line, n * BATCH + i);
            size_t l = strlen(line);
            memcpy(batch + len, line, l);
            len += l;
        }
        cr_assert_eq(write(a->fd, batch, len), (ssize_t)len);
        double end = now_s() + 10;
        while (strstr(c->got, line) == NULL && now_s() < end)
            step(chat);
        cr_assert_neq(strstr(c->got, line), NULL, "cyd stopped getting "
                      "ann's lines after %d batches while sid never reads "
                      "(the room holds %ld bytes for cyd): one slow reader "
                      "must not stall the others. (If the room holds "
                      "nothing for cyd, the lines stopped on their way in: "
                      "are all the complete lines of each read handed "
                      "out?)", n, chat_backlog(chat, "cyd"));
    }
    cr_assert_eq(chat_backlog(chat, "sid"), -1, "sid, who never reads, was "
                 "never dropped");
    const char *notice = "* sid dropped: too slow\n";
    cr_assert(arrived(chat, b, notice), "bob was not told that sid was "
              "dropped");
    cr_assert(arrived(chat, c, notice), "cyd was not told that sid was "
              "dropped");
    settle(chat, 200);
    const char *joined = "* sid joined\n* cyd joined\n";
    cr_assert(strncmp(b->got, joined, strlen(joined)) == 0, "bob's first "
              "lines are not `* sid joined` and `* cyd joined`");
    const char *since = b->got + strlen(joined); /* since cyd is a member */
    if (strcmp(since, c->got) != 0) {
        /* Show the line before the notice in each transcript. */
        char around[2][200];
        const char *t[2] = {since, c->got};
        for (int i = 0; i < 2; i++) {
            const char *at = strstr(t[i], notice);
            const char *from = at - t[i] > 110 ? at - 110 : t[i];
            snprintf(around[i], sizeof around[i], "%.*s", (int)(at - from +
                     (int)strlen(notice)), from);
        }
        cr_assert_fail("bob and cyd were sent the room's lines in different "
                       "orders. Around the notice, bob got:\n...%s\nand "
                       "cyd got:\n...%s\nThe notice is made after the line "
                       "whose delivery dropped sid, so it comes after that "
                       "line, for every member: a drop in the middle of "
                       "sending a line to everyone must not jump ahead of "
                       "that line", around[0], around[1]);
    }
    chat_destroy(chat);
}
