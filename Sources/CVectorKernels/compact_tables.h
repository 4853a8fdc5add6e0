// The byte-compaction table the percent-decoding and JSON slash kernels share (private to
// CVectorKernels).
#ifndef CVECTOR_COMPACT_TABLES_H
#define CVECTOR_COMPACT_TABLES_H

#include <stdint.h>

// For each mask of eight lanes to keep: the `pshufb` indices that move those lanes to the front,
// in order, then 0x80 (a zero byte) for the rest, as a little-endian word; add
// 0x0808080808080808 for the upper eight lanes of a 16-byte lane. And how many lanes the mask
// keeps. Built when the program is loaded.
extern uint64_t cvector_compact_shuffles[256];
extern uint8_t cvector_compact_counts[256];

#endif
