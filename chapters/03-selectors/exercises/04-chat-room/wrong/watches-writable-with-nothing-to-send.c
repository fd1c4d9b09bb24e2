/* wrong: keeps every client registered for writable, even with nothing to send, so the wait ends at once and the loop spins at 100% CPU | expect: the wait ended at once although there was nothing to do */
#include "exercise.h"

#include "selector.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct member {
    struct member *next;
    int fd;            /* -1 once gone */
    int writing;       /* SELECTOR_WRITE is registered */
    char name[CHAT_NAME_MAX + 1];
    char in[CHAT_LINE_MAX + 1];
    size_t in_len;
    char *out;         /* CHAT_OUTPUT_MAX bytes */
    size_t out_len;
} member_t;

/* A line waiting to be delivered to everyone but `except`. */
typedef struct note {
    struct note *next;
    member_t *except;
    size_t len;
    char text[];
} note_t;

struct chat {
    selector_t *sel;
    member_t *members;
    note_t *head, *tail;
    int delivering;
};

static void announce(chat_t *chat, member_t *except, const char *text,
                     size_t len);

chat_t *chat_create(void)
{
    chat_t *chat = calloc(1, sizeof *chat);
    if (chat == NULL)
        return NULL;
    if ((chat->sel = selector_create(SELECTOR_DEFAULT)) == NULL) {
        free(chat);
        return NULL;
    }
    return chat;
}

/* Close m's connection; it stays in the list until reap(). */
static void gone(chat_t *chat, member_t *m, const char *why)
{
    if (m->fd < 0)
        return;
    selector_unregister(chat->sel, m->fd);
    close(m->fd);
    m->fd = -1;
    char line[CHAT_NAME_MAX + 64];
    int n = snprintf(line, sizeof line, "* %s %s\n", m->name, why);
    announce(chat, m, line, (size_t)n);
}

static void reap(chat_t *chat)
{
    member_t **p = &chat->members;
    while (*p != NULL) {
        member_t *m = *p;
        if (m->fd < 0) {
            *p = m->next;
            free(m->out);
            free(m);
        } else {
            p = &m->next;
        }
    }
}

/* Send what the kernel takes; watch for writable while some is left. */
static void flush(chat_t *chat, member_t *m)
{
    while (m->out_len > 0) {
        ssize_t n = send(m->fd, m->out, m->out_len, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            gone(chat, m, "left");
            return;
        }
        memmove(m->out, m->out + n, m->out_len - (size_t)n);
        m->out_len -= (size_t)n;
    }
    int want = 1; /* always watch writable */
    if (want != m->writing) {
        unsigned ev = SELECTOR_READ | (want ? SELECTOR_WRITE : 0);
        if (selector_modify(chat->sel, m->fd, ev, m) == 0)
            m->writing = want;
    }
}

static void deliver(chat_t *chat, member_t *m, const char *text, size_t len)
{
    if (m->out_len + len > CHAT_OUTPUT_MAX) {
        flush(chat, m);
        if (m->fd < 0)
            return;
        if (m->out_len + len > CHAT_OUTPUT_MAX) {
            gone(chat, m, "dropped: too slow");
            return;
        }
    }
    memcpy(m->out + m->out_len, text, len);
    m->out_len += len;
    flush(chat, m);
}

/* Queue a line for every member but `except`, and deliver the queue in
 * order unless a delivery further up the stack is already doing so. */
static void announce(chat_t *chat, member_t *except, const char *text,
                     size_t len)
{
    note_t *n = malloc(sizeof *n + len);
    if (n == NULL)
        return; /* out of memory: the line is lost */
    n->next = NULL;
    n->except = except;
    n->len = len;
    memcpy(n->text, text, len);
    if (chat->tail != NULL)
        chat->tail->next = n;
    else
        chat->head = n;
    chat->tail = n;
    if (chat->delivering)
        return;
    chat->delivering = 1;
    while ((n = chat->head) != NULL) {
        for (member_t *m = chat->members; m != NULL; m = m->next)
            if (m != n->except && m->fd >= 0)
                deliver(chat, m, n->text, n->len);
        chat->head = n->next;
        if (chat->head == NULL)
            chat->tail = NULL;
        free(n);
    }
    chat->delivering = 0;
}

void chat_destroy(chat_t *chat)
{
    if (chat == NULL)
        return;
    while (chat->members != NULL) {
        member_t *m = chat->members;
        chat->members = m->next;
        if (m->fd >= 0)
            close(m->fd);
        free(m->out);
        free(m);
    }
    selector_destroy(chat->sel);
    free(chat);
}

int chat_join(chat_t *chat, int fd, const char *name)
{
    size_t len = strnlen(name, CHAT_NAME_MAX + 1);
    if (len == 0 || len > CHAT_NAME_MAX || memchr(name, '\n', len) != NULL) {
        errno = EINVAL;
        return -1;
    }
    member_t *m = calloc(1, sizeof *m);
    if (m == NULL || (m->out = malloc(CHAT_OUTPUT_MAX)) == NULL) {
        free(m);
        errno = ENOMEM;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
        selector_register(chat->sel, fd, SELECTOR_READ, m) < 0) {
        int err = errno;
        if (flags >= 0)
            fcntl(fd, F_SETFL, flags);
        free(m->out);
        free(m);
        errno = err;
        return -1;
    }
    m->fd = fd;
    memcpy(m->name, name, len);
    m->next = chat->members;
    chat->members = m;
    char line[CHAT_NAME_MAX + 16];
    int n = snprintf(line, sizeof line, "* %s joined\n", m->name);
    announce(chat, m, line, (size_t)n);
    return 0;
}

static void on_readable(chat_t *chat, member_t *m)
{
    ssize_t n = recv(m->fd, m->in + m->in_len, sizeof m->in - m->in_len, 0);
    if (n < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            gone(chat, m, "left");
        return;
    }
    if (n == 0) {
        gone(chat, m, "left");
        return;
    }
    m->in_len += (size_t)n;
    size_t at = 0;
    char *nl;
    while (m->fd >= 0 &&
           (nl = memchr(m->in + at, '\n', m->in_len - at)) != NULL) {
        size_t len = (size_t)(nl - (m->in + at));
        char line[CHAT_NAME_MAX + 2 + CHAT_LINE_MAX + 1];
        size_t nlen = strlen(m->name);
        memcpy(line, m->name, nlen);
        memcpy(line + nlen, ": ", 2);
        memcpy(line + nlen + 2, m->in + at, len + 1);
        announce(chat, m, line, nlen + 2 + len + 1);
        at += len + 1;
    }
    if (m->fd < 0)
        return;
    memmove(m->in, m->in + at, m->in_len - at);
    m->in_len -= at;
    if (m->in_len == sizeof m->in)
        gone(chat, m, "dropped: line too long");
}

int chat_step(chat_t *chat, int timeout_ms)
{
    int n = selector_select(chat->sel, timeout_ms);
    if (n < 0)
        return -1;
    selector_event_t ev;
    while (selector_next(chat->sel, &ev)) {
        member_t *m = ev.data;
        if (m->fd < 0)
            continue;
        if (ev.events & SELECTOR_WRITE)
            flush(chat, m);
        if (m->fd >= 0 && (ev.events & SELECTOR_READ))
            on_readable(chat, m);
    }
    reap(chat);
    return 0;
}

long chat_backlog(const chat_t *chat, const char *name)
{
    for (member_t *m = chat->members; m != NULL; m = m->next)
        if (m->fd >= 0 && strcmp(m->name, name) == 0)
            return (long)m->out_len;
    return -1;
}
