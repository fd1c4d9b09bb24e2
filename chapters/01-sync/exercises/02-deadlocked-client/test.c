/* Tests for exercise 02-deadlocked-client: a real echo_serve() on the other
 * end of a socketpair, in a thread. */
#include "exercise.h"

#include "echo.h"

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static void *server_main(void *arg)
{
    echo_serve(*(int *)arg);
    return NULL;
}

static void roundtrip_of(size_t len)
{
    int sv[2];
    pthread_t server;
    unsigned char *msg = malloc(len);
    unsigned char *reply = malloc(len);

    cr_assert(msg != NULL && reply != NULL);
    for (size_t i = 0; i < len; i++)
        msg[i] = (unsigned char)(i * 7 + i / 251);
    memset(reply, 0, len);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(pthread_create(&server, NULL, server_main, &sv[1]), 0);

    cr_assert_eq(echo_roundtrip(sv[0], msg, len, reply), 0);
    cr_assert_eq(memcmp(msg, reply, len), 0, "the echo differs");

    shutdown(sv[0], SHUT_WR);
    pthread_join(server, NULL);
    close(sv[0]);
    close(sv[1]);
    free(msg);
    free(reply);
}

Test(deadlocked_client, round_trips_a_short_message, .timeout = 10)
{
    roundtrip_of(100);
}

Test(deadlocked_client, round_trips_sixteen_mebibytes, .timeout = 10)
{
    roundtrip_of(16u << 20);
}

Test(deadlocked_client, round_trips_a_length_that_is_not_a_chunk_multiple,
     .timeout = 10)
{
    roundtrip_of(3u * ECHO_CHUNK + 17);
}
