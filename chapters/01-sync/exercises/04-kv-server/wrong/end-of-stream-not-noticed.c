/* wrong: takes recv() returning 0 for "no data yet" and keeps waiting on a client that has hung up | expect: did it notice that recv() returned 0 */
#include "exercise.h"

#include "net.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct entry {
    char key[KV_KEY_MAX];
    size_t key_len;
    char value[KV_LINE_MAX];
    size_t value_len;
};

/* The store outlives every connection: it belongs to the kv_serve() call. */
struct store {
    struct entry entries[KV_KEYS_MAX];
    size_t count;
};

static struct entry *store_find(struct store *s, const char *key, size_t len)
{
    for (size_t i = 0; i < s->count; i++)
        if (s->entries[i].key_len == len &&
            memcmp(s->entries[i].key, key, len) == 0)
            return &s->entries[i];
    return NULL;
}

static int reply(int fd, const char *text)
{
    return net_send_all(fd, text, strlen(text));
}

/* "SET key value", "GET key" and "DEL key" share the key's syntax: the
 * bytes up to the next space (or the end), 1 to KV_KEY_MAX of them. */
static const char *split_key(const char *p, const char *end, size_t *len)
{
    const char *sp = memchr(p, ' ', (size_t)(end - p));
    *len = (size_t)((sp != NULL ? sp : end) - p);
    return *len >= 1 && *len <= KV_KEY_MAX ? sp : p;
}

static int handle_set(int fd, struct store *s, const char *p, const char *end)
{
    size_t key_len;
    const char *sp = split_key(p, end, &key_len);
    if (sp == p || sp == NULL)
        return reply(fd, "ERROR usage: SET <key> <value>\n");
    struct entry *e = store_find(s, p, key_len);
    if (e == NULL) {
        if (s->count == KV_KEYS_MAX)
            return reply(fd, "ERROR the store is full\n");
        e = &s->entries[s->count++];
        memcpy(e->key, p, key_len);
        e->key_len = key_len;
    }
    e->value_len = (size_t)(end - (sp + 1));
    memcpy(e->value, sp + 1, e->value_len);
    return reply(fd, "OK\n");
}

static int handle_get_or_del(int fd, struct store *s, int del, const char *p,
                             const char *end)
{
    size_t key_len;
    const char *sp = split_key(p, end, &key_len);
    if (sp == p || sp != NULL)
        return reply(fd, del ? "ERROR usage: DEL <key>\n"
                             : "ERROR usage: GET <key>\n");
    struct entry *e = store_find(s, p, key_len);
    if (e == NULL)
        return reply(fd, "MISSING\n");
    if (del) {
        *e = s->entries[--s->count];
        return reply(fd, "OK\n");
    }
    if (reply(fd, "VALUE ") < 0 || net_send_all(fd, e->value, e->value_len) < 0)
        return -1;
    return reply(fd, "\n");
}

/* One request line, without its line end. 1 to go on, 0 after QUIT, -1
 * when the client is gone. */
static int handle_line(int fd, struct store *s, const char *line, size_t len)
{
    const char *end = line + len;
    if (len >= 4 && memcmp(line, "SET ", 4) == 0)
        return handle_set(fd, s, line + 4, end) < 0 ? -1 : 1;
    if (len >= 4 && memcmp(line, "GET ", 4) == 0)
        return handle_get_or_del(fd, s, 0, line + 4, end) < 0 ? -1 : 1;
    if (len >= 4 && memcmp(line, "DEL ", 4) == 0)
        return handle_get_or_del(fd, s, 1, line + 4, end) < 0 ? -1 : 1;
    if (len == 4 && memcmp(line, "QUIT", 4) == 0)
        return reply(fd, "BYE\n") < 0 ? -1 : 0;
    return reply(fd, "ERROR unknown request\n") < 0 ? -1 : 1;
}

/* One connection, to its end. Bytes are gathered into lines whatever the
 * pieces they arrive in; an overlong line is skipped up to its newline. */
static void serve_client(int fd, struct store *s)
{
    char line[KV_LINE_MAX + 1]; /* + 1: room for a "\r" before the "\n" */
    size_t len = 0;
    int too_long = 0;
    char chunk[4096];

    for (;;) {
        ssize_t got = recv(fd, chunk, sizeof chunk, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got == 0)
            continue; /* nothing yet */
        if (got < 0)
            return;
        for (ssize_t i = 0; i < got; i++) {
            char c = chunk[i];
            if (c != '\n') {
                if (len < sizeof line)
                    line[len++] = c;
                else
                    too_long = 1;
                continue;
            }
            if (len > 0 && line[len - 1] == '\r')
                len--;
            int go_on = too_long || len > KV_LINE_MAX
                            ? (reply(fd, "ERROR line too long\n") < 0 ? -1 : 1)
                            : handle_line(fd, s, line, len);
            if (go_on <= 0)
                return;
            len = 0;
            too_long = 0;
        }
    }
}

int kv_serve(int listen_fd, unsigned clients)
{
    static struct store store; /* large: not on the stack */

    memset(&store, 0, sizeof store);
    for (unsigned served = 0; served < clients;) {
        int fd = accept(listen_fd, NULL, NULL);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return -1;
        }
        serve_client(fd, &store);
        close(fd);
        served++;
    }
    return 0;
}
