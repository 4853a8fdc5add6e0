#include "compact_tables.h"

uint64_t cvector_compact_shuffles[256];
uint8_t cvector_compact_counts[256];

__attribute__((constructor))
static void build_compact_tables(void) {
    for (unsigned mask = 0; mask < 256; mask++) {
        uint64_t shuffle = 0x8080808080808080ULL;
        unsigned kept = 0;
        for (unsigned lane = 0; lane < 8; lane++) {
            if (!(mask & (1u << lane))) continue;
            const unsigned shift = 8 * kept++;
            shuffle = (shuffle & ~(0xFFULL << shift)) | ((uint64_t)lane << shift);
        }
        cvector_compact_shuffles[mask] = shuffle;
        cvector_compact_counts[mask] = (uint8_t)kept;
    }
}
