/**
 * @file list.h
 * @brief The chapter's one doubly linked list: intrusive and circular
 *        around a sentinel, like the Linux kernel's list_head (libuv's
 *        queue.h, libdill's list.h).
 *
 * The link lives inside whatever is listed (a Task, a callback record, a
 * waiter), so putting a thing on a list allocates nothing, and a thing
 * leaves its list in O(1) without knowing which list that is. The list
 * itself is a sentinel link: empty when it points at itself, so no
 * unlink has a special case for the first or the last element.
 *
 * @code
 * typedef struct job { int n; list_t link; } job_t;
 * list_t todo;
 * list_init(&todo);
 * list_add_tail(&todo, &job->link);
 * for (list_t *l = todo.next; l != &todo; l = l->next)
 *     printf("%d\n", LIST_ENTRY(l, job_t, link)->n);
 * list_unlink(&job->link);
 * @endcode
 *
 * A removed link points at itself again, so list_linked() tells whether
 * a thing is on some list. A list, or a thing on one, must not be moved
 * (memcpy) while linked: its neighbours point at it.
 */
#ifndef LIST_H
#define LIST_H

#include <stddef.h>

/** @brief A list (the sentinel) or a link in one. */
typedef struct list {
    struct list *next; /**< the next link; the sentinel after the last */
    struct list *prev; /**< the previous link; the sentinel before the
                            first */
} list_t;

/**
 * @brief The struct of type @p type whose member @p member is the link
 *        @p link.
 */
#define LIST_ENTRY(link, type, member) \
    ((type *)((char *)(link) - offsetof(type, member)))

/**
 * @brief Make an empty list, or a link that is on no list.
 * @param l caller storage.
 */
static inline void list_init(list_t *l)
{
    l->next = l;
    l->prev = l;
}

/**
 * @brief Whether a list is empty.
 * @param l an initialised list.
 * @return 1 or 0.
 */
static inline int list_empty(const list_t *l)
{
    return l->next == l;
}

/**
 * @brief Whether a link is on a list.
 * @param link an initialised link.
 * @return 1 or 0.
 */
static inline int list_linked(const list_t *link)
{
    return link->next != link;
}

/**
 * @brief Append @p link at the end of @p l.
 * @param l a list.
 * @param link a link on no list.
 */
static inline void list_add_tail(list_t *l, list_t *link)
{
    link->prev = l->prev;
    link->next = l;
    l->prev->next = link;
    l->prev = link;
}

/**
 * @brief Take @p link off its list and leave it on none (the kernel's
 *        list_del_init); harmless if it is on none already.
 * @param link an initialised link.
 */
static inline void list_unlink(list_t *link)
{
    link->prev->next = link->next;
    link->next->prev = link->prev;
    link->next = link; /* on no list: what list_linked() asks */
    link->prev = link;
}

/**
 * @brief Move @p link from whatever list it is on to the end of @p l (one
 *        step: it is not made to point at itself in between).
 * @param l a list.
 * @param link a link on a list.
 */
static inline void list_move_tail(list_t *l, list_t *link)
{
    link->prev->next = link->next;
    link->next->prev = link->prev;
    list_add_tail(l, link);
}

/**
 * @brief Move every link of @p from, in order, to the end of @p to, in
 *        O(1); @p from is empty afterwards.
 * @param to a list.
 * @param from another list.
 */
static inline void list_splice_tail(list_t *to, list_t *from)
{
    if (list_empty(from))
        return;
    from->next->prev = to->prev;
    to->prev->next = from->next;
    from->prev->next = to;
    to->prev = from->prev;
    list_init(from);
}

/**
 * @brief The first link of @p l, or NULL if it is empty.
 * @param l a list.
 * @return the link or NULL.
 */
static inline list_t *list_first(const list_t *l)
{
    return list_empty(l) ? NULL : l->next;
}

#endif
