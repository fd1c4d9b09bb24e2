/*
 * starter.c - exercise 04-nonblocking-stdout: your answer, from scratch.
 * These stubs compile and fail every test; replace them. exercise.h holds
 * the contract, EXERCISE.md what the tests check.
 */
#include "exercise.h"

#include <errno.h>

struct writer {
    int unused; /* your fields */
};

writer_t *writer_create(loop_t *loop, int fd, size_t limit)
{
    (void)loop;
    (void)fd;
    (void)limit;
    errno = ENOSYS;
    return NULL;
}

int writer_write(writer_t *w, const void *data, size_t len)
{
    (void)w;
    (void)data;
    (void)len;
    errno = ENOSYS;
    return -1;
}

size_t writer_pending(const writer_t *w)
{
    (void)w;
    return 0;
}

size_t writer_refused(const writer_t *w)
{
    (void)w;
    return 0;
}

int writer_error(const writer_t *w)
{
    (void)w;
    return ENOSYS;
}

void writer_destroy(writer_t *w)
{
    (void)w;
}
