/*
 * sock_watch.c - a socket that stays registered with the selector while
 * it is in use, so a connection that waits, reads, writes and waits again
 * makes no selector call per message.
 */
#include "sock_watch.h"

#include <errno.h>
#include <unistd.h>

/* [watch] */
/* Readiness on a watched socket. Someone waits: wake them. Nobody waits
 * (they are busy sending, or were cancelled): only now remove the
 * registration, or a level-triggered selector would report the same
 * unread bytes on every iteration. */
static void on_readable(loop_t *loop, void *arg)
{
    sock_watch_t *w = arg;

    if (future_done(&w->future))
        loop_remove_reader(loop, w->fd);
    else
        future_set_result(&w->future, NULL);
}

future_t *sock_readable(sock_watch_t *w)
{
    future_init(&w->future, w->loop);
    /* Registered already (the usual case): the loop sees that the events
     * do not change and makes no system call, but still renews the
     * registration's generation, which drops readiness queued before
     * this wait, already consumed by the read that followed it. */
    if (loop_add_reader(w->loop, w->fd, on_readable, w) < 0)
        future_set_error(&w->future, errno);
    return &w->future;
}
/* [watch] */

void sock_watch_init(sock_watch_t *w, loop_t *loop, int fd)
{
    future_init(&w->future, loop);
    future_set_result(&w->future, NULL);     /* finished: nobody waits */
    w->loop = loop;
    w->fd = fd;
}

void sock_watch_close(sock_watch_t *w)
{
    loop_remove_reader(w->loop, w->fd);      /* no-op if not watched */
    close(w->fd);
    w->fd = -1;
}
