/**
 * @file selector_impl.h
 * @brief What a selector backend implements, and the shared state every
 *        backend works on. Only the selector_*.c files include this.
 *
 * selector.c keeps everything the three backends have in common: the table
 * of registered keys (indexed by descriptor), the error checks, the ready
 * list that selector_next() hands out, and the EINTR retry with the
 * remaining timeout. A backend only translates "watch this fd for these
 * events" and "wait" into its system call, and reports what it saw with
 * selector_push_ready(). Redis's ae.c / ae_epoll.c split is the model.
 */
#ifndef SELECTOR_IMPL_H
#define SELECTOR_IMPL_H

#include "selector.h"

#include <stddef.h>

/**
 * @brief One backend: a table of function pointers, chosen at run time by
 *        selector_create(). Every function returns 0 or a count, or -1 with
 *        errno set, like the system call it wraps.
 */
typedef struct selector_ops {
    /** @brief Which backend this table is. */
    selector_backend_t backend;
    /**
     * @brief Allocate the backend's own state.
     * @return the state, owned by the selector; NULL with errno set.
     */
    void *(*create)(void);
    /**
     * @brief Free the state made by @c create.
     * @param state the backend's state.
     */
    void (*destroy)(void *state);
    /**
     * @brief Start watching @p fd (not yet watched) for @p events.
     * @param state the backend's state.
     * @param fd an open descriptor.
     * @param events SELECTOR_READ and/or SELECTOR_WRITE.
     * @return 0; -1 with errno set.
     */
    int (*add)(void *state, int fd, unsigned events);
    /**
     * @brief Change the events of a watched @p fd.
     * @param state the backend's state.
     * @param fd a watched descriptor.
     * @param old_events what it was watched for.
     * @param events what to watch from now on.
     * @return 0; -1 with errno set.
     */
    int (*modify)(void *state, int fd, unsigned old_events, unsigned events);
    /**
     * @brief Stop watching @p fd.
     * @param state the backend's state.
     * @param fd a watched descriptor.
     * @param old_events what it was watched for.
     */
    void (*remove)(void *state, int fd, unsigned old_events);
    /**
     * @brief Wait once, at most @p timeout_ms (-1: no limit), and report
     *        every ready descriptor with selector_push_ready().
     * @param state the backend's state.
     * @param sel the selector, to push ready events to.
     * @param timeout_ms as for selector_select().
     * @return how many were pushed; -1 with errno set (EINTR included:
     *         selector.c retries it).
     */
    int (*wait)(void *state, selector_t *sel, int timeout_ms);
    /* ---- chapter 06 ---- */
    /**
     * @brief The descriptor that becomes readable when @c wait would
     *        report something (epoll's own fd), or NULL for none.
     * @param state the backend's state.
     * @return the descriptor.
     */
    int (*fd)(void *state);
    /* ---- end chapter 06 ---- */
} selector_ops_t;

/** @brief The select() backend (selector_select.c). */
extern const selector_ops_t selector_select_ops;
/** @brief The poll() backend (selector_poll.c). */
extern const selector_ops_t selector_poll_ops;
#ifdef __linux__
/** @brief The epoll backend (selector_epoll.c), Linux only. */
extern const selector_ops_t selector_epoll_ops;
#endif

/**
 * @brief Record one ready descriptor; backends call it from @c wait.
 *
 * @p events may be 0 for a hang-up or error condition: the descriptor is
 * then reported ready for every event it is registered for, the same on
 * every backend. Descriptors that are not registered are ignored.
 *
 * @param sel the selector.
 * @param fd the descriptor the system call reported.
 * @param events the ready SELECTOR_READ / SELECTOR_WRITE bits.
 * @param hangup nonzero for a hang-up or error condition.
 * @return 1 if an event was recorded, 0 if not.
 */
int selector_push_ready(selector_t *sel, int fd, unsigned events, int hangup);

#endif
