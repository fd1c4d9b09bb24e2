/*
 * selector_epoll.c - the epoll backend (Linux).
 *
 * epoll turns the question around. The interest list lives in the kernel
 * and is changed one descriptor at a time (epoll_ctl), and the kernel keeps
 * a list of the ready ones as they become ready. epoll_wait() then costs
 * O(ready), not O(watched): this is what makes 10,000 mostly idle
 * connections cheap. It is used level-triggered here, like the other two
 * backends; edge-triggered mode (EPOLLET) is an exercise.
 */
#define _GNU_SOURCE /* epoll_create1, EPOLL_CLOEXEC */
#include "selector_impl.h"

#ifdef __linux__

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

/* How many ready descriptors one epoll_wait() returns at most. More are
 * not lost: level-triggered, they are reported by the next call. */
#define EPOLL_BATCH 1024

typedef struct epoll_state {
    int epfd;
    struct epoll_event events[EPOLL_BATCH];
} epoll_state_t;

static void *epoll_backend_create(void)
{
    epoll_state_t *e = malloc(sizeof *e);
    if (e == NULL)
        return NULL;
    e->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (e->epfd == -1) {
        int saved = errno;
        free(e);
        errno = saved;
        return NULL;
    }
    return e;
}

static void epoll_backend_destroy(void *state)
{
    epoll_state_t *e = state;
    close(e->epfd);
    free(e);
}

static int epoll_control(epoll_state_t *e, int op, int fd, unsigned events)
{
    struct epoll_event ev = {0};
    ev.events = ((events & SELECTOR_READ) ? EPOLLIN : 0u) |
                ((events & SELECTOR_WRITE) ? EPOLLOUT : 0u);
    ev.data.fd = fd;
    return epoll_ctl(e->epfd, op, fd, &ev);
}

/* [epoll-add] */
static int epoll_backend_add(void *state, int fd, unsigned events)
{
    /* EPERM for a regular file or a directory: epoll only watches things
     * that can block (pipes, sockets, terminals, ...). */
    return epoll_control(state, EPOLL_CTL_ADD, fd, events);
}
/* [epoll-add] */

static int epoll_backend_modify(void *state, int fd, unsigned old_events,
                                unsigned events)
{
    (void)old_events;
    return epoll_control(state, EPOLL_CTL_MOD, fd, events);
}

static void epoll_backend_remove(void *state, int fd, unsigned old_events)
{
    epoll_state_t *e = state;
    (void)old_events;
    /* Can fail only if the caller closed fd before unregistering it, in
     * which case the kernel has already forgotten it. */
    (void)epoll_ctl(e->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* [epoll-wait] */
static int epoll_backend_wait(void *state, selector_t *sel, int timeout_ms)
{
    epoll_state_t *e = state;
    int n = epoll_wait(e->epfd, e->events, EPOLL_BATCH, timeout_ms);
    int pushed = 0;
    for (int i = 0; i < n; i++) { /* only the ready ones: O(ready) */
        unsigned re = e->events[i].events;
        unsigned events = ((re & EPOLLIN) ? SELECTOR_READ : 0u) |
                          ((re & EPOLLOUT) ? SELECTOR_WRITE : 0u);
        pushed += selector_push_ready(sel, e->events[i].data.fd, events,
                                      (re & (EPOLLHUP | EPOLLERR)) != 0);
    }
    return n < 0 ? -1 : pushed;
}
/* [epoll-wait] */

/* ---- chapter 06: the epoll fd, for a proactor to watch ---- */
static int epoll_backend_fd(void *state)
{
    return ((epoll_state_t *)state)->epfd;
}
/* ---- end chapter 06 ---- */

const selector_ops_t selector_epoll_ops = {
    SELECTOR_EPOLL,       epoll_backend_create, epoll_backend_destroy,
    epoll_backend_add,    epoll_backend_modify, epoll_backend_remove,
    epoll_backend_wait,   epoll_backend_fd, /* chapter 06 */
};

#endif /* __linux__ */
