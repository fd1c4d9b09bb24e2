/* Tests for exercise 02-deadlocked-client: a server on the other end of a
 * socketpair, in a thread: the chapter's echo_serve(), or one of the odd
 * servers below. */
#include "exercise.h"

#include "echo.h"
#include "guard.h"
#include "net.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* Echo everything, 7 bytes at a time. */
static int trickle_serve(int fd)
{
    char buf[7];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof buf, 0)) > 0)
        if (net_send_all(fd, buf, (size_t)n) < 0)
            return -1;
    return n == 0 ? shutdown(fd, SHUT_WR) : -1;
}

/* Echo as echo_serve() does, but hang up once 1,000 bytes went back. It
 * never waits for more than it echoes, so a client that keeps only a few
 * bytes in flight is not stuck before the hang-up. */
static int early_close_serve(int fd)
{
    char buf[ECHO_CHUNK];
    size_t echoed = 0;

    while (echoed < 1000) {
        ssize_t n = recv(fd, buf, 1000 - echoed, 0);
        if (n <= 0 || net_send_all(fd, buf, (size_t)n) < 0)
            break;
        echoed += (size_t)n;
    }
    return shutdown(fd, SHUT_RDWR);
}

struct server {
    int (*serve)(int fd);
    int fd;
};

static void *server_main(void *arg)
{
    struct server *s = arg;
    s->serve(s->fd);
    return NULL;
}

/* Bytes 1-255, never 0, so that a reply left unwritten is seen as zeros. */
static unsigned char pattern(size_t i)
{
    return (unsigned char)(1 + (i * 7 + i / 251) % 255);
}

/* Round-trip len bytes through serve; check the echo; return the call's
 * result. */
static int roundtrip_of(size_t len, int (*serve)(int fd), const char *what)
{
    int sv[2];
    pthread_t thread;
    unsigned char *msg = malloc(len + 1);
    unsigned char *reply = calloc(len + 1, 1);

    cr_assert(msg != NULL && reply != NULL);
    for (size_t i = 0; i < len; i++)
        msg[i] = pattern(i);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    struct server s = {serve, sv[1]};
    cr_assert_eq(pthread_create(&thread, NULL, server_main, &s), 0);

    guard_arm(10, what);
    int rc = echo_roundtrip(sv[0], msg, len, reply);
    guard_disarm();

    if (serve == early_close_serve) {
        cr_assert_eq(rc, -1, "echo_roundtrip() returned %d, but the server "
                     "closed after echoing 1000 of %zu bytes: a reply cut "
                     "short is an error (-1)", rc, len);
    } else {
        cr_assert_eq(rc, 0, "echo_roundtrip() of %zu bytes returned %d (%s)",
                     len, rc, strerror(errno));
        size_t i = 0;
        while (i < len && msg[i] == reply[i])
            i++;
        size_t zeros = i;
        while (zeros < len && reply[zeros] == 0)
            zeros++;
        cr_assert(i == len || zeros < len, "the echo stops at byte %zu of "
                  "%zu: the last %zu bytes were never read back", i, len,
                  len - i);
        cr_assert_eq(i, len, "the echo differs from the message from byte "
                     "%zu of %zu on: a recv() may return fewer bytes than "
                     "asked for; are you taking each one as complete?", i,
                     len);
    }
    shutdown(sv[0], SHUT_WR);
    pthread_join(thread, NULL);
    close(sv[0]);
    close(sv[1]);
    free(msg);
    free(reply);
    return rc;
}

Test(deadlocked_client, round_trips_a_short_message)
{
    roundtrip_of(100, echo_serve, "echo_roundtrip() of 100 bytes did not "
                 "return");
}

Test(deadlocked_client, round_trips_sixteen_mebibytes)
{
    roundtrip_of(16u << 20, echo_serve, "echo_roundtrip() of 16 MiB did not "
                 "return: your client and the server are each waiting for "
                 "the other (draw the four socket buffers between them)");
}

Test(deadlocked_client, round_trips_a_length_that_is_not_a_round_number)
{
    roundtrip_of(3u * ECHO_CHUNK + 17, echo_serve, "echo_roundtrip() of "
                 "49169 bytes did not return");
}

Test(deadlocked_client, handles_a_server_that_echoes_seven_bytes_at_a_time)
{
    roundtrip_of(40000, trickle_serve, "echo_roundtrip() did not return with "
                 "a server that echoes 7 bytes at a time: do you wait for "
                 "more bytes than the server still owes you?");
}

Test(deadlocked_client, fails_when_the_server_closes_early)
{
    roundtrip_of(5000, early_close_serve, "echo_roundtrip() did not return "
                 "after the server closed the connection: does it notice the "
                 "end of stream (recv() returns 0)?");
}
