/**
 * @file selector.h
 * @brief A C counterpart of Python's @c selectors: watch many descriptors
 *        from one thread and learn which are ready.
 *
 * One interface, three backends, one per file (selector_select.c,
 * selector_poll.c, selector_epoll.c), chosen through a table of function
 * pointers. selector_create(SELECTOR_DEFAULT) picks the best one this
 * system has (epoll on Linux, else poll).
 *
 * Readiness is level-triggered on every backend: a descriptor that is still
 * readable is reported again by the next selector_select().
 *
 * Hang-up and error conditions (POLLHUP, POLLERR, EPOLLHUP, EPOLLERR, and
 * what select() shows for them) are reported the same way everywhere: as
 * ready for every event the key is registered for. The handler then learns
 * what happened from read() (0 = end of file) or write()/recv() (-1 and
 * errno), exactly as it would with Python's selectors.
 *
 * Ownership: the selector never owns, reads, writes or closes the
 * descriptors it watches; @c data is the caller's and is handed back as is.
 *
 * Not thread-safe: one selector belongs to one thread.
 */
#ifndef SELECTOR_H
#define SELECTOR_H

/** @brief Event bits for selector_register() and ready events. */
enum {
    SELECTOR_READ = 1,  /**< readable, end of file, or a pending accept() */
    SELECTOR_WRITE = 2, /**< writable, or a non-blocking connect() done */
};

/** @brief Which system call a selector uses. */
typedef enum selector_backend {
    SELECTOR_DEFAULT = 0, /**< the best available (epoll on Linux, else poll) */
    SELECTOR_SELECT,      /**< select(): portable, fds below FD_SETSIZE only */
    SELECTOR_POLL,        /**< poll(): no fd limit, O(n) per call */
    SELECTOR_EPOLL,       /**< epoll (Linux): O(ready) per call */
} selector_backend_t;

/** @brief A selector; opaque, made by selector_create(). */
typedef struct selector selector_t;

/**
 * @brief One ready descriptor, as selector_next() hands it out.
 */
typedef struct selector_event {
    int fd;          /**< the registered descriptor */
    unsigned events; /**< ready events, a subset of the registered ones */
    void *data;      /**< the caller's pointer given at registration */
} selector_event_t;

/**
 * @brief Make a selector.
 * @param backend which one; SELECTOR_DEFAULT for the best available.
 * @return the selector, or NULL with errno set: ENOSYS when the backend is
 *         not available here, ENOMEM, or what epoll_create1() reports.
 */
selector_t *selector_create(selector_backend_t backend);

/**
 * @brief Free the selector and everything it allocated. The registered
 *        descriptors are not closed: they are the caller's.
 * @param sel a selector, or NULL (nothing happens).
 */
void selector_destroy(selector_t *sel);

/**
 * @brief Which backend a selector uses (never SELECTOR_DEFAULT).
 * @param sel a selector.
 * @return its backend.
 */
selector_backend_t selector_backend(const selector_t *sel);

/**
 * @brief The backend selector_create() uses when asked for @p backend.
 *
 * For SELECTOR_DEFAULT, the one it stands for here (epoll on Linux, else
 * poll); any other backend is returned as it is. Useful to name the
 * backend in an error message when selector_create() failed.
 *
 * @param backend a backend.
 * @return never SELECTOR_DEFAULT.
 */
selector_backend_t selector_backend_resolve(selector_backend_t backend);

/**
 * @brief The name of a backend: "select", "poll", "epoll" or "default".
 * @param backend a backend.
 * @return a static string.
 */
const char *selector_backend_name(selector_backend_t backend);

/**
 * @brief Parse a backend name as given to @c --backend.
 * @param name "select", "poll", "epoll" or "default".
 * @param[out] backend the backend, on success.
 * @return 0; -1 with errno EINVAL for an unknown name.
 */
int selector_backend_parse(const char *name, selector_backend_t *backend);

/**
 * @brief Start watching @p fd for @p events.
 * @param sel a selector.
 * @param fd an open descriptor, not yet registered.
 * @param events SELECTOR_READ, SELECTOR_WRITE or both.
 * @param data the caller's pointer, handed back with every ready event.
 * @return 0; -1 with errno set: EEXIST already registered; EINVAL empty or
 *         unknown event bits; EBADF not an open descriptor; ERANGE the
 *         select backend cannot hold an fd at or above FD_SETSIZE (it is
 *         refused, never written into an fd_set); EPERM the epoll
 *         backend cannot watch a regular file or a directory (those never
 *         block; the select and poll backends report them always ready);
 *         ENOMEM.
 */
int selector_register(selector_t *sel, int fd, unsigned events, void *data);

/**
 * @brief Change the events and data of a registered descriptor.
 *
 * Safe while handling ready events: a pending event for @p fd loses the
 * bits no longer registered (and is skipped if none remain).
 *
 * @param sel a selector.
 * @param fd a registered descriptor.
 * @param events the new events, as for selector_register().
 * @param data the new caller's pointer.
 * @return 0; -1 with errno set: ENOENT not registered; EINVAL bad events.
 */
int selector_modify(selector_t *sel, int fd, unsigned events, void *data);

/**
 * @brief Stop watching @p fd. Call it before closing the descriptor.
 *
 * Safe while handling ready events: a pending, not yet handed out event for
 * @p fd is dropped, so selector_next() never returns a key that is gone.
 *
 * @param sel a selector.
 * @param fd a registered descriptor.
 * @return 0; -1 with errno ENOENT when @p fd is not registered.
 */
int selector_unregister(selector_t *sel, int fd);

/**
 * @brief Look up a registered descriptor.
 * @param sel a selector.
 * @param fd a descriptor.
 * @param[out] events its registered events, if not NULL.
 * @param[out] data its caller's pointer, if not NULL.
 * @return 0; -1 with errno ENOENT when @p fd is not registered.
 */
int selector_get(const selector_t *sel, int fd, unsigned *events, void **data);

/**
 * @brief How many descriptors are registered.
 * @param sel a selector.
 * @return the count.
 */
int selector_count(const selector_t *sel);

/* ---- chapter 06 ---- */
/**
 * @brief A descriptor that is readable whenever selector_select() would
 *        report a ready descriptor: the epoll backend's own epoll fd, so
 *        that another waiter (chapter 06's io_uring) can watch the whole
 *        selector as one descriptor. Still the selector's: do not close it.
 * @param sel a selector.
 * @return the descriptor; -1 with errno ENOTSUP for the select and poll
 *         backends, which have none.
 */
int selector_fd(const selector_t *sel);
/* ---- end chapter 06 ---- */

/**
 * @brief Wait until a registered descriptor is ready or the time is up.
 *
 * A signal that interrupts the wait (EINTR) does not end it: the wait is
 * resumed with what remains of @p timeout_ms. The ready events are kept in
 * the selector and handed out one by one with selector_next().
 *
 * @param sel a selector.
 * @param timeout_ms 0 to only look, -1 to wait without limit, else the
 *        longest wait in milliseconds.
 * @return the number of ready descriptors (0 when the time ran out); -1
 *         with errno set on failure, such as EBADF when a registered
 *         descriptor was closed before being unregistered (select and poll
 *         backends; epoll forgets a closed descriptor silently).
 */
int selector_select(selector_t *sel, int timeout_ms);

/**
 * @brief Hand out the next ready event of the last selector_select().
 * @param sel a selector.
 * @param[out] event the ready descriptor, its ready events and data.
 * @return 1 when @p event was filled, 0 when none are left.
 */
int selector_next(selector_t *sel, selector_event_t *event);

#endif
