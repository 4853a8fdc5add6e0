#ifndef CVECTORKERNELS_H
#define CVECTORKERNELS_H

#include <stddef.h>
#include <stdint.h>

/// The vector kernel levels every call of this header that takes a `kernel` names, best last:
/// scalar (no kernel: the caller's own loop), SSSE3, AVX2, and AVX-512 with VBMI2's byte
/// compression (the base64 decoder has no such kernel and runs its AVX2 one there).
enum {
    CVECTOR_SCALAR = 0,
    CVECTOR_SSSE3 = 1,
    CVECTOR_AVX2 = 2,
    CVECTOR_AVX512_VBMI2 = 3,
};

/// The best kernel level this CPU runs: the one place that asks the CPU (the server may cap the
/// level it uses below this: VectorKernel).
int cvector_best_kernel(void);

/// Decodes whole blocks (16 characters with SSSE3, 32 with AVX2, then 16) of the standard base64
/// alphabet from `input`, stopping before the first block that holds any other byte (a line
/// break, padding, an error: the caller decodes from there) or that would store past
/// `output + room` (a block of 16 characters stores 16 bytes of which 12 are decoded; 32 store 32
/// of which 24). Returns the number of characters decoded, always a multiple of 16; the
/// decoded bytes, three per four characters, are at `output`.
size_t cbase64_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t room);

/// The start of the first block of 64 positions, from `start` on, where some position `p` has
/// `base[p] == first` and `base[p + last_offset] == last`, or the first position from which fewer
/// than 64 are left before `positions`. Reads `base[start ..< positions + last_offset]`. Call it
/// only when cvector_best_kernel() is CVECTOR_AVX2 or above.
size_t cmedia_first_candidate_block(const uint8_t *base, size_t start, size_t positions,
                                    uint8_t first, uint8_t last, size_t last_offset);

/// `memcpy` with stores that bypass the cache for whole 64-byte runs: for large media bytes
/// nothing reads again soon, so they need not evict what the server does read.
void cmedia_copy_streaming(uint8_t *destination, const uint8_t *source, size_t count);

/// Percent-decoding (percent_simd.c): decodes blocks of urlencoded text from `input` (16 bytes
/// with SSSE3, 32 with AVX2, then 16; each reads two bytes past itself), `%XX` to its byte and
/// `+` to a space, stopping before the first block with a malformed escape and where fewer than
/// 18 bytes are left (the caller decodes from there). A block takes whole escapes only, so the
/// stop is never inside one. `output` needs room for `count` bytes (a block stores 16 bytes
/// whatever it decodes, never past the input's length); `*written` is set to the decoded
/// length. Returns the number of input bytes decoded. With CVECTOR_AVX512_VBMI2: 64 bytes a
/// block, then AVX2's.
size_t cpercent_decode_blocks(int kernel, const uint8_t *input, size_t count, uint8_t *output, size_t *written);

// JSON string text (JSONMediaBodyReader).

/// The offset of the first byte of `text` below 0x20, from 0x80, '"' or '\', or one where fewer
/// than 16 bytes are left after it (the caller reads on from there); 0 below AVX2.
size_t cjson_string_run(int kernel, const uint8_t *text, size_t count);

/// Copies `text` to `output` in whole blocks (64 bytes with AVX-512, 32 with AVX2, then 16; SSSE3
/// 16) whose only bytes that need care (as for cjson_string_run) are backslashes each followed
/// by '/', leaving out those backslashes; stops before the first other block, when fewer than a
/// block and one byte are left, or before a block whose 16, 32 or 64 stored bytes would pass
/// `output + room`.
/// Returns the bytes of `text` read (a `\/` split by the stop leaves its '/' unread); sets
/// `*written` to the bytes stored in `output`. Reads and writes nothing with the scalar kernel.
size_t cjson_unescape_slashes(int kernel, const uint8_t *text, size_t count, uint8_t *output, size_t room, size_t *written);

#endif
