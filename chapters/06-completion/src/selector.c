/*
 * selector.c - what every selector backend has in common.
 *
 * Chapter 03 replaces the thread per connection with one thread that asks
 * the kernel "which of these descriptors can I use without blocking?". This
 * file keeps the registered keys and the ready list and checks the
 * arguments, so that the three backends (selector_select.c,
 * selector_poll.c, selector_epoll.c) behave alike and stay small.
 */
#include "selector_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A registered descriptor. events == 0 means "not registered". */
typedef struct key {
    unsigned events;
    unsigned gen; /* bumped by unregister: tells a stale ready entry apart */
    void *data;
} slot_t;

/* One entry of the ready list, as the backend reported it. */
typedef struct ready {
    int fd;
    unsigned events;
    unsigned gen; /* the key's generation when it was reported */
} ready_t;

struct selector {
    const selector_ops_t *ops;
    void *state;       /* the backend's, freed by ops->destroy */
    slot_t *keys;      /* indexed by fd; owned */
    int nkeys;         /* allocated length of keys */
    int count;         /* registered descriptors */
    ready_t *ready;    /* owned; room for count entries at least */
    int ready_cap;
    int ready_len;
    int ready_pos;     /* next entry selector_next() looks at */
};

static const selector_ops_t *ops_for(selector_backend_t backend)
{
    switch (backend) {
    case SELECTOR_DEFAULT:
#ifdef __linux__
        return &selector_epoll_ops;
#else
        return &selector_poll_ops;
#endif
    case SELECTOR_SELECT:
        return &selector_select_ops;
    case SELECTOR_POLL:
        return &selector_poll_ops;
    case SELECTOR_EPOLL:
#ifdef __linux__
        return &selector_epoll_ops;
#else
        return NULL;
#endif
    }
    return NULL;
}

selector_t *selector_create(selector_backend_t backend)
{
    const selector_ops_t *ops = ops_for(backend);
    if (ops == NULL) {
        errno = ENOSYS;
        return NULL;
    }
    selector_t *sel = calloc(1, sizeof *sel);
    if (sel == NULL)
        return NULL;
    sel->ops = ops;
    sel->state = ops->create();
    if (sel->state == NULL) {
        int saved = errno;
        free(sel);
        errno = saved;
        return NULL;
    }
    return sel;
}

void selector_destroy(selector_t *sel)
{
    if (sel == NULL)
        return;
    sel->ops->destroy(sel->state);
    free(sel->keys);
    free(sel->ready);
    free(sel);
}

selector_backend_t selector_backend(const selector_t *sel)
{
    return sel->ops->backend;
}

selector_backend_t selector_backend_resolve(selector_backend_t backend)
{
    const selector_ops_t *ops = ops_for(backend);
    return ops != NULL ? ops->backend : backend;
}

const char *selector_backend_name(selector_backend_t backend)
{
    switch (backend) {
    case SELECTOR_SELECT:
        return "select";
    case SELECTOR_POLL:
        return "poll";
    case SELECTOR_EPOLL:
        return "epoll";
    case SELECTOR_DEFAULT:
        break;
    }
    return "default";
}

int selector_backend_parse(const char *name, selector_backend_t *backend)
{
    static const selector_backend_t all[] = {SELECTOR_DEFAULT, SELECTOR_SELECT,
                                             SELECTOR_POLL, SELECTOR_EPOLL};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) {
        if (strcmp(name, selector_backend_name(all[i])) == 0) {
            *backend = all[i];
            return 0;
        }
    }
    errno = EINVAL;
    return -1;
}

static int events_valid(unsigned events)
{
    return events != 0 && (events & ~(unsigned)(SELECTOR_READ | SELECTOR_WRITE)) == 0;
}

static slot_t *find(const selector_t *sel, int fd)
{
    if (fd < 0 || fd >= sel->nkeys || sel->keys[fd].events == 0)
        return NULL;
    return &sel->keys[fd];
}

/* Make room for key fd and for one more ready entry, before anything else
 * changes, so that a failed allocation leaves the selector as it was. */
static int reserve(selector_t *sel, int fd)
{
    if (fd >= sel->nkeys) {
        int n = sel->nkeys ? sel->nkeys : 64;
        while (n <= fd)
            n *= 2;
        slot_t *keys = realloc(sel->keys, (size_t)n * sizeof *keys);
        if (keys == NULL)
            return -1;
        memset(keys + sel->nkeys, 0, (size_t)(n - sel->nkeys) * sizeof *keys);
        sel->keys = keys;
        sel->nkeys = n;
    }
    if (sel->count + 1 > sel->ready_cap) {
        int n = sel->ready_cap ? sel->ready_cap * 2 : 64;
        ready_t *ready = realloc(sel->ready, (size_t)n * sizeof *ready);
        if (ready == NULL)
            return -1;
        sel->ready = ready;
        sel->ready_cap = n;
    }
    return 0;
}

