/*
 * bench_selector.c - what one wait costs, by backend and number of
 * descriptors, with and without our selector layer.
 *
 * The shape of Table 63-9 in The Linux Programming Interface: N descriptors
 * are watched for reading (N = 10, 100, 1,000, 10,000) and exactly one of
 * them, picked at random, is ready. We time one wait plus finding the ready
 * descriptor, for each backend through selector_select()/selector_next(),
 * and, in the same run, the bare system call doing the same job (for
 * select(): copy the fd_set, call, scan the bits; for poll(): call, scan
 * revents; for epoll: call). The layer's cost is the ratio of the two.
 *
 * The descriptors are eventfds: one descriptor each (a pipe needs two, and
 * 10,000 pipes would not fit under a 20,000 descriptor limit). select()
 * cannot watch 10,000 of them (FD_SETSIZE is 1024): that cell says so.
 *
 *   bench-selector [--csv FILE]
 */
#define _GNU_SOURCE /* eventfd, epoll */
#include "selector.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#define REPEATS 5        /* best of: the machine is shared */
#define SLICE_S 0.05     /* each measurement runs at least this long */

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The fixture: n eventfds, one of them (fds[ready]) readable. */
typedef struct fixture {
    int *fds;
    int n;
    int ready;
    int max_fd;
} fixture_t;

static volatile int sink; /* keeps the compiler from dropping the scans */

/* ---- one wait through the selector layer ---- */

static void wait_layer(void *arg)
{
    selector_t *sel = arg;
    selector_event_t ev;
    if (selector_select(sel, -1) != 1 || !selector_next(sel, &ev)) {
        fprintf(stderr, "bench-selector: the selector found nothing\n");
        exit(1);
    }
    sink = ev.fd;
}

/* ---- the same wait with the bare system calls ---- */

typedef struct raw_select {
    const fixture_t *fx;
    fd_set all;
} raw_select_t;

static void wait_raw_select(void *arg)
{
    raw_select_t *r = arg;
    fd_set readable = r->all;
    if (select(r->fx->max_fd + 1, &readable, NULL, NULL, NULL) != 1)
        exit(1);
    for (int fd = 0; fd <= r->fx->max_fd; fd++)
        if (FD_ISSET(fd, &readable))
            sink = fd;
}

typedef struct raw_poll {
    struct pollfd *pfds;
    int n;
} raw_poll_t;

static void wait_raw_poll(void *arg)
{
    raw_poll_t *r = arg;
    if (poll(r->pfds, (nfds_t)r->n, -1) != 1)
        exit(1);
    for (int i = 0; i < r->n; i++)
        if (r->pfds[i].revents)
            sink = r->pfds[i].fd;
}

typedef struct raw_epoll {
    int epfd;
} raw_epoll_t;

static void wait_raw_epoll(void *arg)
{
    raw_epoll_t *r = arg;
    struct epoll_event ev[64];
    if (epoll_wait(r->epfd, ev, 64, -1) != 1)
        exit(1);
    sink = ev[0].data.fd;
}

/* Nanoseconds per call of fn: best of REPEATS runs of at least SLICE_S. */
static double time_ns(void (*fn)(void *), void *arg)
{
    double best = 1e30;
    for (int r = 0; r < REPEATS; r++) {
        long calls = 0;
        double t0 = now_s(), t;
        do {
            for (int i = 0; i < 16; i++)
                fn(arg);
            calls += 16;
            t = now_s() - t0;
        } while (t < SLICE_S);
        if (t / (double)calls < best)
            best = t / (double)calls;
    }
    return best * 1e9;
}

static double measure_layer(const fixture_t *fx, selector_backend_t backend)
{
    selector_t *sel = selector_create(backend);
    if (sel == NULL)
        return -1;
    for (int i = 0; i < fx->n; i++) {
        if (selector_register(sel, fx->fds[i], SELECTOR_READ, NULL) < 0) {
            selector_destroy(sel);
            return -1; /* ERANGE: select() cannot hold this many */
        }
    }
    double ns = time_ns(wait_layer, sel);
    selector_destroy(sel);
    return ns;
}

