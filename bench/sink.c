// The loopback ceiling for scripts/bench: a plain-socket HTTP/1.1 keep-alive server that reads
// each request body (Content-Length framing only; wrk sends no chunked bodies and does not
// pipeline), throws it away and answers 204. One listening socket shared by one epoll thread
// per core (EPOLLEXCLUSIVE wakes one of them per new connection). No HTTP library, no
// allocation per request: whatever a real server does costs at least this.
//
// Usage: sink PORT READY_FILE   (PORT 0 picks a free port; the base URL is written to
// READY_FILE, atomically, once listening.)
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

enum { BUFFER = 256 * 1024, HEADER_MAX = 16 * 1024 };
// 204 carries no Content-Length (RFC 9110 15.3.5); the client knows there is no body.
static const char reply[] = "HTTP/1.1 204 No Content\r\nServer: sink\r\n\r\n";

struct connection {
    int fd;
    size_t header_used;      // bytes of an incomplete header block kept in header[]
    long long body_left;     // body bytes still to discard
    char header[HEADER_MAX];
};

static int listener;

static long long content_length(const char *headers, size_t length) {
    const char *p = headers, *end = headers + length;
    while (p < end) {
        const char *line_end = memchr(p, '\n', (size_t)(end - p));
        if (!line_end) break;
        if (line_end - p > 15 && strncasecmp(p, "content-length:", 15) == 0) return atoll(p + 15);
        p = line_end + 1;
    }
    return 0;
}

static int answer(struct connection *c) {
    // One small reply per request and no pipelining: the socket buffer always has room.
    return write(c->fd, reply, sizeof reply - 1) == (ssize_t)(sizeof reply - 1) ? 0 : -1;
}

// Consumes bytes read from the socket: discards body bytes, parses header blocks, answers
// each request once its body is complete. Returns -1 to close the connection.
static int consume(struct connection *c, const char *data, size_t length) {
    while (length > 0) {
        if (c->body_left > 0) {
            size_t take = (size_t)c->body_left < length ? (size_t)c->body_left : length;
            c->body_left -= (long long)take;
            data += take;
            length -= take;
            if (c->body_left == 0 && answer(c) < 0) return -1;
            continue;
        }
        size_t room = HEADER_MAX - c->header_used;
        size_t copy = length < room ? length : room;
        memcpy(c->header + c->header_used, data, copy);
        // Search from a little before the new bytes: the blank line may straddle two reads.
        size_t from = c->header_used > 3 ? c->header_used - 3 : 0;
        char *end = memmem(c->header + from, c->header_used + copy - from, "\r\n\r\n", 4);
        if (!end) {
            if (copy == room) return -1;  // header block too large
            c->header_used += copy;
            return 0;
        }
        size_t header_length = (size_t)(end - c->header) + 4;
        size_t used_from_data = header_length - c->header_used;
        c->body_left = content_length(c->header, header_length);
        if (c->body_left < 0) return -1;
        c->header_used = 0;
        data += used_from_data;
        length -= used_from_data;
        if (c->body_left == 0 && answer(c) < 0) return -1;
    }
    return 0;
}

static void *serve(void *unused) {
    (void)unused;
    int one = 1;
    int poller = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = NULL };
    if (epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event)) { perror("epoll_ctl"); exit(1); }
    char *buffer = malloc(BUFFER);
    struct epoll_event events[64];
    for (;;) {
        int ready = epoll_wait(poller, events, 64, -1);
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
                    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    struct connection *fresh = calloc(1, sizeof *fresh);
                    fresh->fd = fd;
                    struct epoll_event watch = { .events = EPOLLIN, .data.ptr = fresh };
                    epoll_ctl(poller, EPOLL_CTL_ADD, fd, &watch);
                }
                continue;
            }
            for (;;) {
                ssize_t n = read(c->fd, buffer, BUFFER);
                if (n > 0) {
                    if (consume(c, buffer, (size_t)n) == 0) continue;
                } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
                    break;
                } else if (n < 0 && errno == EINTR) {
                    continue;
                }
                close(c->fd);  // EOF, error or a request we do not understand
                free(c);
                break;
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: sink PORT READY_FILE\n"); return 2; }
    int one = 1;
    listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1])),
                                   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t length = sizeof address;
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 512)
        || getsockname(listener, (struct sockaddr *)&address, &length)) {
        perror("sink: listen");
        return 1;
    }
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 1; i < cores; i++) {
        pthread_t thread;
        pthread_create(&thread, NULL, serve, NULL);
    }
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", argv[2]);
    FILE *ready = fopen(temporary, "w");
    if (!ready) { perror("sink: ready file"); return 1; }
    fprintf(ready, "http://127.0.0.1:%d\n", ntohs(address.sin_port));
    if (fclose(ready) || rename(temporary, argv[2])) { perror("sink: ready file"); return 1; }
    serve(NULL);
}
