/**
 * @file options.h
 * @brief Strict parsing of command-line values shared by the programs, and
 *        a start-up guard for the standard descriptors.
 *
 * The parsers return 0 on success and -1 on a malformed value, leaving the
 * output untouched; the caller prints the usage error and exits with
 * status 2.
 */
#ifndef OPTIONS_H
#define OPTIONS_H

/** @brief Smallest accepted `--interval`, in seconds (one millisecond). */
#define OPTIONS_INTERVAL_MIN_S 0.001

/** @brief Largest accepted `--interval`, in seconds (one day). */
#define OPTIONS_INTERVAL_MAX_S 86400.0

/**
 * @brief Parse a positive decimal such as `3`, `0.5` or `.25`.
 *
 * Digits with at most one decimal point, from OPTIONS_INTERVAL_MIN_S to
 * OPTIONS_INTERVAL_MAX_S. (Smaller values would round to nothing in the
 * arithmetic of a timer.) No sign, exponent, hex, `inf` or `nan`, which
 * strtod() would all accept.
 *
 * @param text the option's value.
 * @param[out] interval_s the interval in seconds, set only on success.
 * @return 0, or -1 if @p text is not such a number.
 */
int options_parse_interval(const char *text, double *interval_s);

/**
 * @brief Parse a TCP port: decimal digits, 0 to 65535 (0 = any free port).
 *
 * Leading zeros are allowed, any number of them (`080` and `000080` are
 * both port 80).
 *
 * @param text the option's value.
 * @param[out] port set only on success.
 * @return 0, or -1 if @p text is not such a number.
 */
int options_parse_port(const char *text, unsigned short *port);

/**
 * @brief Make sure descriptors 0, 1 and 2 are open: call it first in main().
 *
 * A program started with one of them closed (`prog <&- >&-`, or by a
 * careless parent) would otherwise hand that number to the first
 * descriptor it opens: a pipe, a socket or an epoll instance would become
 * "standard output", and printf() would write into it. Each closed one is
 * opened on /dev/null, the classic guard of daemons.
 *
 * @return 0, or -1 with errno set if /dev/null could not be opened.
 */
int options_open_std_fds(void);

/**
 * @brief Report a command-line mistake and exit with status 2.
 *
 * Prints "PROGRAM: " and the message made from @p fmt and @p arg on stderr,
 * then a hint to try --help.
 *
 * @param program the program's name, such as "hello".
 * @param fmt a printf format with exactly one %s.
 * @param arg the offending argument, quoted into the message.
 */
void options_usage_error(const char *program, const char *fmt,
                         const char *arg);

#endif
