// The JSON reader's two passes over the text of a `media` string (docs/performance.md, Issue 20,
// phase 3): finding the first byte that needs care 64 bytes per step, and copying text whose only
// escapes are `\/` (PHP's json_encode writes every '/' so) while dropping their backslashes —
// without a branch per escape: AVX-512 VBMI2 compresses 64 bytes by the mask of their
// backslashes, AVX2 and SSSE3 shuffle each 8 bytes by a table entry chosen by it. Everything else (other escapes, the closing quote, errors, a piece's
// last bytes) stays with JSONMediaBodyReader.
#include "CVectorKernels.h"
#include "compact_tables.h"

#if defined(__x86_64__)
#include <immintrin.h>

// A block's bytes but its backslashes are moved to the front of each 16-byte lane by
// compact_tables.h's shuffles, chosen by the mask of the bytes kept; the upper eight of a lane
// index from 8.
#define SHUFFLE(keep) ((long long)cvector_compact_shuffles[(keep) & 0xFF])
#define UPPER_EIGHT 0x0808080808080808LL

// Lanes of bytes below 0x20 or from 0x80 (one signed compare), '"' or '\'.
#define NEEDS_CARE_128(text) _mm_or_si128(_mm_cmpgt_epi8(_mm_set1_epi8(0x20), text), \
    _mm_or_si128(_mm_cmpeq_epi8(text, _mm_set1_epi8('"')), _mm_cmpeq_epi8(text, _mm_set1_epi8('\\'))))
#define NEEDS_CARE_256(text) _mm256_or_si256(_mm256_cmpgt_epi8(_mm256_set1_epi8(0x20), text), \
    _mm256_or_si256(_mm256_cmpeq_epi8(text, _mm256_set1_epi8('"')), _mm256_cmpeq_epi8(text, _mm256_set1_epi8('\\'))))

__attribute__((target("avx2")))
static size_t string_run_avx2(const uint8_t *text, size_t count) {
    size_t index = 0;
    for (; index + 64 <= count; index += 64) {
        const __m256i low = _mm256_loadu_si256((const __m256i *)(text + index));
        const __m256i high = _mm256_loadu_si256((const __m256i *)(text + index + 32));
        const __m256i care = _mm256_or_si256(NEEDS_CARE_256(low), NEEDS_CARE_256(high));
        if (!_mm256_testz_si256(care, care)) break;
    }
    for (; index + 32 <= count; index += 32) {
        const __m256i block = _mm256_loadu_si256((const __m256i *)(text + index));
        const uint32_t marks = (uint32_t)_mm256_movemask_epi8(NEEDS_CARE_256(block));
        if (marks != 0) return index + (size_t)__builtin_ctz(marks);
    }
    for (; index + 16 <= count; index += 16) {
        const __m128i block = _mm_loadu_si128((const __m128i *)(text + index));
        const uint32_t marks = (uint32_t)_mm_movemask_epi8(NEEDS_CARE_128(block));
        if (marks != 0) return index + (size_t)__builtin_ctz(marks);
    }
    return index;
}

size_t cjson_string_run(int kernel, const uint8_t *text, size_t count) {
    return kernel >= CVECTOR_AVX2 ? string_run_avx2(text, count) : 0;
}

// A block is taken whole when its only bytes that need care are backslashes each followed by
// '/' (read one byte past the block, so the block is taken only when that byte is there).
__attribute__((target("ssse3")))
static size_t unescape_slashes_ssse3(const uint8_t *text, size_t count, uint8_t *output, size_t room, size_t *written) {
    const __m128i backslash = _mm_set1_epi8('\\'), slash = _mm_set1_epi8('/');
    size_t read = 0, stored = 0;
    while (read + 17 <= count && stored + 16 <= room) {
        const __m128i block = _mm_loadu_si128((const __m128i *)(text + read));
        const __m128i next = _mm_loadu_si128((const __m128i *)(text + read + 1));
        const __m128i escapes = _mm_cmpeq_epi8(block, backslash);
        const __m128i other = _mm_andnot_si128(_mm_and_si128(escapes, _mm_cmpeq_epi8(next, slash)), NEEDS_CARE_128(block));
        if (_mm_movemask_epi8(other) != 0) break;
        const unsigned keep = ~(unsigned)_mm_movemask_epi8(escapes);
        const __m128i shuffle = _mm_add_epi8(_mm_set_epi64x(SHUFFLE(keep >> 8), SHUFFLE(keep)), _mm_set_epi64x(UPPER_EIGHT, 0));
        const __m128i kept = _mm_shuffle_epi8(block, shuffle);
        const size_t low = cvector_compact_counts[keep & 0xFF];
        _mm_storeu_si128((__m128i *)(output + stored), kept);
        _mm_storeh_pd((double *)(output + stored + low), _mm_castsi128_pd(kept));
        stored += low + cvector_compact_counts[(keep >> 8) & 0xFF];
        read += 16;
    }
    *written = stored;
    return read;
}

