/*
 * registry.c - the live connections, under one mutex.
 *
 * A plain array with swap-remove: O(1) add, O(n) remove. n is the number of
 * threads, which chapter 02 keeps in the thousands at most; a hash set would
 * be the next step if it were not.
 */
#include "registry.h"

#include "timespec.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

void registry_init(registry_t *r)
{
    pthread_condattr_t attr;

    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&r->empty, &attr);
    pthread_condattr_destroy(&attr);
    r->fds = NULL;
    r->count = 0;
    r->capacity = 0;
    r->closing = 0;
}

void registry_deinit(registry_t *r)
{
    free(r->fds);
    pthread_cond_destroy(&r->empty);
    pthread_mutex_destroy(&r->lock);
}

int registry_add(registry_t *r, int fd)
{
    int result = 0;

    pthread_mutex_lock(&r->lock);
    if (r->closing) {
        errno = ECANCELED;
        result = -1;
    } else if (r->count == r->capacity) {
        size_t cap = r->capacity ? 2 * r->capacity : 16;
        int *fds = realloc(r->fds, cap * sizeof *fds);
        if (fds == NULL) {
            errno = ENOMEM;
            result = -1;
        } else {
            r->fds = fds;
            r->capacity = cap;
        }
    }
    if (result == 0)
        r->fds[r->count++] = fd;
    pthread_mutex_unlock(&r->lock);
    return result;
}

/* [registry-close] */
void registry_close(registry_t *r, int fd)
{
    pthread_mutex_lock(&r->lock);
    for (size_t i = 0; i < r->count; i++) {
        if (r->fds[i] == fd) {
            r->fds[i] = r->fds[--r->count];
            break;
        }
    }
    close(fd); /* still under the lock: see registry.h */
    if (r->count == 0)
        pthread_cond_broadcast(&r->empty);
    pthread_mutex_unlock(&r->lock);
}
/* [registry-close] */

/* [registry-shutdown] */
void registry_shutdown_all(registry_t *r)
{
    pthread_mutex_lock(&r->lock);
    r->closing = 1;
    for (size_t i = 0; i < r->count; i++)
        shutdown(r->fds[i], SHUT_RDWR); /* recv() returns 0, send() EPIPE */
    pthread_mutex_unlock(&r->lock);
}
/* [registry-shutdown] */

size_t registry_wait_empty(registry_t *r, double timeout_s)
{
    struct timespec deadline;
    size_t left;

    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline = timespec_add_s(deadline, timeout_s);
    pthread_mutex_lock(&r->lock);
    while (r->count > 0 &&
           pthread_cond_timedwait(&r->empty, &r->lock, &deadline) != ETIMEDOUT)
        ;
    left = r->count;
    pthread_mutex_unlock(&r->lock);
    return left;
}

size_t registry_count(registry_t *r)
{
    pthread_mutex_lock(&r->lock);
    size_t n = r->count;
    pthread_mutex_unlock(&r->lock);
    return n;
}
