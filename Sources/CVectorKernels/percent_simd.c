// Percent-decoding of urlencoded text 16 or 32 bytes at a time, without a branch per escape
// (issue 20, phase 3): base64 sent by a form encoder has an escape (`%2B`, `%2F`, `%3D`) about
// every 21 bytes, and a scalar loop mispredicts on nearly every one. Per block: compares find
// `%` and `+`, the two digits after every byte are read as hex at once (loads at +1 and +2),
// each `%` lane takes its escape's byte, `+` becomes a space, and the two digit lanes of every
// escape are squeezed out with a byte shuffle chosen by table, eight lanes at a time. Only
// blocks whose escapes are all well formed are decoded; URLEncodedFormParser does the rest.
// A loop that copies the run before each escape and decodes it (a bit scan per escape) runs
// fewer instructions but half as fast: its steps depend on each other and it branches on
// whether a block holds an escape (docs/performance.md, Issue 20, phase 3).
#include "CVectorKernels.h"
#include "compact_tables.h"

#if defined(__x86_64__)
#include <immintrin.h>

// The hex digits a vector of text holds: each lane's value (garbage where it is no digit) and
// a mask of the lanes that are digits, `0-9`, `a-f` or `A-F`. Digits keep their low nibble,
// letters (bit 6 set) add 9; a lane is a digit when that value's digit, in the text's case,
// is the text itself.
#define HEX_DIGITS "0123456789abcdef"

__attribute__((target("ssse3")))
static inline __m128i hex_values(__m128i text, __m128i *valid) {
    const __m128i letters = _mm_cmpeq_epi8(_mm_and_si128(text, _mm_set1_epi8(0x40)), _mm_set1_epi8(0x40));
    const __m128i values = _mm_add_epi8(_mm_and_si128(text, _mm_set1_epi8(0x0F)), _mm_and_si128(letters, _mm_set1_epi8(9)));
    const __m128i digits = _mm_loadu_si128((const __m128i *)HEX_DIGITS);
    *valid = _mm_cmpeq_epi8(_mm_shuffle_epi8(digits, values), _mm_or_si128(text, _mm_and_si128(letters, _mm_set1_epi8(0x20))));
    return values;
}

__attribute__((target("avx2")))
static inline __m256i hex_values32(__m256i text, __m256i *valid) {
    const __m256i letters = _mm256_cmpeq_epi8(_mm256_and_si256(text, _mm256_set1_epi8(0x40)), _mm256_set1_epi8(0x40));
    const __m256i values = _mm256_add_epi8(_mm256_and_si256(text, _mm256_set1_epi8(0x0F)),
                                           _mm256_and_si256(letters, _mm256_set1_epi8(9)));
    const __m256i digits = _mm256_broadcastsi128_si256(_mm_loadu_si128((const __m128i *)HEX_DIGITS));
    *valid = _mm256_cmpeq_epi8(_mm256_shuffle_epi8(digits, values),
                               _mm256_or_si256(text, _mm256_and_si256(letters, _mm256_set1_epi8(0x20))));
    return values;
}