__attribute__((target("avx2,popcnt")))
static size_t unescape_slashes_avx2(const uint8_t *text, size_t count, uint8_t *output, size_t room, size_t *written) {
    const __m256i backslash = _mm256_set1_epi8('\\'), slash = _mm256_set1_epi8('/');
    size_t read = 0, stored = 0;
    while (read + 33 <= count && stored + 32 <= room) {
        const __m256i block = _mm256_loadu_si256((const __m256i *)(text + read));
        const __m256i next = _mm256_loadu_si256((const __m256i *)(text + read + 1));
        const __m256i escapes = _mm256_cmpeq_epi8(block, backslash);
        const __m256i other = _mm256_andnot_si256(_mm256_and_si256(escapes, _mm256_cmpeq_epi8(next, slash)), NEEDS_CARE_256(block));
        if (!_mm256_testz_si256(other, other)) break;
        const uint32_t keep = ~(uint32_t)_mm256_movemask_epi8(escapes);
        const __m256i shuffle = _mm256_add_epi8(
            _mm256_setr_epi64x(SHUFFLE(keep), SHUFFLE(keep >> 8), SHUFFLE(keep >> 16), SHUFFLE(keep >> 24)),
            _mm256_setr_epi64x(0, UPPER_EIGHT, 0, UPPER_EIGHT));
        const __m256i kept = _mm256_shuffle_epi8(block, shuffle);
        const __m128i first = _mm256_castsi256_si128(kept), second = _mm256_extracti128_si256(kept, 1);
        // Each lane's kept bytes: its first 8's at the start, its second 8's after them.
        const size_t firstLow = cvector_compact_counts[keep & 0xFF];
        const size_t firstLane = firstLow + cvector_compact_counts[(keep >> 8) & 0xFF];
        const size_t secondLow = cvector_compact_counts[(keep >> 16) & 0xFF];
        _mm_storeu_si128((__m128i *)(output + stored), first);
        _mm_storeh_pd((double *)(output + stored + firstLow), _mm_castsi128_pd(first));
        _mm_storeu_si128((__m128i *)(output + stored + firstLane), second);
        _mm_storeh_pd((double *)(output + stored + firstLane + secondLow), _mm_castsi128_pd(second));
        stored += (size_t)__builtin_popcount(keep);
        read += 32;
    }
    // The rest, or the part of the block that stopped the loop, 16 bytes at a time.
    size_t rest = 0;
    read += unescape_slashes_ssse3(text + read, count - read, output + stored, room - stored, &rest);
    *written = stored + rest;
    return read;
}

// With AVX-512 VBMI2, `vpcompressb` drops the backslashes of 64 bytes at once (into a register:
// its form that stores to memory is slow on AMD's Zen 4).
__attribute__((target("avx2,avx512f,avx512bw,avx512vbmi2,popcnt")))
static size_t unescape_slashes_avx512(const uint8_t *text, size_t count, uint8_t *output, size_t room, size_t *written) {
    const __m512i backslash = _mm512_set1_epi8('\\'), slash = _mm512_set1_epi8('/');
    const __m512i quote = _mm512_set1_epi8('"'), space = _mm512_set1_epi8(0x20);
    size_t read = 0, stored = 0;
    while (read + 65 <= count && stored + 64 <= room) {
        const __m512i block = _mm512_loadu_si512(text + read);
        const __mmask64 escapes = _mm512_cmpeq_epi8_mask(block, backslash);
        const __mmask64 slashes = _mm512_cmpeq_epi8_mask(_mm512_loadu_si512(text + read + 1), slash);
        const __mmask64 care = _mm512_cmplt_epi8_mask(block, space) | _mm512_cmpeq_epi8_mask(block, quote) | escapes;
        if (care & ~(escapes & slashes)) break;
        _mm512_storeu_si512(output + stored, _mm512_maskz_compress_epi8(~escapes, block));
        stored += 64 - (size_t)__builtin_popcountll(escapes);
        read += 64;
    }
    size_t rest = 0;
    read += unescape_slashes_avx2(text + read, count - read, output + stored, room - stored, &rest);
    *written = stored + rest;
    return read;
}

size_t cjson_unescape_slashes(int kernel, const uint8_t *text, size_t count, uint8_t *output, size_t room, size_t *written) {
    switch (kernel) {
    case CVECTOR_AVX512_VBMI2: return unescape_slashes_avx512(text, count, output, room, written);
    case CVECTOR_AVX2: return unescape_slashes_avx2(text, count, output, room, written);
    case CVECTOR_SSSE3: return unescape_slashes_ssse3(text, count, output, room, written);
    default: *written = 0; return 0;
    }
}

#else

size_t cjson_string_run(int kernel, const uint8_t *text, size_t count) {
    (void)kernel; (void)text; (void)count;
    return 0;
}

size_t cjson_unescape_slashes(int kernel, const uint8_t *text, size_t count, uint8_t *output, size_t room, size_t *written) {
    (void)kernel; (void)text; (void)count; (void)output; (void)room;
    *written = 0;
    return 0;
}

#endif
