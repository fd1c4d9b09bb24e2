/**
 * @file array.h
 * @brief The chapter's one array-growth rule: double the capacity until
 *        it is enough (amortised O(1) per element, as CPython's list and
 *        every vector do).
 *
 * @code
 * struct fd_entry *fds = array_grow(loop->fds, &loop->nfds, fd + 1,
 *                                   sizeof *fds);
 * if (fds == NULL)
 *     return -1;          // errno ENOMEM; loop->fds is unchanged
 * loop->fds = fds;
 * @endcode
 *
 * The files chapter 05 copies unchanged from chapters 03 and 04 (the
 * selector, the ready queue, the timers) keep their own doubling, byte for
 * byte as those chapters teach it.
 */
#ifndef ARRAY_H
#define ARRAY_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/** @brief The capacity of an array's first allocation. */
#define ARRAY_FIRST_CAPACITY 16

/**
 * @brief Make room for at least @p need elements.
 * @param items the array (may be NULL when *@p cap is 0).
 * @param cap its capacity in elements; updated on success only.
 * @param need the elements wanted, at least 1.
 * @param size one element's size in bytes.
 * @return the array, moved perhaps (slots past the old capacity are not
 *         initialised), or NULL with errno ENOMEM, @p items then being
 *         unchanged and still the caller's.
 */
static inline void *array_grow(void *items, size_t *cap, size_t need,
                               size_t size)
{
    if (need <= *cap && items != NULL)
        return items;
    size_t n = *cap > 0 ? *cap : ARRAY_FIRST_CAPACITY;
    while (n < need) {
        if (n > SIZE_MAX / 2 / size) {
            errno = ENOMEM;
            return NULL;
        }
        n *= 2;
    }
    void *grown = realloc(items, n * size);
    if (grown == NULL) {
        errno = ENOMEM;
        return NULL;
    }
    *cap = n;
    return grown;
}

#endif
