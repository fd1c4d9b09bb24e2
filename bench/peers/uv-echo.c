/*
 * uv-echo.c - the libuv peer of the C10K comparison: the echo server a C
 * programmer would write with libuv instead of this book's loop.
 *
 *   uv-echo [--host ADDR] [--port N]
 *
 * Same contract as the chapters' echo-server: first stdout line
 * `listening on HOST:PORT`, every byte echoed in order, the client's
 * half-close answered by finishing the writes and closing, SIGINT/SIGTERM
 * exit 0.
 *
 * Written the way libuv's documentation suggests for speed, so that it is a
 * fair peer rather than a strawman: every read lands in one static buffer
 * (the loop is single-threaded and the bytes are consumed before the next
 * read), and the echo first tries uv_try_write(), which usually sends it all
 * at once; only what the socket does not take is copied into a write
 * request. (The simplest libuv example, a fresh 64 KiB malloc per read and a
 * uv_write per read, spent a brk() every few echoes and an epoll_ctl per
 * echo here.) Same back-pressure rule as the book's servers: stop reading
 * from a client whose unsent output passes a bound, resume when it drains.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#define OUTPUT_BOUND (1 << 20) /* unsent bytes at which we stop reading */

struct write_req {
    uv_write_t req;
    uv_buf_t buf;
};

static uv_tcp_t server;
static uv_signal_t sigint_handle, sigterm_handle;

static void on_alloc(uv_handle_t *handle, size_t suggested, uv_buf_t *buf)
{
    static char buffer[65536];

    (void)handle;
    (void)suggested;
    *buf = uv_buf_init(buffer, sizeof buffer);
}

static void on_closed(uv_handle_t *handle)
{
    if (handle->data) /* clients are on the heap, marked by data */
        free(handle);
}

static void on_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf);

static void on_written(uv_write_t *req, int status)
{
    struct write_req *w = (struct write_req *)req;
    uv_stream_t *client = req->handle;

    free(w->buf.base);
    free(w);
    if (status < 0) {
        if (!uv_is_closing((uv_handle_t *)client))
            uv_close((uv_handle_t *)client, on_closed);
        return;
    }
    /* Drained below the bound: read again (a no-op if already reading,
     * UV_EINVAL after the client's EOF, both harmless). */
    if (uv_stream_get_write_queue_size(client) < OUTPUT_BOUND &&
        !uv_is_closing((uv_handle_t *)client) && uv_is_readable(client))
        uv_read_start(client, on_alloc, on_read);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    (void)status;
    if (!uv_is_closing((uv_handle_t *)req->handle))
        uv_close((uv_handle_t *)req->handle, on_closed);
    free(req);
}

/* Echo data: straight to the socket if nothing is queued before it, and
 * only the rest (a copy) into a write request. 0, or -1 if it failed. */
static int echo(uv_stream_t *client, const char *data, size_t len)
{
    struct write_req *w;

    if (uv_stream_get_write_queue_size(client) == 0) {
        uv_buf_t buf = uv_buf_init((char *)data, (unsigned)len);
        int n = uv_try_write(client, &buf, 1);
        if (n < 0 && n != UV_EAGAIN)
            return -1;
        if (n > 0) {
            data += n;
            len -= (size_t)n;
        }
    }
    if (len == 0)
        return 0;
    if (!(w = malloc(sizeof *w)) || !(w->buf.base = malloc(len))) {
        free(w);
        return -1;
    }
    memcpy(w->buf.base, data, len);
    w->buf.len = len;
    if (uv_write(&w->req, client, &w->buf, 1, on_written) < 0) {
        free(w->buf.base);
        free(w);
        return -1;
    }
    if (uv_stream_get_write_queue_size(client) >= OUTPUT_BOUND)
        uv_read_stop(client);
    return 0;
}

static void on_read(uv_stream_t *client, ssize_t nread, const uv_buf_t *buf)
{
    if (nread > 0) {
        if (echo(client, buf->base, (size_t)nread) < 0)
            uv_close((uv_handle_t *)client, on_closed);
    } else if (nread == UV_EOF) {
        /* The client is done sending: finish our writes, then close. */
        uv_shutdown_t *req = malloc(sizeof *req);
        if (!req || uv_shutdown(req, client, on_shutdown) < 0) {
            free(req);
            uv_close((uv_handle_t *)client, on_closed);
        }
    } else if (nread < 0) {
        uv_close((uv_handle_t *)client, on_closed);
    }
}

static void on_connection(uv_stream_t *listener, int status)
{
    uv_tcp_t *client;

    if (status < 0) {
        fprintf(stderr, "uv-echo: accept: %s\n", uv_strerror(status));
        return;
    }
    client = malloc(sizeof *client);
    if (!client)
        return;
    uv_tcp_init(listener->loop, client);
    client->data = client;
    if (uv_accept(listener, (uv_stream_t *)client) == 0)
        uv_read_start((uv_stream_t *)client, on_alloc, on_read);
    else
        uv_close((uv_handle_t *)client, on_closed);
}

static void close_handle(uv_handle_t *handle, void *arg)
{
    (void)arg;
    if (!uv_is_closing(handle))
        uv_close(handle, on_closed);
}

static void on_signal(uv_signal_t *handle, int signo)
{
    (void)signo;
    uv_walk(handle->loop, close_handle, NULL); /* uv_run then returns */
}

static int usage_error(const char *what, const char *arg)
{
    fprintf(stderr, "uv-echo: %s '%s'\nusage: uv-echo [--host ADDR] "
            "[--port N]\n", what, arg);
    return 2;
}

int main(int argc, char **argv)
{
    const char *host = "127.0.0.1";
    long port = 8888;
    struct sockaddr_storage addr;
    int len = sizeof addr, rc;
    char name[64];
    uv_loop_t *loop = uv_default_loop();

    for (int i = 1; i < argc; i++) {
        char *end;
        if (strcmp(argv[i], "--help") == 0) {
            puts("usage: uv-echo [--host ADDR] [--port N]\n"
                 "libuv echo server (the C10K comparison's peer).");
            return 0;
        } else if (strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
            host = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            port = strtol(argv[++i], &end, 10);
            if (*argv[i] == '\0' || *end || port < 0 || port > 65535)
                return usage_error("bad port", argv[i]);
        } else {
            return usage_error("bad argument", argv[i]);
        }
    }
    if (uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr) != 0)
        return usage_error("bad IPv4 address", host);

    uv_tcp_init(loop, &server);
    server.data = NULL;
    if ((rc = uv_tcp_bind(&server, (const struct sockaddr *)&addr, 0)) < 0 ||
        (rc = uv_listen((uv_stream_t *)&server, SOMAXCONN, on_connection)) < 0) {
        fprintf(stderr, "uv-echo: %s:%ld: %s\n", host, port, uv_strerror(rc));
        return 1;
    }
    uv_tcp_getsockname(&server, (struct sockaddr *)&addr, &len);
    uv_ip4_name((struct sockaddr_in *)&addr, name, sizeof name);
    printf("listening on %s:%d\n", name,
           ntohs(((struct sockaddr_in *)&addr)->sin_port));
    fflush(stdout);

    uv_signal_init(loop, &sigint_handle);
    uv_signal_init(loop, &sigterm_handle);
    sigint_handle.data = sigterm_handle.data = NULL;
    uv_signal_start(&sigint_handle, on_signal, SIGINT);
    uv_signal_start(&sigterm_handle, on_signal, SIGTERM);

    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    return 0;
}