// Decodes the 16 bytes at `input` (reading two more) into `output` (storing 16, of which the
// returned count are decoded) and sets `consumed` to 16 plus the digits of an escape that
// starts in the last two lanes; returns -1 if an escape in the block is malformed.
__attribute__((target("ssse3")))
static inline int decode_block16(const uint8_t *input, uint8_t *output, size_t *consumed) {
    const __m128i text = _mm_loadu_si128((const __m128i *)input);
    __m128i high_valid, low_valid;
    const __m128i high = hex_values(_mm_loadu_si128((const __m128i *)(input + 1)), &high_valid);
    const __m128i low = hex_values(_mm_loadu_si128((const __m128i *)(input + 2)), &low_valid);
    const __m128i percent = _mm_cmpeq_epi8(text, _mm_set1_epi8('%'));
    const __m128i plus = _mm_cmpeq_epi8(text, _mm_set1_epi8('+'));
    const unsigned percents = (unsigned)_mm_movemask_epi8(percent);
    const unsigned bad = (unsigned)_mm_movemask_epi8(_mm_andnot_si128(_mm_and_si128(high_valid, low_valid), percent));
    if (bad) return -1;
    const __m128i escaped = _mm_or_si128(_mm_and_si128(_mm_slli_epi16(high, 4), _mm_set1_epi8((char)0xF0)), low);
    // '+' ^ ' ' is 0x0B.
    const __m128i plain = _mm_xor_si128(text, _mm_and_si128(plus, _mm_set1_epi8(0x0B)));
    const __m128i bytes = _mm_or_si128(_mm_and_si128(percent, escaped), _mm_andnot_si128(percent, plain));
    const unsigned keep = ~(percents << 1 | percents << 2) & 0xFFFF;
    const unsigned low_keep = keep & 0xFF, high_keep = keep >> 8;
    const __m128i shuffle = _mm_set_epi64x((long long)(cvector_compact_shuffles[high_keep] + 0x0808080808080808ULL),
                                           (long long)cvector_compact_shuffles[low_keep]);
    const __m128i packed = _mm_shuffle_epi8(bytes, shuffle);
    _mm_storel_epi64((__m128i *)output, packed);
    _mm_storel_epi64((__m128i *)(output + cvector_compact_counts[low_keep]), _mm_unpackhi_epi64(packed, packed));
    // A '%' in lane 14 or 15 has digits in the next block (both cannot be: the digit after
    // lane 14 would be a '%', refused above).
    *consumed = 16 + (percents >> 14 & 1) + (percents >> 15 & 1) * 2;
    return cvector_compact_counts[low_keep] + cvector_compact_counts[high_keep];
}

__attribute__((target("ssse3")))
static size_t percent_ssse3(const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    size_t read = 0, stored = 0;
    while (read + 18 <= count) {
        size_t consumed;
        const int decoded = decode_block16(input + read, output + stored, &consumed);
        if (decoded < 0) break;
        read += consumed;
        stored += (size_t)decoded;
    }
    *written = stored;
    return read;
}

// Two blocks of 16 per step, the compares and hex digits done on 32 lanes at once.
// POPCNT came before AVX2 in every x86-64 CPU that has both.
__attribute__((target("avx2,popcnt")))
static size_t percent_avx2(const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    size_t read = 0, stored = 0;
    while (read + 34 <= count) {
        const uint8_t *block = input + read;
        const __m256i text = _mm256_loadu_si256((const __m256i *)block);
        const __m256i high_text = _mm256_loadu_si256((const __m256i *)(block + 1));
        const __m256i low_text = _mm256_loadu_si256((const __m256i *)(block + 2));
        const __m256i percent = _mm256_cmpeq_epi8(text, _mm256_set1_epi8('%'));
        const __m256i plus = _mm256_cmpeq_epi8(text, _mm256_set1_epi8('+'));
        __m256i high_valid, low_valid;
        const __m256i high = hex_values32(high_text, &high_valid), low = hex_values32(low_text, &low_valid);
        if (!_mm256_testc_si256(_mm256_and_si256(high_valid, low_valid), percent)) break;  // some '%' lacks two hex digits
        const __m256i escaped = _mm256_or_si256(_mm256_and_si256(_mm256_slli_epi16(high, 4), _mm256_set1_epi8((char)0xF0)), low);
        const __m256i plain = _mm256_xor_si256(text, _mm256_and_si256(plus, _mm256_set1_epi8(0x0B)));
        const __m256i bytes = _mm256_blendv_epi8(plain, escaped, percent);
        const uint32_t percents = (uint32_t)_mm256_movemask_epi8(percent);
        const uint32_t keep = ~(percents << 1 | percents << 2);
        // Each eight lanes' shuffle, gathered by the four bytes of `keep`; it works within each
        // 16-byte half, so the upper eight of each half index from 8.
        const __m256i shuffle = _mm256_add_epi64(
            _mm256_i64gather_epi64((const long long *)cvector_compact_shuffles, _mm256_cvtepu8_epi64(_mm_cvtsi32_si128((int)keep)), 8),
            _mm256_setr_epi64x(0, 0x0808080808080808LL, 0, 0x0808080808080808LL));
        const __m256i packed = _mm256_shuffle_epi8(bytes, shuffle);
        const __m128i first = _mm256_castsi256_si128(packed), second = _mm256_extracti128_si256(packed, 1);
        uint8_t *target = output + stored;
        _mm_storel_epi64((__m128i *)target, first);
        _mm_storeh_pd((double *)(target + __builtin_popcount(keep & 0xFF)), _mm_castsi128_pd(first));
        _mm_storel_epi64((__m128i *)(target + __builtin_popcount(keep & 0xFFFF)), second);
        _mm_storeh_pd((double *)(target + __builtin_popcount(keep & 0xFFFFFF)), _mm_castsi128_pd(second));
        stored += (size_t)__builtin_popcount(keep);
        read += 32 + (percents >> 30 & 1) + (percents >> 31 & 1) * 2;
    }
    // The rest, or the good half of the block that stopped the loop.
    size_t rest_written;
    const size_t rest = percent_ssse3(input + read, count - read, output + stored, &rest_written);
    *written = stored + rest_written;
    return read + rest;
}

