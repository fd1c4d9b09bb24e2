/* Tests for exercise 04-kv-server: kv_serve() runs in a thread on a
 * loopback port; the tests are its clients. */
#include "exercise.h"

#include "guard.h"
#include "net.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* How long a client waits for one reply line. */
#define REPLY_WAIT_S 3

static void pause_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* ---- the server, in a thread ------------------------------------------ */

static struct {
    int listen_fd;
    unsigned clients;
    int rc;
    unsigned short port;
    pthread_t thread;
} server;

static void *server_main(void *arg)
{
    (void)arg;
    server.rc = kv_serve(server.listen_fd, server.clients);
    return NULL;
}

static void start_server(unsigned clients)
{
    char where[NET_ADDRSTR_MAX];
    struct sockaddr_in addr;
    socklen_t len = sizeof addr;

    server.listen_fd = net_listen("127.0.0.1", 0, where);
    cr_assert_geq(server.listen_fd, 0, "net_listen() failed: %s",
                  strerror(errno));
    cr_assert_eq(getsockname(server.listen_fd, (struct sockaddr *)&addr, &len),
                 0);
    server.port = ntohs(addr.sin_port);
    server.clients = clients;
    server.rc = -2;
    cr_assert_eq(pthread_create(&server.thread, NULL, server_main, NULL), 0);
}

static void expect_server_done(void)
{
    guard_arm(5, "kv_serve() did not return after serving all its clients: "
                 "does it count each connection that ends, and stop there?");
    pthread_join(server.thread, NULL);
    guard_disarm();
    cr_assert_eq(server.rc, 0, "kv_serve() returned %d after serving its %u "
                 "clients; it must return 0", server.rc, server.clients);
    close(server.listen_fd);
}

/* ---- a client ----------------------------------------------------------- */

static int dial(void)
{
    struct sockaddr_in addr = {.sin_family = AF_INET,
                               .sin_port = htons(server.port)};
    struct timeval wait = {REPLY_WAIT_S, 0};
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    cr_assert_geq(fd, 0);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    cr_assert_eq(connect(fd, (struct sockaddr *)&addr, sizeof addr), 0,
                 "could not connect to kv_serve(): %s", strerror(errno));
    cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait),
                 0);
    return fd;
}

static void say(int fd, const char *text)
{
    cr_assert_eq(net_send_all(fd, text, strlen(text)), 0,
                 "could not send to kv_serve(): %s (did it close the "
                 "connection?)", strerror(errno));
}

