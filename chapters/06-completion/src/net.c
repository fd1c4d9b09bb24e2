/*
 * net.c - socket helpers for the echo server.
 */
#include "net.h"

#include <errno.h>
#include <netdb.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void net_format_address(const struct sockaddr *addr, socklen_t len, char *out)
{
    char host[INET6_ADDRSTRLEN + 16]; /* and a scope id */
    char port[8];

    if (getnameinfo(addr, len, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        snprintf(out, NET_ADDRSTR_MAX, "?");
        return;
    }
    if (addr->sa_family == AF_INET6)
        snprintf(out, NET_ADDRSTR_MAX, "[%s]:%s", host, port);
    else
        snprintf(out, NET_ADDRSTR_MAX, "%s:%s", host, port);
}

/* Try one resolved address: socket, SO_REUSEADDR, bind, listen. */
static int listen_on(const struct addrinfo *ai)
{
    int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
    if (fd < 0)
        return -1;

    /* Without SO_REUSEADDR a restarted server cannot bind its port until the
     * previous run's connections leave TIME_WAIT, up to a minute later. */
    int one = 1;
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 ||
        listen(fd, SOMAXCONN) < 0) {
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

int net_listen(const char *host, unsigned short port, char *where)
{
    struct addrinfo hints, *list;
    char service[8];

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE;
    snprintf(service, sizeof service, "%u", port);
    if (getaddrinfo(host, service, &hints, &list) != 0) {
        errno = EADDRNOTAVAIL;
        return -1;
    }

    int fd = -1;
    int saved = EADDRNOTAVAIL;
    for (struct addrinfo *ai = list; ai != NULL && fd < 0; ai = ai->ai_next) {
        fd = listen_on(ai);
        if (fd < 0)
            saved = errno;
    }
    freeaddrinfo(list);
    if (fd < 0) {
        errno = saved;
        return -1;
    }

    struct sockaddr_storage bound;
    socklen_t bound_len = sizeof bound;
    getsockname(fd, (struct sockaddr *)&bound, &bound_len);
    net_format_address((struct sockaddr *)&bound, bound_len, where);
    return fd;
}

/* [send-all] */
int net_send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;

    while (len > 0) {
        ssize_t sent = send(fd, p, len, MSG_NOSIGNAL);
        if (sent < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        p += sent;
        len -= (size_t)sent;
    }
    return 0;
}
/* [send-all] */

int net_recv_all(int fd, void *buf, size_t len)
{
    char *p = buf;

    while (len > 0) {
        ssize_t got = recv(fd, p, len, 0);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return -1;
        if (got == 0) {
            errno = ECONNRESET;
            return -1;
        }
        p += got;
        len -= (size_t)got;
    }
    return 0;
}
