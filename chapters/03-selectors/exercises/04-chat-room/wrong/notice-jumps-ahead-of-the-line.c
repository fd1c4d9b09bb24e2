/* wrong: announces a drop the moment it happens, in the middle of sending a line to everyone, so members reached after the dropped one get the notice before that line | expect: a drop in the middle of sending a line to everyone must not jump ahead */
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
    int fd;                       /* owned; -1 once gone */
    int gone;                     /* left or dropped: freed at the end of
                                     chat_step(), so that loops over the
                                     list never meet freed memory */
    char name[CHAT_NAME_MAX + 1];
    char in[CHAT_LINE_MAX + 1];   /* the unfinished line, and room for its
                                     newline */
    size_t in_len;
    char *out;                    /* unsent bytes, allocated only while
                                     there are some; owned */
    size_t out_start, out_len;
    unsigned interest;            /* what the selector watches now */
    struct member *next;
} member_t;

struct chat {
    selector_t *sel;
    member_t *members;
};

static void broadcast(chat_t *chat, const member_t *from, const char *text,
                      size_t len);

chat_t *chat_create(void)
{
    chat_t *chat = malloc(sizeof *chat);
    if (chat == NULL)
        return NULL;
    chat->members = NULL;
    if ((chat->sel = selector_create(SELECTOR_DEFAULT)) == NULL) {
        free(chat);
        return NULL;
    }
    return chat;
}

/* Close and unregister at once (the selector must not keep a number that
 * the next socket may get); the struct waits for reap(). */
static void bury(chat_t *chat, member_t *m)
{
    selector_unregister(chat->sel, m->fd);
    close(m->fd);
    m->fd = -1;
    m->gone = 1;
    free(m->out);
    m->out = NULL;
    m->out_start = m->out_len = 0;
}

/* A member goes; the others hear `* NAME <why>`. */
static void part(chat_t *chat, member_t *m, const char *why)
{
    char note[CHAT_NAME_MAX + 64];
    if (m->gone)
        return;
    bury(chat, m);
    int n = snprintf(note, sizeof note, "* %s %s\n", m->name, why);
    broadcast(chat, m, note, (size_t)n);
}

static void reap(chat_t *chat)
{
    member_t **link = &chat->members;
    while (*link != NULL) {
        member_t *m = *link;
        if (m->gone) {
            *link = m->next;
            free(m);
        } else {
            link = &m->next;
        }
    }
}

static void watch(chat_t *chat, member_t *m)
{
    unsigned want = SELECTOR_READ;
    if (m->out_len > m->out_start)
        want |= SELECTOR_WRITE;
    if (want != m->interest && selector_modify(chat->sel, m->fd, want, m) == 0)
        m->interest = want;
}

/* Send what the kernel takes now; keep the rest. */
static void flush(chat_t *chat, member_t *m)
{
    while (m->out_len > m->out_start) {
        ssize_t sent = send(m->fd, m->out + m->out_start,
                            m->out_len - m->out_start, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            part(chat, m, "left"); /* EPIPE, ECONNRESET: gone */
            return;
        }
        m->out_start += (size_t)sent;
    }
    if (m->out_len == m->out_start) { /* an idle member keeps no buffer */
        free(m->out);
        m->out = NULL;
        m->out_start = m->out_len = 0;
    }
    watch(chat, m);
}

static void enqueue(chat_t *chat, member_t *m, const char *text, size_t len)
{
    if (m->gone)
        return;
    if (m->out_len - m->out_start + len > CHAT_OUTPUT_MAX) {
        part(chat, m, "dropped: too slow");
        return;
    }
    if (m->out == NULL && (m->out = malloc(CHAT_OUTPUT_MAX)) == NULL) {
        part(chat, m, "dropped: out of memory");
        return;
    }
    if (m->out_len + len > CHAT_OUTPUT_MAX) { /* make room at the end */
        memmove(m->out, m->out + m->out_start, m->out_len - m->out_start);
        m->out_len -= m->out_start;
        m->out_start = 0;
    }
    memcpy(m->out + m->out_len, text, len);
    m->out_len += len;
    flush(chat, m);
}

static void broadcast(chat_t *chat, const member_t *from, const char *text,
                      size_t len)
{
    for (member_t *m = chat->members; m != NULL; m = m->next)
        if (m != from)
            enqueue(chat, m, text, len);
}

/* Every complete line in m's buffer goes out as `NAME: TEXT`. */
static void hand_out_lines(chat_t *chat, member_t *m)
{
    char line[CHAT_NAME_MAX + CHAT_LINE_MAX + 4];
    size_t at = 0;
    char *nl;
    while (!m->gone && (nl = memchr(m->in + at, '\n', m->in_len - at)) != NULL) {
        size_t text = (size_t)(nl - (m->in + at));
        int head = snprintf(line, sizeof line, "%s: ", m->name);
        memcpy(line + head, m->in + at, text + 1);
        broadcast(chat, m, line, (size_t)head + text + 1);
        at += text + 1;
    }
    if (m->gone)
        return;
    memmove(m->in, m->in + at, m->in_len - at);
    m->in_len -= at;
    if (m->in_len > CHAT_LINE_MAX)
        part(chat, m, "dropped: line too long");
}

static void on_readable(chat_t *chat, member_t *m)
{
    ssize_t got = recv(m->fd, m->in + m->in_len, sizeof m->in - m->in_len, 0);
    if (got < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            part(chat, m, "left");
        return; /* a stale readiness or a signal: wait again */
    }
    if (got == 0) {
        part(chat, m, "left");
        return;
    }
    m->in_len += (size_t)got;
    hand_out_lines(chat, m);
}

int chat_join(chat_t *chat, int fd, const char *name)
{
    size_t len = strlen(name);
    if (len == 0 || len > CHAT_NAME_MAX || strchr(name, '\n') != NULL) {
        errno = EINVAL;
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0)
        return -1;
    member_t *m = calloc(1, sizeof *m);
    if (m == NULL)
        return -1;
    m->fd = fd;
    memcpy(m->name, name, len + 1);
    m->interest = SELECTOR_READ;
    if (selector_register(chat->sel, fd, SELECTOR_READ, m) < 0) {
        int err = errno;
        free(m);
        errno = err;
        return -1;
    }
    char note[CHAT_NAME_MAX + 16];
    int n = snprintf(note, sizeof note, "* %s joined\n", name);
    broadcast(chat, m, note, (size_t)n);
    m->next = chat->members;
    chat->members = m;
    reap(chat); /* the announcement may have dropped someone */
    return 0;
}

int chat_step(chat_t *chat, int timeout_ms)
{
    if (selector_select(chat->sel, timeout_ms) < 0)
        return -1;
    selector_event_t ev;
    while (selector_next(chat->sel, &ev)) {
        member_t *m = ev.data;
        if (!m->gone && (ev.events & SELECTOR_WRITE))
            flush(chat, m);
        if (!m->gone && (ev.events & SELECTOR_READ))
            on_readable(chat, m);
    }
    reap(chat);
    return 0;
}

long chat_backlog(const chat_t *chat, const char *name)
{
    for (const member_t *m = chat->members; m != NULL; m = m->next)
        if (!m->gone && strcmp(m->name, name) == 0)
            return (long)(m->out_len - m->out_start);
    return -1;
}

void chat_destroy(chat_t *chat)
{
    if (chat == NULL)
        return;
    for (member_t *m = chat->members; m != NULL; m = m->next)
        if (!m->gone)
            bury(chat, m);
    reap(chat);
    selector_destroy(chat->sel);
    free(chat);
}