/* Read one reply line; what went wrong, in words, if none came. */
static void expect(int fd, const char *request, const char *want,
                   const char *why)
{
    char line[512];
    size_t len = 0;

    for (;;) {
        char c;
        ssize_t n = recv(fd, &c, 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        cr_assert_neq(n, 0, "the server closed the connection instead of "
                      "answering \"%s\"%s", request, why);
        cr_assert_gt(n, 0, "no reply within %d s to \"%s\": every request "
                     "line gets one reply%s", REPLY_WAIT_S, request, why);
        if (c == '\n')
            break;
        cr_assert_lt(len, sizeof line - 1, "a reply line longer than %zu "
                     "bytes", sizeof line - 1);
        line[len++] = c;
    }
    line[len] = '\0';
    if (strcmp(want, "ERROR") == 0)
        cr_assert(strncmp(line, "ERROR ", 6) == 0, "the reply to \"%s\" is "
                  "\"%s\"; it must be \"ERROR <why>\"%s", request, line, why);
    else
        cr_assert_str_eq(line, want, "the reply to \"%s\" is \"%s\"; it must "
                         "be \"%s\"%s", request, line, want, why);
}

/* ---- the tests ------------------------------------------------------------ */

Test(kv_server, sets_and_gets_a_value)
{
    start_server(1);
    int fd = dial();
    say(fd, "SET colour blue\n");
    expect(fd, "SET colour blue", "OK", "");
    say(fd, "GET colour\n");
    expect(fd, "GET colour", "VALUE blue", "");
    say(fd, "GET shape\r\n");
    expect(fd, "GET shape\\r", "MISSING", " (a \"\\r\" before the \"\\n\" is "
           "not part of the line)");
    say(fd, "SET colour green\n");
    expect(fd, "SET colour green", "OK", "");
    say(fd, "GET colour\n");
    expect(fd, "GET colour", "VALUE green", " (a second SET replaces the "
           "value)");
    say(fd, "DEL colour\n");
    expect(fd, "DEL colour", "OK", "");
    say(fd, "GET colour\n");
    expect(fd, "GET colour", "MISSING", " (after DEL)");
    say(fd, "QUIT\n");
    expect(fd, "QUIT", "BYE", "");
    close(fd);
    expect_server_done();
}

Test(kv_server, keeps_the_spaces_in_a_value)
{
    start_server(1);
    int fd = dial();
    say(fd, "SET greeting hello there, world\n");
    expect(fd, "SET greeting hello there, world", "OK", "");
    say(fd, "GET greeting\n");
    expect(fd, "GET greeting", "VALUE hello there, world",
           ": the value is the rest of the line, spaces included");
    close(fd);
    expect_server_done();
}

Test(kv_server, the_store_outlives_a_connection)
{
    start_server(2);
    int fd = dial();
    say(fd, "SET a 1\n");
    expect(fd, "SET a 1", "OK", "");
    say(fd, "QUIT\n");
    expect(fd, "QUIT", "BYE", "");
    char c;
    cr_assert_eq(recv(fd, &c, 1, 0), 0, "after BYE the server must close the "
                 "connection");
    close(fd);

    fd = dial();
    say(fd, "GET a\n");
    expect(fd, "GET a", "VALUE 1", ": the second client must see what the "
           "first one set; the store must outlive a connection");
    close(fd);
    expect_server_done();
}

Test(kv_server, answers_requests_sent_in_one_piece)
{
    start_server(1);
    int fd = dial();
    say(fd, "SET a 1\nSET b 2\nGET a\nGET b\n");
    const char *why = ", and four were sent in one piece: a recv() can hold "
                      "several lines, or part of one; answer each line";
    expect(fd, "SET a 1", "OK", why);
    expect(fd, "SET b 2", "OK", why);
    expect(fd, "GET a", "VALUE 1", why);
    expect(fd, "GET b", "VALUE 2", why);
    close(fd);
    expect_server_done();
}

Test(kv_server, answers_a_request_sent_one_byte_at_a_time)
{
    start_server(1);
    int fd = dial();
    for (const char *p = "SET slow yes\n"; *p != '\0'; p++) {
        cr_assert_eq(send(fd, p, 1, MSG_NOSIGNAL), 1);
        pause_ms(5);
    }
    expect(fd, "SET slow yes", "OK", ", sent one byte at a time: a line may "
           "come in many recv()s");
    say(fd, "GET slow\n");
    expect(fd, "GET slow", "VALUE yes", "");
    close(fd);
    expect_server_done();
}

Test(kv_server, answers_a_bad_request_with_an_error_and_goes_on)
{
    start_server(1);
    int fd = dial();
    say(fd, "FLY away\n");
    expect(fd, "FLY away", "ERROR", "");
    say(fd, "GET\n");
    expect(fd, "GET", "ERROR", " (a GET without a key)");
    say(fd, "SET lonely\n");
    expect(fd, "SET lonely", "ERROR", " (a SET without a value)");
    say(fd, "GET a b\n");
    expect(fd, "GET a b", "ERROR", " (a key has no space, and GET takes a "
           "key and nothing more: is everything after \"GET \" taken as "
           "the key?)");
    say(fd, "GET a\n");
    expect(fd, "GET a", "MISSING", ": after an ERROR the connection goes on");
    close(fd);
    expect_server_done();
}

Test(kv_server, skips_an_overlong_line_with_one_error)
{
    static char line[5002];

    start_server(1);
    int fd = dial();
    memset(line, 'x', 5000);
    memcpy(line, "SET big ", 8);
    line[5000] = '\n';
    say(fd, line);
    say(fd, "SET k v\n");
    const char *why = ", after a 5000-byte line: an overlong line gets "
                      "exactly one ERROR reply, and the rest of it is "
                      "skipped, not read as more requests";
    expect(fd, "SET big xxx... (5000 bytes)", "ERROR", why);
    expect(fd, "SET k v", "OK", why);
    say(fd, "GET big\n");
    expect(fd, "GET big", "MISSING", ": an overlong SET must not store "
           "anything");
    close(fd);
    expect_server_done();
}

Test(kv_server, refuses_a_new_key_when_full)
{
    char request[64];

    start_server(1);
    int fd = dial();
    for (int i = 0; i < KV_KEYS_MAX; i++) {
        snprintf(request, sizeof request, "SET k%d %d\n", i, i);
        say(fd, request);
        expect(fd, "SET k<i> <i>", "OK", " (filling the store)");
    }
    say(fd, "SET one-too-many x\n");
    expect(fd, "SET one-too-many x", "ERROR", ": the store holds "
           "KV_KEYS_MAX keys");
    say(fd, "SET k0 again\n");
    expect(fd, "SET k0 again", "OK", ": replacing a key's value needs no new "
           "room");
    say(fd, "DEL k1\n");
    expect(fd, "DEL k1", "OK", "");
    say(fd, "SET now-it-fits y\n");
    expect(fd, "SET now-it-fits y", "OK", ": a DEL makes room");
    close(fd);
    expect_server_done();
}

Test(kv_server, survives_a_client_that_hangs_up_mid_line)
{
    start_server(2);
    int fd = dial();
    say(fd, "SET half");
    close(fd);

    fd = dial();
    say(fd, "GET half\n");
    expect(fd, "GET half", "MISSING", ", from the client after one that hung "
           "up mid-line: is the server still serving the first one (did it "
           "notice that recv() returned 0)?");
    close(fd);
    expect_server_done();
}

Test(kv_server, refuses_a_key_longer_than_KV_KEY_MAX)
{
    char request[2 * KV_KEY_MAX + 16];
    char key[KV_KEY_MAX + 2];

    start_server(1);
    int fd = dial();
    memset(key, 'k', KV_KEY_MAX);
    key[KV_KEY_MAX] = '\0';
    snprintf(request, sizeof request, "SET %s longest\n", key);
    say(fd, request);
    expect(fd, "SET <a KV_KEY_MAX-byte key> longest", "OK", ": a key of "
           "exactly KV_KEY_MAX bytes is allowed");
    snprintf(request, sizeof request, "GET %s\n", key);
    say(fd, request);
    expect(fd, "GET <that key>", "VALUE longest", "");

    key[KV_KEY_MAX] = 'k'; /* one byte too many */
    key[KV_KEY_MAX + 1] = '\0';
    snprintf(request, sizeof request, "SET %s too-long\n", key);
    say(fd, request);
    expect(fd, "SET <a key of KV_KEY_MAX + 1 bytes> too-long", "ERROR",
           ": a key is at most KV_KEY_MAX bytes; a longer one is refused, "
           "not cut short");
    key[KV_KEY_MAX] = '\0';
    snprintf(request, sizeof request, "GET %s\n", key);
    say(fd, request);
    expect(fd, "GET <the first KV_KEY_MAX bytes of that key>",
           "VALUE longest", ": the refused SET with a too-long key must not "
           "change the value of the key it starts with (is the key cut "
           "short?)");
    close(fd);
    expect_server_done();
}

Test(kv_server, takes_a_line_of_exactly_KV_LINE_MAX)
{
    static char request[KV_LINE_MAX + 3];
    static char want[KV_LINE_MAX + 1];

    start_server(1);
    int fd = dial();
    /* "SET k " and a value that makes the line KV_LINE_MAX bytes, then a
     * "\r\n" line end, which does not count. */
    memset(request, 'v', KV_LINE_MAX);
    memcpy(request, "SET k ", 6);
    memcpy(request + KV_LINE_MAX, "\r\n", 3);
    say(fd, request);
    expect(fd, "SET k vvv... (a line of exactly KV_LINE_MAX bytes, then "
           "\\r\\n)", "OK", ": a line of KV_LINE_MAX bytes is allowed, "
           "and its line end does not count (is your line buffer a few "
           "bytes short?)");
    memcpy(want, "VALUE ", 6);
    memset(want + 6, 'v', KV_LINE_MAX - 6);
    want[KV_LINE_MAX] = '\0';
    say(fd, "GET k\n");
    expect(fd, "GET k", want, ": the value must come back whole");
    close(fd);
    expect_server_done();
}
