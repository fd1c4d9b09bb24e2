/**
 * @file net.h
 * @brief The few socket helpers the echo server needs.
 *
 * Conventions, as in the system calls they wrap: 0 (or a descriptor) on
 * success, -1 with errno set on failure. EINTR is retried inside; nothing
 * here ever raises SIGPIPE.
 */
#ifndef NET_H
#define NET_H

#include <stddef.h>
#include <sys/socket.h>

/** @brief Room for "[IPv6-address%scope]:port" and the terminating NUL. */
#define NET_ADDRSTR_MAX 80

/**
 * @brief Open a listening TCP socket.
 *
 * @param host a numeric IPv4 or IPv6 address, or a name such as localhost
 *        (the first address it resolves to that can be bound is used).
 * @param port 0 lets the kernel pick a free port.
 * @param[out] where "HOST:PORT" of the bound address, IPv6 in brackets, so
 *        that a port of 0 shows the real port; NET_ADDRSTR_MAX bytes.
 * @return the listening descriptor, owned by the caller; -1 with errno set
 *         (for a name that does not resolve, errno is EADDRNOTAVAIL).
 */
int net_listen(const char *host, unsigned short port, char *where);

/**
 * @brief Format a socket address as "HOST:PORT" (IPv6 in brackets).
 * @param addr an IPv4 or IPv6 address, as accept() or getsockname() fill it.
 * @param len its length.
 * @param[out] out NET_ADDRSTR_MAX bytes; "?" if the family is unknown.
 */
void net_format_address(const struct sockaddr *addr, socklen_t len, char *out);

/**
 * @brief Send all @p len bytes, however many send() calls it takes.
 *
 * A blocking send() may still send only part of the buffer, for instance when
 * a signal arrives after some bytes went out. This loops until everything is
 * sent, retrying EINTR, and uses MSG_NOSIGNAL so that a peer that has gone
 * away gives EPIPE instead of killing the process with SIGPIPE.
 *
 * @param fd a connected, blocking stream socket.
 * @param buf the bytes to send.
 * @param len how many.
 * @return 0 when all bytes were sent; -1 with errno set otherwise (how many
 *         bytes went out before the error is not reported).
 */
int net_send_all(int fd, const void *buf, size_t len);

/**
 * @brief Receive exactly @p len bytes, however many recv() calls it takes.
 *
 * The receiving twin of net_send_all(): recv() returns whatever has arrived,
 * which may be less than asked for. EINTR is retried.
 *
 * @param fd a connected, blocking stream socket.
 * @param[out] buf room for @p len bytes.
 * @param len how many bytes to wait for.
 * @return 0 when all @p len bytes arrived; -1 with errno set otherwise
 *         (ECONNRESET when the peer ended the stream early).
 */
int net_recv_all(int fd, void *buf, size_t len);

#endif
