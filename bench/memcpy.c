// The copy ceiling for scripts/bench: times memcpy on one core for about half a second per
// size and prints "BYTES MB/s" lines. 5 MiB buffers (an APPEND chunk; source and destination
// fit in this machine's caches) and 256 MiB buffers (main memory). Any server that copies each
// uploaded byte once out of the kernel and once more into storage is bounded by these.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double bandwidth(size_t size) {
    char *from = malloc(size), *to = malloc(size);
    if (!from || !to) return 0;
    memset(from, 7, size);
    memset(to, 1, size);
    memcpy(to, from, size);  // fault every page in before timing
    double start = now(), elapsed = 0;
    size_t copied = 0;
    while (elapsed < 0.5) {
        memcpy(to, from, size);
        from[copied % size] ^= to[(copied + 1) % size];  // keep every copy observable
        copied += size;
        elapsed = now() - start;
    }
    volatile char sink = to[size / 2];
    (void)sink;
    free(from);
    free(to);
    return (double)copied / elapsed / 1e6;
}

int main(void) {
    size_t sizes[] = { 5u << 20, 256u << 20 };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        printf("%zu %.0f\n", sizes[i], bandwidth(sizes[i]));
    return 0;
}