#define AVX512_VBMI2 "avx2,avx512f,avx512bw,avx512vbmi2,popcnt"

__attribute__((target(AVX512_VBMI2)))
static inline __m512i hex_values64(__m512i text, __m512i digits, __mmask64 *valid) {
    const __mmask64 letters = _mm512_test_epi8_mask(text, _mm512_set1_epi8(0x40));
    const __m512i nibbles = _mm512_and_si512(text, _mm512_set1_epi8(0x0F));
    const __m512i values = _mm512_mask_add_epi8(nibbles, letters, nibbles, _mm512_set1_epi8(9));
    const __m512i spelled = _mm512_mask_blend_epi8(letters, text, _mm512_or_si512(text, _mm512_set1_epi8(0x20)));
    *valid = _mm512_cmpeq_epi8_mask(_mm512_shuffle_epi8(digits, values), spelled);
    return values;
}

// With AVX-512 VBMI2, 64 bytes a block: the masks are registers of their own, and
// `vpcompressb` squeezes out the digit lanes at once (into a register: the form that stores to
// memory is slow on AMD's Zen 4). The rest goes to the AVX2 loop.
__attribute__((target(AVX512_VBMI2)))
static size_t percent_avx512(const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    const __m512i digits = _mm512_broadcast_i32x4(_mm_loadu_si128((const __m128i *)HEX_DIGITS));
    size_t read = 0, stored = 0;
    while (read + 66 <= count) {
        const uint8_t *block = input + read;
        const __m512i text = _mm512_loadu_si512(block);
        const __mmask64 percent = _mm512_cmpeq_epi8_mask(text, _mm512_set1_epi8('%'));
        const __mmask64 plus = _mm512_cmpeq_epi8_mask(text, _mm512_set1_epi8('+'));
        __mmask64 high_valid, low_valid;
        const __m512i high = hex_values64(_mm512_loadu_si512(block + 1), digits, &high_valid);
        const __m512i low = hex_values64(_mm512_loadu_si512(block + 2), digits, &low_valid);
        if (percent & ~(high_valid & low_valid)) break;  // some '%' lacks two hex digits
        const __m512i escaped = _mm512_or_si512(_mm512_and_si512(_mm512_slli_epi16(high, 4), _mm512_set1_epi8((char)0xF0)), low);
        const __m512i plain = _mm512_mask_blend_epi8(plus, text, _mm512_set1_epi8(' '));
        const __m512i bytes = _mm512_mask_blend_epi8(percent, plain, escaped);
        const __mmask64 keep = ~(percent << 1 | percent << 2);
        _mm512_storeu_si512(output + stored, _mm512_maskz_compress_epi8(keep, bytes));
        stored += (size_t)__builtin_popcountll(keep);
        // A '%' in lane 62 or 63 has digits in the next block (as in the AVX2 loop).
        read += 64 + (size_t)(percent >> 62 & 1) + (size_t)(percent >> 63 & 1) * 2;
    }
    size_t rest_written;
    const size_t rest = percent_avx2(input + read, count - read, output + stored, &rest_written);
    *written = stored + rest_written;
    return read + rest;
}

size_t cpercent_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    switch (kernel) {
    case CVECTOR_AVX512_VBMI2: return percent_avx512(input, count, output, written);
    case CVECTOR_AVX2: return percent_avx2(input, count, output, written);
    case CVECTOR_SSSE3: return percent_ssse3(input, count, output, written);
    default: *written = 0; return 0;
    }
}

#else

size_t cpercent_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    (void)kernel; (void)input; (void)count; (void)output;
    *written = 0;
    return 0;
}

#endif
