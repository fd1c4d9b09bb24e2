/*
 * test_registry.c - the echo server's set of live connections.
 */
#include "registry.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

static int is_open(int fd)
{
    return fcntl(fd, F_GETFD) != -1;
}

Test(registry, counts_what_is_added_and_closed)
{
    registry_t r;
    int sv[2];

    registry_init(&r);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    cr_assert_eq(registry_add(&r, sv[0]), 0);
    cr_assert_eq(registry_add(&r, sv[1]), 0);
    cr_assert_eq(registry_count(&r), 2);
    registry_close(&r, sv[0]);
    cr_assert_eq(registry_count(&r), 1);
    cr_assert_not(is_open(sv[0]), "registry_close must close the descriptor");
    registry_close(&r, sv[1]);
    cr_assert_eq(registry_count(&r), 0);
    registry_deinit(&r);
}

Test(registry, grows_past_its_first_allocation)
{
    registry_t r;
    int fds[100];

    registry_init(&r);
    for (int i = 0; i < 100; i++) {
        fds[i] = open("/dev/null", O_RDONLY); /* any descriptor will do */
        cr_assert_geq(fds[i], 0);
        cr_assert_eq(registry_add(&r, fds[i]), 0);
    }
    cr_assert_eq(registry_count(&r), 100);
    for (int i = 99; i >= 0; i--)
        registry_close(&r, fds[i]);
    cr_assert_eq(registry_count(&r), 0);
    registry_deinit(&r);
}

Test(registry, refuses_adds_after_shutdown_all)
{
    registry_t r;
    int sv[2];

    registry_init(&r);
    cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    registry_shutdown_all(&r);
    errno = 0;
    cr_assert_eq(registry_add(&r, sv[0]), -1);
    cr_assert_eq(errno, ECANCELED);
    close(sv[0]);
    close(sv[1]);
    registry_deinit(&r);
}

/* A connection thread blocked in recv(), as in the echo server. */
static registry_t shared;

static void *blocked_reader(void *arg)
{
    int fd = *(int *)arg;
    char c;

    while (recv(fd, &c, 1, 0) > 0) /* returns 0 once shut down */
        ;
    registry_close(&shared, fd);
    return NULL;
}

Test(registry, shutdown_all_wakes_threads_blocked_in_recv, .timeout = 10)
{
    int pairs[4][2];
    pthread_t threads[4];

    registry_init(&shared);
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, pairs[i]), 0);
        cr_assert_eq(registry_add(&shared, pairs[i][0]), 0);
        cr_assert_eq(pthread_create(&threads[i], NULL, blocked_reader,
                                    &pairs[i][0]), 0);
    }
    cr_assert_eq(registry_wait_empty(&shared, 0.2), 4,
                 "nobody should leave before the shutdown");
    registry_shutdown_all(&shared);
    cr_assert_eq(registry_wait_empty(&shared, 5.0), 0);
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        close(pairs[i][1]);
    }
    registry_deinit(&shared);
}