int selector_register(selector_t *sel, int fd, unsigned events, void *data)
{
    if (fd < 0) {
        errno = EBADF;
        return -1;
    }
    if (!events_valid(events)) {
        errno = EINVAL;
        return -1;
    }
    if (find(sel, fd) != NULL) {
        errno = EEXIST;
        return -1;
    }
    if (fcntl(fd, F_GETFD) == -1)
        return -1; /* EBADF: not an open descriptor */
    if (reserve(sel, fd) == -1 || sel->ops->add(sel->state, fd, events) == -1)
        return -1;
    sel->keys[fd].events = events;
    sel->keys[fd].data = data;
    sel->count++;
    return 0;
}

static void drop(selector_t *sel, int fd, slot_t *key)
{
    sel->ops->remove(sel->state, fd, key->events);
    key->events = 0;
    key->data = NULL;
    key->gen++; /* a pending ready entry for fd is now stale */
    sel->count--;
}

int selector_modify(selector_t *sel, int fd, unsigned events, void *data)
{
    slot_t *key = find(sel, fd);
    if (key == NULL) {
        errno = ENOENT;
        return -1;
    }
    if (!events_valid(events)) {
        errno = EINVAL;
        return -1;
    }
    if (events != key->events &&
        sel->ops->modify(sel->state, fd, key->events, events) == -1) {
        /* The kernel refused (typically ENOENT or EBADF: fd was closed, and
         * perhaps its number reused, while registered). Keeping the key
         * would leave a registration that exists only here: "not
         * registered" from this call, EEXIST from the next register. Drop
         * it, as Python's selectors do, so the error tells the truth. */
        int err = errno;
        drop(sel, fd, key);
        errno = err;
        return -1;
    }
    key->events = events;
    key->data = data;
    return 0;
}

int selector_unregister(selector_t *sel, int fd)
{
    slot_t *key = find(sel, fd);
    if (key == NULL) {
        errno = ENOENT;
        return -1;
    }
    drop(sel, fd, key);
    return 0;
}

int selector_get(const selector_t *sel, int fd, unsigned *events, void **data)
{
    const slot_t *key = find(sel, fd);
    if (key == NULL) {
        errno = ENOENT;
        return -1;
    }
    if (events != NULL)
        *events = key->events;
    if (data != NULL)
        *data = key->data;
    return 0;
}

int selector_count(const selector_t *sel)
{
    return sel->count;
}

/* ---- chapter 06 ---- */
int selector_fd(const selector_t *sel)
{
    if (sel->ops->fd == NULL) {
        errno = ENOTSUP;
        return -1;
    }
    return sel->ops->fd(sel->state);
}
/* ---- end chapter 06 ---- */

int selector_push_ready(selector_t *sel, int fd, unsigned events, int hangup)
{
    const slot_t *key = find(sel, fd);
    if (key == NULL || sel->ready_len >= sel->ready_cap)
        return 0;
    /* A hang-up or error makes the fd ready for whatever it waits for: the
     * next read() or write() will tell the handler what happened. */
    events = hangup ? key->events : events & key->events;
    if (events == 0)
        return 0;
    sel->ready[sel->ready_len++] = (ready_t){fd, events, key->gen};
    return 1;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* [select-eintr] */
int selector_select(selector_t *sel, int timeout_ms)
{
    long long deadline = timeout_ms > 0 ? now_ms() + timeout_ms : 0;
    int wait_ms = timeout_ms < 0 ? -1 : timeout_ms;

    sel->ready_len = sel->ready_pos = 0; /* forget what was not handed out */
    for (;;) {
        int n = sel->ops->wait(sel->state, sel, wait_ms);
        if (n >= 0)
            return n;
        if (errno != EINTR)
            return -1;
        /* A signal handler ran. Go back to waiting, but only for what is
         * left of the caller's timeout, or a steady trickle of signals
         * would stretch it forever. */
        if (timeout_ms > 0) {
            long long left = deadline - now_ms();
            wait_ms = left > 0 ? (int)left : 0;
        }
        sel->ready_len = 0;
    }
}
/* [select-eintr] */

/* [select-next] */
int selector_next(selector_t *sel, selector_event_t *event)
{
    while (sel->ready_pos < sel->ready_len) {
        const ready_t *r = &sel->ready[sel->ready_pos++];
        const slot_t *key = &sel->keys[r->fd];
        /* The handler of an earlier event may have unregistered this fd
         * (and even registered a new descriptor with the same number), or
         * modified its events: hand out only what is still wanted. */
        if (key->events == 0 || key->gen != r->gen)
            continue;
        unsigned events = r->events & key->events;
        if (events == 0)
            continue;
        event->fd = r->fd;
        event->events = events;
        event->data = key->data;
        return 1;
    }
    return 0;
}
/* [select-next] */
