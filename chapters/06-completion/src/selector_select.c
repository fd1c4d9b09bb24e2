/*
 * selector_select.c - the select() backend: the oldest and most portable.
 *
 * Its costs are the lesson. The interest sets are bitmaps of FD_SETSIZE
 * bits (1024 on Linux) that the kernel overwrites with the result, so every
 * call copies them, the kernel scans every bit up to the highest fd, and so
 * does the loop that reads the answer: O(highest fd) per call even when one
 * descriptor is ready. And an fd_set cannot hold a descriptor at or above
 * FD_SETSIZE: FD_SET() on one writes past the end of the bitmap, silently
 * corrupting memory. This backend refuses such descriptors (ERANGE).
 */
#include "selector_impl.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/select.h>

typedef struct select_state {
    fd_set readers; /* what we watch; select() gets copies */
    fd_set writers;
    int max_fd;     /* highest watched fd, -1 when none */
} select_state_t;

static void *select_create(void)
{
    select_state_t *s = malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    FD_ZERO(&s->readers);
    FD_ZERO(&s->writers);
    s->max_fd = -1;
    return s;
}

static void select_destroy(void *state)
{
    free(state);
}

static void select_set(select_state_t *s, int fd, unsigned events)
{
    FD_CLR(fd, &s->readers);
    FD_CLR(fd, &s->writers);
    if (events & SELECTOR_READ)
        FD_SET(fd, &s->readers);
    if (events & SELECTOR_WRITE)
        FD_SET(fd, &s->writers);
}

/* [select-limit] */
static int select_add(void *state, int fd, unsigned events)
{
    select_state_t *s = state;
    if (fd >= FD_SETSIZE) {
        errno = ERANGE; /* FD_SET() would write past the end of the set */
        return -1;
    }
    select_set(s, fd, events);
    if (fd > s->max_fd)
        s->max_fd = fd;
    return 0;
}
/* [select-limit] */

static int select_modify(void *state, int fd, unsigned old_events,
                         unsigned events)
{
    (void)old_events;
    select_set(state, fd, events);
    return 0;
}

static void select_remove(void *state, int fd, unsigned old_events)
{
    select_state_t *s = state;
    (void)old_events;
    select_set(s, fd, 0);
    while (s->max_fd >= 0 && !FD_ISSET(s->max_fd, &s->readers) &&
           !FD_ISSET(s->max_fd, &s->writers))
        s->max_fd--;
}

/* [select-wait] */
static int select_wait(void *state, selector_t *sel, int timeout_ms)
{
    select_state_t *s = state;
    /* select() overwrites its sets with the answer: hand it copies. */
    fd_set readable = s->readers, writable = s->writers;
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};

    int n = select(s->max_fd + 1, &readable, &writable, NULL,
                   timeout_ms < 0 ? NULL : &tv);
    if (n <= 0)
        return n;
    int pushed = 0;
    for (int fd = 0; fd <= s->max_fd; fd++) { /* O(max_fd), ready or not */
        unsigned events = 0;
        if (FD_ISSET(fd, &readable))
            events |= SELECTOR_READ;
        if (FD_ISSET(fd, &writable))
            events |= SELECTOR_WRITE;
        if (events != 0)
            pushed += selector_push_ready(sel, fd, events, 0);
    }
    return pushed;
}
/* [select-wait] */

const selector_ops_t selector_select_ops = {
    SELECTOR_SELECT, select_create, select_destroy, select_add,
    select_modify,   select_remove, select_wait,
    NULL, /* chapter 06: no descriptor to watch */
};