static double measure_raw(const fixture_t *fx, selector_backend_t backend)
{
    double ns = -1;
    if (backend == SELECTOR_SELECT) {
        if (fx->max_fd >= FD_SETSIZE)
            return -1;
        raw_select_t r = {fx, {{0}}};
        FD_ZERO(&r.all);
        for (int i = 0; i < fx->n; i++)
            FD_SET(fx->fds[i], &r.all);
        ns = time_ns(wait_raw_select, &r);
    } else if (backend == SELECTOR_POLL) {
        raw_poll_t r = {calloc((size_t)fx->n, sizeof(struct pollfd)), fx->n};
        if (r.pfds == NULL)
            return -1;
        for (int i = 0; i < fx->n; i++)
            r.pfds[i] = (struct pollfd){fx->fds[i], POLLIN, 0};
        ns = time_ns(wait_raw_poll, &r);
        free(r.pfds);
    } else {
        raw_epoll_t r = {epoll_create1(EPOLL_CLOEXEC)};
        for (int i = 0; i < fx->n; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.fd = fx->fds[i]};
            epoll_ctl(r.epfd, EPOLL_CTL_ADD, fx->fds[i], &ev);
        }
        ns = time_ns(wait_raw_epoll, &r);
        close(r.epfd);
    }
    return ns;
}

static int make_fixture(fixture_t *fx, int n)
{
    fx->fds = malloc((size_t)n * sizeof *fx->fds);
    fx->n = 0;
    fx->max_fd = -1;
    if (fx->fds == NULL)
        return -1;
    for (; fx->n < n; fx->n++) {
        int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        if (fd < 0)
            return -1;
        fx->fds[fx->n] = fd;
        if (fd > fx->max_fd)
            fx->max_fd = fd;
    }
    fx->ready = rand() % n;
    uint64_t one = 1;
    if (write(fx->fds[fx->ready], &one, sizeof one) != sizeof one)
        return -1;
    return 0;
}

static void free_fixture(fixture_t *fx)
{
    for (int i = 0; i < fx->n; i++)
        close(fx->fds[i]);
    free(fx->fds);
}

static void print_header(void)
{
    struct utsname u;
    char model[512] = "unknown CPU";
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f != NULL) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "model name", 10) == 0) {
                char *colon = strchr(line, ':');
                snprintf(model, sizeof model, "%s", colon ? colon + 2 : line);
                model[strcspn(model, "\n")] = '\0';
                break;
            }
        fclose(f);
    }
    uname(&u);
    time_t t = time(NULL);
    char date[64];
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&t));
    printf("bench-selector: one wait with N descriptors watched, one ready\n");
    printf("machine:  %s, %s %s, %ld CPUs\n", model, u.sysname, u.release,
           sysconf(_SC_NPROCESSORS_ONLN));
    printf("compiler: gcc %s\n", __VERSION__);
    printf("date:     %s\n\n", date);
}

int main(int argc, char **argv)
{
    const char *csv_path = NULL;
    if (argc == 3 && strcmp(argv[1], "--csv") == 0)
        csv_path = argv[2];
    else if (argc != 1) {
        fprintf(stderr, "usage: bench-selector [--csv FILE]\n");
        return 2;
    }
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    FILE *csv = csv_path ? fopen(csv_path, "w") : NULL;
    if (csv_path && csv == NULL) {
        perror(csv_path);
        return 1;
    }
    if (csv)
        fprintf(csv, "n,backend,layer_ns,raw_ns,ratio\n");
    srand((unsigned)time(NULL));
    print_header();
    printf("%7s  %-7s %14s %14s %8s\n", "N", "backend", "selector (ns)",
           "bare call (ns)", "ratio");

    static const int sizes[] = {10, 100, 1000, 10000};
    static const selector_backend_t backends[] = {SELECTOR_SELECT,
                                                  SELECTOR_POLL, SELECTOR_EPOLL};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        fixture_t fx;
        if (make_fixture(&fx, sizes[s]) < 0) {
            printf("%7d  cannot open %d eventfds: %s\n", sizes[s], sizes[s],
                   strerror(errno));
            free_fixture(&fx);
            continue;
        }
        for (size_t b = 0; b < 3; b++) {
            const char *name = selector_backend_name(backends[b]);
            double layer = measure_layer(&fx, backends[b]);
            double raw = measure_raw(&fx, backends[b]);
            if (layer < 0 || raw < 0) {
                printf("%7d  %-7s %14s %14s %8s\n", sizes[s], name,
                       "n/a", "n/a", "(fd >= FD_SETSIZE)");
                continue;
            }
            printf("%7d  %-7s %14.0f %14.0f %7.2fx\n", sizes[s], name, layer,
                   raw, layer / raw);
            if (csv)
                fprintf(csv, "%d,%s,%.1f,%.1f,%.3f\n", sizes[s], name, layer,
                        raw, layer / raw);
        }
        free_fixture(&fx);
    }
    if (csv) {
        fclose(csv);
        printf("\nCSV: %s\n", csv_path);
    }
    return 0;
}
