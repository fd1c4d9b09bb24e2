/*
 * selector_poll.c - the poll() backend.
 *
 * poll() takes an array of (fd, wanted events) instead of bitmaps, so there
 * is no FD_SETSIZE limit and the array only holds watched descriptors. It
 * is still O(n) per call: the whole array is copied into the kernel, every
 * entry is checked, and we scan it again for the answers. Removal swaps the
 * last entry into the hole, so an index table (fd -> slot) keeps every
 * operation O(1) outside the wait.
 */
#include "selector_impl.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

typedef struct poll_state {
    struct pollfd *fds; /* watched descriptors, packed; owned */
    int len, cap;
    int *slot;          /* slot[fd] = index in fds, -1 if absent; owned */
    int nslot;
} poll_state_t;

static void *poll_create(void)
{
    return calloc(1, sizeof(poll_state_t));
}

static void poll_destroy(void *state)
{
    poll_state_t *p = state;
    free(p->fds);
    free(p->slot);
    free(p);
}

static short to_poll(unsigned events)
{
    return (short)(((events & SELECTOR_READ) ? POLLIN : 0) |
                   ((events & SELECTOR_WRITE) ? POLLOUT : 0));
}

static int grow(poll_state_t *p, int fd)
{
    if (p->len == p->cap) {
        int n = p->cap ? p->cap * 2 : 64;
        struct pollfd *fds = realloc(p->fds, (size_t)n * sizeof *fds);
        if (fds == NULL)
            return -1;
        p->fds = fds;
        p->cap = n;
    }
    if (fd >= p->nslot) {
        int n = p->nslot ? p->nslot * 2 : 64;
        while (n <= fd)
            n *= 2;
        int *slot = realloc(p->slot, (size_t)n * sizeof *slot);
        if (slot == NULL)
            return -1;
        memset(slot + p->nslot, 0xff, (size_t)(n - p->nslot) * sizeof *slot);
        p->slot = slot;
        p->nslot = n;
    }
    return 0;
}

static int poll_add(void *state, int fd, unsigned events)
{
    poll_state_t *p = state;
    if (grow(p, fd) == -1)
        return -1;
    p->slot[fd] = p->len;
    p->fds[p->len++] = (struct pollfd){fd, to_poll(events), 0};
    return 0;
}

static int poll_modify(void *state, int fd, unsigned old_events,
                       unsigned events)
{
    poll_state_t *p = state;
    (void)old_events;
    p->fds[p->slot[fd]].events = to_poll(events);
    return 0;
}

static void poll_remove(void *state, int fd, unsigned old_events)
{
    poll_state_t *p = state;
    int i = p->slot[fd];
    (void)old_events;
    p->fds[i] = p->fds[--p->len]; /* the last entry fills the hole */
    p->slot[p->fds[i].fd] = i;
    p->slot[fd] = -1;
}

/* [poll-wait] */
static int poll_wait(void *state, selector_t *sel, int timeout_ms)
{
    poll_state_t *p = state;
    int n = poll(p->fds, (nfds_t)p->len, timeout_ms);
    if (n <= 0)
        return n;
    int pushed = 0;
    for (int i = 0; i < p->len && n > 0; i++) {
        short re = p->fds[i].revents;
        if (re == 0)
            continue;
        n--;
        if (re & POLLNVAL) {
            errno = EBADF; /* closed while registered: the caller's bug */
            return -1;
        }
        unsigned events = ((re & POLLIN) ? SELECTOR_READ : 0u) |
                          ((re & POLLOUT) ? SELECTOR_WRITE : 0u);
        pushed += selector_push_ready(sel, p->fds[i].fd, events,
                                      (re & (POLLHUP | POLLERR)) != 0);
    }
    return pushed;
}
/* [poll-wait] */

const selector_ops_t selector_poll_ops = {
    SELECTOR_POLL, poll_create, poll_destroy, poll_add,
    poll_modify,   poll_remove, poll_wait,
    NULL, /* chapter 06: no descriptor to watch */
};
