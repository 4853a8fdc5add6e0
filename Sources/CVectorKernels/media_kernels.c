// The two passes of a multipart media part over its bytes (docs/performance.md, phase 3):
// finding the delimiter's candidates 64 positions at a time with AVX2, and copying the bytes
// into the stored segment with stores that bypass the cache.
#include "CVectorKernels.h"

#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>

__attribute__((target("avx2")))
size_t cmedia_first_candidate_block(const uint8_t *base, size_t start, size_t positions,
                                    uint8_t first, uint8_t last, size_t last_offset) {
    const __m256i firsts = _mm256_set1_epi8((char)first), lasts = _mm256_set1_epi8((char)last);
    for (; start + 64 <= positions; start += 64) {
        const uint8_t *heads = base + start, *tails = heads + last_offset;
        const __m256i low = _mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)heads), firsts),
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)tails), lasts));
        const __m256i high = _mm256_and_si256(
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(heads + 32)), firsts),
            _mm256_cmpeq_epi8(_mm256_loadu_si256((const __m256i *)(tails + 32)), lasts));
        const __m256i any = _mm256_or_si256(low, high);
        if (!_mm256_testz_si256(any, any)) break;
    }
    return start;
}

void cmedia_copy_streaming(uint8_t *destination, const uint8_t *source, size_t count) {
    // Stores of 16 bytes need a 16-byte aligned destination: the head goes through memcpy.
    size_t head = (16 - ((uintptr_t)destination & 15)) & 15;
    if (head > count) head = count;
    memcpy(destination, source, head);
    size_t done = head;
    for (; done + 64 <= count; done += 64) {
        const __m128i a = _mm_loadu_si128((const __m128i *)(source + done));
        const __m128i b = _mm_loadu_si128((const __m128i *)(source + done + 16));
        const __m128i c = _mm_loadu_si128((const __m128i *)(source + done + 32));
        const __m128i d = _mm_loadu_si128((const __m128i *)(source + done + 48));
        _mm_stream_si128((__m128i *)(destination + done), a);
        _mm_stream_si128((__m128i *)(destination + done + 16), b);
        _mm_stream_si128((__m128i *)(destination + done + 32), c);
        _mm_stream_si128((__m128i *)(destination + done + 48), d);
    }
    // Streamed stores are weakly ordered: fence them before any other thread may read the bytes.
    _mm_sfence();
    memcpy(destination + done, source + done, count - done);
}

#else

size_t cmedia_first_candidate_block(const uint8_t *base, size_t start, size_t positions,
                                    uint8_t first, uint8_t last, size_t last_offset) {
    (void)base; (void)positions; (void)first; (void)last; (void)last_offset;
    return start;
}

void cmedia_copy_streaming(uint8_t *destination, const uint8_t *source, size_t count) {
    memcpy(destination, source, count);
}

#endif
