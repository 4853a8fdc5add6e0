// Muła and Lemire's vector base64 decoding ("Faster Base64 Encoding and Decoding Using AVX2
// Instructions", 2018): nibble lookups with pshufb classify and translate 16 or 32 characters at
// once, pmaddubsw/pmaddwd pack their 6-bit values, and a shuffle drops every fourth byte.
// Only whole blocks of alphabet characters; Base64StreamDecoder does everything else.
#include "CVectorKernels.h"

#if defined(__x86_64__)
#include <immintrin.h>

// Per low and high nibble of a character, bits that are both set only for bytes outside the
// standard alphabet (including every byte from 0x80).
#define LOW_NIBBLE_CLASSES 0x15, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x11, 0x13, 0x1A, 0x1B, 0x1B, 0x1B, 0x1A
#define HIGH_NIBBLE_CLASSES 0x10, 0x10, 0x01, 0x02, 0x04, 0x08, 0x04, 0x08, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10
// What to add to a character to get its value, by high nibble ('/' has its own, index 1).
#define OFFSETS 0, 16, 19, 4, -65, -65, -71, -71, 0, 0, 0, 0, 0, 0, 0, 0
// The three bytes of each 32-bit group, most significant first, then four bytes of slack.
#define PACK 2, 1, 0, 6, 5, 4, 10, 9, 8, 14, 13, 12, -1, -1, -1, -1

__attribute__((target("ssse3")))
static size_t decode_ssse3(const uint8_t *input, size_t count, uint8_t *output, size_t room) {
    const __m128i low_classes = _mm_setr_epi8(LOW_NIBBLE_CLASSES);
    const __m128i high_classes = _mm_setr_epi8(HIGH_NIBBLE_CLASSES);
    const __m128i offsets = _mm_setr_epi8(OFFSETS);
    const __m128i pack = _mm_setr_epi8(PACK);
    const __m128i nibble = _mm_set1_epi8(0x0F);
    const __m128i slash = _mm_set1_epi8('/');
    size_t read = 0, written = 0;
    while (read + 16 <= count && written + 16 <= room) {
        const __m128i text = _mm_loadu_si128((const __m128i *)(input + read));
        const __m128i high = _mm_and_si128(_mm_srli_epi32(text, 4), nibble);
        const __m128i low = _mm_and_si128(text, nibble);
        const __m128i classes = _mm_and_si128(_mm_shuffle_epi8(low_classes, low), _mm_shuffle_epi8(high_classes, high));
        if (_mm_movemask_epi8(_mm_cmpeq_epi8(classes, _mm_setzero_si128())) != 0xFFFF) break;
        // '/' shares its high nibble with '+': one less selects its own offset.
        const __m128i offset = _mm_shuffle_epi8(offsets, _mm_add_epi8(high, _mm_cmpeq_epi8(text, slash)));
        const __m128i values = _mm_add_epi8(text, offset);
        // 00aaaaaa 00bbbbbb → aaaaaabbbbbb per pair, then two pairs → 24 bits per group.
        const __m128i pairs = _mm_maddubs_epi16(values, _mm_set1_epi32(0x01400140));
        const __m128i groups = _mm_madd_epi16(pairs, _mm_set1_epi32(0x00011000));
        _mm_storeu_si128((__m128i *)(output + written), _mm_shuffle_epi8(groups, pack));
        read += 16;
        written += 12;
    }
    return read;
}

__attribute__((target("avx2")))
static size_t decode_avx2(const uint8_t *input, size_t count, uint8_t *output, size_t room) {
    const __m256i low_classes = _mm256_setr_epi8(LOW_NIBBLE_CLASSES, LOW_NIBBLE_CLASSES);
    const __m256i high_classes = _mm256_setr_epi8(HIGH_NIBBLE_CLASSES, HIGH_NIBBLE_CLASSES);
    const __m256i offsets = _mm256_setr_epi8(OFFSETS, OFFSETS);
    const __m256i pack = _mm256_setr_epi8(PACK, PACK);
    // Each lane's 12 bytes, then 8 bytes of slack.
    const __m256i lanes = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 7, 7);
    const __m256i nibble = _mm256_set1_epi8(0x0F);
    const __m256i slash = _mm256_set1_epi8('/');
    size_t read = 0, written = 0;
    while (read + 32 <= count && written + 32 <= room) {
        const __m256i text = _mm256_loadu_si256((const __m256i *)(input + read));
        const __m256i high = _mm256_and_si256(_mm256_srli_epi32(text, 4), nibble);
        const __m256i low = _mm256_and_si256(text, nibble);
        const __m256i classes = _mm256_and_si256(_mm256_shuffle_epi8(low_classes, low), _mm256_shuffle_epi8(high_classes, high));
        if (!_mm256_testz_si256(classes, classes)) break;
        const __m256i offset = _mm256_shuffle_epi8(offsets, _mm256_add_epi8(high, _mm256_cmpeq_epi8(text, slash)));
        const __m256i values = _mm256_add_epi8(text, offset);
        const __m256i pairs = _mm256_maddubs_epi16(values, _mm256_set1_epi32(0x01400140));
        const __m256i groups = _mm256_madd_epi16(pairs, _mm256_set1_epi32(0x00011000));
        const __m256i packed = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(groups, pack), lanes);
        _mm256_storeu_si256((__m256i *)(output + written), packed);
        read += 32;
        written += 24;
    }
    // The rest, or the valid half of the block that stopped the loop.
    return read + decode_ssse3(input + read, count - read, output + written, room - written);
}

int cvector_best_kernel(void) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vbmi2")) return CVECTOR_AVX512_VBMI2;
    if (__builtin_cpu_supports("avx2")) return CVECTOR_AVX2;
    if (__builtin_cpu_supports("ssse3")) return CVECTOR_SSSE3;
    return CVECTOR_SCALAR;
}

size_t cbase64_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t room) {
    switch (kernel) {
    case CVECTOR_AVX512_VBMI2:  // no AVX-512 decoder: AVX2's
    case CVECTOR_AVX2: return decode_avx2(input, count, output, room);
    case CVECTOR_SSSE3: return decode_ssse3(input, count, output, room);
    default: return 0;
    }
}

#else

int cvector_best_kernel(void) { return CVECTOR_SCALAR; }

size_t cbase64_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t room) {
    (void)kernel; (void)input; (void)count; (void)output; (void)room;
    return 0;
}

#endif
