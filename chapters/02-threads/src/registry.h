/**
 * @file registry.h
 * @brief The live connections of the thread-per-connection echo server.
 *
 * Each connection has its own thread, but shutdown needs to reach all of
 * them: a thread blocked in recv() only wakes when something happens on its
 * socket. The registry keeps every live connection's descriptor under a
 * mutex, so the main thread can shutdown() them all and then wait, on a
 * condition variable, until the last connection thread has left.
 *
 * Thread-safety: every function may be called from any thread, except
 * registry_init() and registry_deinit(), which must not race with anything.
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include <pthread.h>
#include <stddef.h>

/**
 * @brief A set of live connection descriptors. Caller storage, set up by
 *        registry_init() and released by registry_deinit().
 *
 * Fields are private to registry.c and guarded by @c lock.
 */
typedef struct registry {
    pthread_mutex_t lock; /**< guards every field below */
    pthread_cond_t empty; /**< signalled when @c count drops to 0 */
    int *fds;             /**< live descriptors, unordered; owned here */
    size_t count;         /**< how many of @c fds are in use */
    size_t capacity;      /**< allocated length of @c fds */
    int closing;          /**< set by registry_shutdown_all(); no more adds */
} registry_t;

/**
 * @brief Make an empty registry.
 * @param r caller storage.
 */
void registry_init(registry_t *r);

/**
 * @brief Release the registry's memory. It must be empty.
 * @param r a registry made by registry_init().
 */
void registry_deinit(registry_t *r);

/**
 * @brief Add a connection.
 * @param r the registry.
 * @param fd an open descriptor; the caller keeps ownership.
 * @return 0; -1 with errno set: ECANCELED after registry_shutdown_all()
 *         (the server is stopping, do not serve this one), ENOMEM.
 */
int registry_add(registry_t *r, int fd);

/**
 * @brief Remove a connection and close its descriptor, atomically.
 *
 * Closing under the registry's lock matters: once closed, the number may be
 * reused by the next accept(), and registry_shutdown_all() must never shut
 * down a stranger's socket that happens to get the same number.
 *
 * @param r the registry.
 * @param fd a descriptor added with registry_add(); closed on return.
 */
void registry_close(registry_t *r, int fd);

/**
 * @brief Refuse new connections and shutdown() every live one, so that
 *        threads blocked in recv() or send() on them return at once.
 * @param r the registry.
 */
void registry_shutdown_all(registry_t *r);

/**
 * @brief Wait until the registry is empty, at most @p timeout_s seconds.
 * @param r the registry.
 * @param timeout_s how long to wait.
 * @return the number of connections still registered (0 on success).
 */
size_t registry_wait_empty(registry_t *r, double timeout_s);

/**
 * @brief How many connections are registered right now.
 * @param r the registry.
 * @return the count (it may change as soon as the lock is released).
 */
size_t registry_count(registry_t *r);

#endif
