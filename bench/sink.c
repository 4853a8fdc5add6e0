// The loopback ceiling for scripts/bench: an HTTP/1.1 keep-alive server that reads each
// request body (Content-Length only), throws it away and answers 204. One epoll thread per
// core, SO_REUSEPORT, nothing else: whatever a real server does costs more than this.
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
static const char reply[] = "HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n";

struct connection {
    int fd;
    size_t header_used;      // bytes of an incomplete header block kept in header[]
    long long body_left;     // body bytes still to discard
    char header[HEADER_MAX];
};

static int port;

static long long content_length(const char *headers, size_t length) {
    const char *p = headers, *end = headers + length;
    while (p < end) {
        const char *line_end = memchr(p, '\n', end - p);
        if (!line_end) break;
        if (line_end - p > 15 && strncasecmp(p, "content-length:", 15) == 0) return atoll(p + 15);
        p = line_end + 1;
    }
    return 0;
}

// Consumes data: discards body bytes, parses header blocks, answers each request.
static int consume(struct connection *c, char *data, size_t length) {
    while (length > 0) {
        if (c->body_left > 0) {
            size_t take = (size_t)c->body_left < length ? (size_t)c->body_left : length;
            c->body_left -= take;
            data += take;
            length -= take;
            if (c->body_left == 0 && write(c->fd, reply, sizeof reply - 1) < 0) return -1;
            continue;
        }
        size_t room = HEADER_MAX - c->header_used;
        size_t copy = length < room ? length : room;
        memcpy(c->header + c->header_used, data, copy);
        char *end = memmem(c->header, c->header_used + copy, "\r\n\r\n", 4);
        if (!end) {
            if (copy == room) return -1;
            c->header_used += copy;
            return 0;
        }
        size_t header_length = (size_t)(end - c->header) + 4;
        size_t used_from_data = header_length - c->header_used;
        c->body_left = content_length(c->header, header_length);
        c->header_used = 0;
        data += used_from_data;
        length -= used_from_data;
        if (c->body_left == 0 && write(c->fd, reply, sizeof reply - 1) < 0) return -1;
    }
    return 0;
}

static void *serve(void *unused) {
    (void)unused;
    int listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(listener, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    if (bind(listener, (struct sockaddr *)&address, sizeof address) || listen(listener, 512)) { perror("listen"); exit(1); }
    int poller = epoll_create1(0);
    struct epoll_event event = { .events = EPOLLIN, .data.ptr = NULL };
    epoll_ctl(poller, EPOLL_CTL_ADD, listener, &event);
    char *buffer = malloc(BUFFER);
    struct epoll_event events[64];
    for (;;) {
        int ready = epoll_wait(poller, events, 64, -1);
        for (int i = 0; i < ready; i++) {
            struct connection *c = events[i].data.ptr;
            if (!c) {
                int fd;
                while ((fd = accept4(listener, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
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
                if (n > 0 && consume(c, buffer, (size_t)n) == 0) continue;
                if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                close(c->fd);
                free(c);
                break;
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: sink PORT\n"); return 2; }
    port = atoi(argv[1]);
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    for (long i = 1; i < cores; i++) {
        pthread_t thread;
        pthread_create(&thread, NULL, serve, NULL);
    }
    serve(NULL);
}
