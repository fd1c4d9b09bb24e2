/* Exercise 01-stdio-trap: your answer. See EXERCISE.md. */
#include "exercise.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

/* The reader the way chapters 01 and 02 would write it: stdio does the
 * buffering and fread() gathers each part. It works while messages come
 * one at a time. */
struct msg_reader {
    int fd;
    FILE *in;
};

msg_reader_t *msg_reader_create(int fd)
{
    msg_reader_t *r = malloc(sizeof *r);
    if (r == NULL)
        return NULL;
    r->fd = fd;
    r->in = fdopen(dup(fd), "r");
    return r;
}

int msg_reader_on_readable(msg_reader_t *r, msg_cb *cb, void *arg)
{
    unsigned char head[2];
    char data[MSG_MAX];
    if (r->in == NULL)
        return -1;
    if (fread(head, 1, 2, r->in) < 2)
        return ferror(r->in) ? -1 : 0;
    size_t len = (size_t)head[0] << 8 | head[1];
    if (len > MSG_MAX || fread(data, 1, len, r->in) < len)
        return -1;
    cb(data, len, arg);
    return 1;
}

void msg_reader_destroy(msg_reader_t *r)
{
    if (r != NULL && r->in != NULL)
        fclose(r->in);
    free(r);
}
