// Copies 5 MiB buffers for about a second and prints the bandwidth in MB/s: the upper bound
// for any server that copies each uploaded byte once.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int main(void) {
    const size_t size = 5 * 1024 * 1024;
    char *from = malloc(size), *to = malloc(size);
    memset(from, 7, size);
    memset(to, 1, size);
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t copied = 0;
    double elapsed = 0;
    while (elapsed < 1.0) {
        memcpy(to, from, size);
        from[copied % size] ^= to[(copied + 1) % size];  // keep the copies observable
        copied += size;
        clock_gettime(CLOCK_MONOTONIC, &now);
        elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
    }
    printf("%.0f\n", (double)copied / elapsed / 1e6);
    return to[size / 2] == 42;
}
