// Percent-decoding of urlencoded text 16 or 32 bytes at a time, without a branch per escape
// (issue 20, phase 3): base64 sent by a form encoder has an escape (`%2B`, `%2F`, `%3D`) about
// every 21 bytes, and a scalar loop mispredicts on nearly every one. Per block: compares find
// `%` and `+`, the two digits after every byte are read as hex at once (loads at +1 and +2),
// each `%` lane takes its escape's byte, `+` becomes a space, and the two digit lanes of every
// escape are squeezed out with a byte shuffle chosen by table, eight lanes at a time. Only
// blocks whose escapes are all well formed are decoded; URLEncodedFormParser does the rest.
#include "CBase64SIMD.h"

#if defined(__x86_64__)
#include <immintrin.h>

// For each mask of eight lanes to keep: the shuffle that moves them to the front, and how many
// there are. Built once, before the first use (cbase64_best_kernel runs first).
static uint64_t pack_shuffles[256];
static uint8_t pack_counts[256];

__attribute__((constructor))
static void build_pack_tables(void) {
    for (int mask = 0; mask < 256; mask++) {
        uint64_t shuffle = 0;
        int count = 0;
        for (int lane = 0; lane < 8; lane++) {
            if (mask & (1 << lane)) shuffle |= (uint64_t)lane << (8 * count++);
        }
        pack_shuffles[mask] = shuffle;
        pack_counts[mask] = (uint8_t)count;
    }
}

// The value of hex digits (garbage for other bytes) and a lane mask of those that are digits.
__attribute__((target("ssse3")))
static inline __m128i hex_values(__m128i text, __m128i *valid) {
    const __m128i digit = _mm_sub_epi8(text, _mm_set1_epi8('0'));
    const __m128i letter = _mm_sub_epi8(_mm_or_si128(text, _mm_set1_epi8(0x20)), _mm_set1_epi8('a'));
    *valid = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(digit, _mm_set1_epi8(9)), digit),
                          _mm_cmpeq_epi8(_mm_min_epu8(letter, _mm_set1_epi8(5)), letter));
    // Digits keep their low nibble; letters (bit 6 set) add 9 to theirs.
    const __m128i letters = _mm_cmpeq_epi8(_mm_and_si128(text, _mm_set1_epi8(0x40)), _mm_set1_epi8(0x40));
    return _mm_add_epi8(_mm_and_si128(text, _mm_set1_epi8(0x0F)), _mm_and_si128(letters, _mm_set1_epi8(9)));
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
    const __m128i shuffle = _mm_set_epi64x((long long)(pack_shuffles[high_keep] + 0x0808080808080808ULL),
                                           (long long)pack_shuffles[low_keep]);
    const __m128i packed = _mm_shuffle_epi8(bytes, shuffle);
    _mm_storel_epi64((__m128i *)output, packed);
    _mm_storel_epi64((__m128i *)(output + pack_counts[low_keep]), _mm_unpackhi_epi64(packed, packed));
    // A '%' in lane 14 or 15 has digits in the next block (both cannot be: the digit after
    // lane 14 would be a '%', refused above).
    *consumed = 16 + (percents >> 14 & 1) + (percents >> 15 & 1) * 2;
    return pack_counts[low_keep] + pack_counts[high_keep];
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
__attribute__((target("avx2")))
static size_t percent_avx2(const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    size_t read = 0, stored = 0;
    while (read + 34 <= count) {
        const uint8_t *block = input + read;
        const __m256i text = _mm256_loadu_si256((const __m256i *)block);
        const __m256i high_text = _mm256_loadu_si256((const __m256i *)(block + 1));
        const __m256i low_text = _mm256_loadu_si256((const __m256i *)(block + 2));
        const __m256i percent = _mm256_cmpeq_epi8(text, _mm256_set1_epi8('%'));
        const __m256i plus = _mm256_cmpeq_epi8(text, _mm256_set1_epi8('+'));
        #define HEX_VALID(t) _mm256_or_si256( \
            _mm256_cmpeq_epi8(_mm256_min_epu8(_mm256_sub_epi8(t, _mm256_set1_epi8('0')), _mm256_set1_epi8(9)), \
                              _mm256_sub_epi8(t, _mm256_set1_epi8('0'))), \
            _mm256_cmpeq_epi8(_mm256_min_epu8(_mm256_sub_epi8(_mm256_or_si256(t, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a')), \
                                              _mm256_set1_epi8(5)), \
                              _mm256_sub_epi8(_mm256_or_si256(t, _mm256_set1_epi8(0x20)), _mm256_set1_epi8('a'))))
        #define HEX_VALUE(t) _mm256_add_epi8(_mm256_and_si256(t, _mm256_set1_epi8(0x0F)), \
            _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(t, _mm256_set1_epi8(0x40)), _mm256_set1_epi8(0x40)), \
                             _mm256_set1_epi8(9)))
        const __m256i valid = _mm256_and_si256(HEX_VALID(high_text), HEX_VALID(low_text));
        if (!_mm256_testc_si256(valid, percent)) break;  // some '%' lacks two hex digits
        const __m256i escaped = _mm256_or_si256(
            _mm256_and_si256(_mm256_slli_epi16(HEX_VALUE(high_text), 4), _mm256_set1_epi8((char)0xF0)), HEX_VALUE(low_text));
        #undef HEX_VALID
        #undef HEX_VALUE
        const __m256i plain = _mm256_xor_si256(text, _mm256_and_si256(plus, _mm256_set1_epi8(0x0B)));
        const __m256i bytes = _mm256_blendv_epi8(plain, escaped, percent);
        const uint32_t percents = (uint32_t)_mm256_movemask_epi8(percent);
        const uint32_t keep = ~(percents << 1 | percents << 2);
        const unsigned keeps[4] = {keep & 0xFF, keep >> 8 & 0xFF, keep >> 16 & 0xFF, keep >> 24};
        // The shuffle works within each 16-byte half.
        const __m256i shuffle = _mm256_setr_epi64x(
            (long long)pack_shuffles[keeps[0]], (long long)(pack_shuffles[keeps[1]] + 0x0808080808080808ULL),
            (long long)pack_shuffles[keeps[2]], (long long)(pack_shuffles[keeps[3]] + 0x0808080808080808ULL));
        const __m256i packed = _mm256_shuffle_epi8(bytes, shuffle);
        const __m128i first = _mm256_castsi256_si128(packed), second = _mm256_extracti128_si256(packed, 1);
        uint8_t *target = output + stored;
        _mm_storel_epi64((__m128i *)target, first);
        target += pack_counts[keeps[0]];
        _mm_storel_epi64((__m128i *)target, _mm_unpackhi_epi64(first, first));
        target += pack_counts[keeps[1]];
        _mm_storel_epi64((__m128i *)target, second);
        target += pack_counts[keeps[2]];
        _mm_storel_epi64((__m128i *)target, _mm_unpackhi_epi64(second, second));
        target += pack_counts[keeps[3]];
        stored = (size_t)(target - output);
        read += 32 + (percents >> 30 & 1) + (percents >> 31 & 1) * 2;
    }
    // The rest, or the good half of the block that stopped the loop.
    size_t rest_written;
    const size_t rest = percent_ssse3(input + read, count - read, output + stored, &rest_written);
    *written = stored + rest_written;
    return read + rest;
}

size_t cpercent_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t *written) {
    switch (kernel) {
    case CBASE64_AVX2: return percent_avx2(input, count, output, written);
    case CBASE64_SSSE3: return percent_ssse3(input, count, output, written);
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
