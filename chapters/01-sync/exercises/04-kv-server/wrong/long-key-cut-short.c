/* wrong: cuts a key longer than KV_KEY_MAX short instead of refusing it, so it overwrites another key | expect: a longer one is refused, not cut short */
#include "exercise.h"

#include "net.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct entry {
    bool used;
    char key[KV_KEY_MAX + 1];
    char value[KV_LINE_MAX + 1];
};

struct store {
    struct entry e[KV_KEYS_MAX];
};

static struct entry *find(struct store *s, const char *key)
{
    for (int i = 0; i < KV_KEYS_MAX; i++)
        if (s->e[i].used && strcmp(s->e[i].key, key) == 0)
            return &s->e[i];
    return NULL;
}

static struct entry *free_slot(struct store *s)
{
    for (int i = 0; i < KV_KEYS_MAX; i++)
        if (!s->e[i].used)
            return &s->e[i];
    return NULL;
}

static int reply(int fd, const char *a, const char *b)
{
    char out[KV_LINE_MAX + 32];
    int n = snprintf(out, sizeof out, "%s%s\n", a, b);
    return net_send_all(fd, out, (size_t)n);
}

/* Split "KEY rest": returns the key length, rest points after the space
 * (or NULL if no space). */
static size_t key_of(const char *args, const char **rest)
{
    const char *sp = strchr(args, ' ');
    *rest = sp == NULL ? NULL : sp + 1;
    return sp == NULL ? strlen(args) : (size_t)(sp - args);
}

/* Handle one line; 1 to close the connection, -1 on send error, 0 go on. */
static int handle(struct store *s, int fd, char *line)
{
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';

    if (strcmp(line, "QUIT") == 0)
        return reply(fd, "BYE", "") < 0 ? -1 : 1;

    const char *rest;
    if (strncmp(line, "SET ", 4) == 0) {
        char *args = line + 4;
        size_t klen = key_of(args, &rest);
        if (klen == 0 || rest == NULL)
            return reply(fd, "ERROR usage: SET <key> <value>", "");
        args[klen > KV_KEY_MAX ? KV_KEY_MAX : klen] = '\0';
        struct entry *e = find(s, args);
        if (e == NULL)
            e = free_slot(s);
        if (e == NULL)
            return reply(fd, "ERROR store full", "");
        e->used = true;
        strcpy(e->key, args);
        strcpy(e->value, rest);
        return reply(fd, "OK", "");
    }
    bool get = strncmp(line, "GET ", 4) == 0;
    bool del = strncmp(line, "DEL ", 4) == 0;
    if (get || del) {
        char *key = line + 4;
        size_t klen = key_of(key, &rest);
        if (klen == 0 || klen > KV_KEY_MAX || rest != NULL)
            return reply(fd, get ? "ERROR usage: GET <key>" : "ERROR usage: DEL <key>", "");
        struct entry *e = find(s, key);
        if (e == NULL)
            return reply(fd, "MISSING", "");
        if (get)
            return reply(fd, "VALUE ", e->value);
        e->used = false;
        return reply(fd, "OK", "");
    }
    return reply(fd, "ERROR unknown request", "");
}

static void serve_one(struct store *s, int fd)
{
    char buf[KV_LINE_MAX + 2]; /* a line, its \r and its \n */
    size_t have = 0;
    bool skipping = false;

    for (;;) {
        ssize_t got = recv(fd, buf + have, sizeof buf - have, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return;
        have += (size_t)got;

        char *nl;
        while ((nl = memchr(buf, '\n', have)) != NULL) {
            size_t used = (size_t)(nl - buf) + 1;
            if (skipping) {
                skipping = false;
            } else {
                *nl = '\0';
                int rc = handle(s, fd, buf);
                if (rc != 0)
                    return;
            }
            memmove(buf, buf + used, have - used);
            have -= used;
        }
        if (have == sizeof buf) {
            /* No newline in a full buffer: the line is too long. */
            if (!skipping && reply(fd, "ERROR line too long", "") < 0)
                return;
            skipping = true;
            have = 0;
        }
    }
}

int kv_serve(int listen_fd, unsigned clients)
{
    static struct store store;

    memset(&store, 0, sizeof store);
    while (clients > 0) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        serve_one(&store, fd);
        close(fd);
        clients--;
    }
    return 0;
}
