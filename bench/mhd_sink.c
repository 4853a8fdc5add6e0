// libmicrohttpd's own ceiling for scripts/bench: the same daemon settings as the mock
// (epoll internal thread, a pool of 2 threads, turbo, 256 KiB per-connection memory, 60 s
// timeout, 127.0.0.1 only), an access handler that drops every upload piece and answers 204.
// The gap between `sink` and `mhd` is libmicrohttpd; the gap between `mhd` and `mock` is the
// mock's own work (parsing multipart, validating, storing the segment).
//
// Usage: mhd_sink READY_FILE   (listens on a free port; the base URL goes to READY_FILE.)
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct MHD_Response *empty;
static int marker;

static enum MHD_Result handle(void *cls, struct MHD_Connection *connection, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **request) {
    (void)cls; (void)url; (void)method; (void)version; (void)upload_data;
    if (*request == NULL) {  // first call: headers only
        *request = &marker;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {  // a piece of the body: drop it
        *upload_data_size = 0;
        return MHD_YES;
    }
    return MHD_queue_response(connection, 204, empty);
}

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: mhd_sink READY_FILE\n"); return 2; }
    struct sockaddr_in address = { .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    empty = MHD_create_response_from_buffer(0, "", MHD_RESPMEM_PERSISTENT);
    struct MHD_Daemon *daemon = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_TURBO, 0, NULL, NULL, handle, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)2,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(256 * 1024),
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)60,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&address,
        MHD_OPTION_END);
    if (!daemon) { fprintf(stderr, "mhd_sink: cannot start\n"); return 1; }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(daemon, MHD_DAEMON_INFO_BIND_PORT);
    char temporary[4096];
    snprintf(temporary, sizeof temporary, "%s.tmp", argv[1]);
    FILE *ready = fopen(temporary, "w");
    if (!ready) { perror("mhd_sink: ready file"); return 1; }
    fprintf(ready, "http://127.0.0.1:%u\n", (unsigned)info->port);
    if (fclose(ready) || rename(temporary, argv[1])) { perror("mhd_sink: ready file"); return 1; }
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int signal_number;
    sigwait(&stop, &signal_number);
    MHD_stop_daemon(daemon);
    MHD_destroy_response(empty);
    return 0;
}
