import CVectorKernels
import Synchronization

/// Finds the first byte of interest 16 bytes at a time, with the SSE2 compares baseline x86-64
/// Swift has (no C: these need no byte shuffle). The text scanners of base64 bodies use it: in
/// base64 a byte that needs care (an escape, a quote) comes about once in 20 to 64 bytes, so
/// the exact offset of the first one matters as much as the step.
enum VectorScan {
    /// The offset of the first byte at or after `start` that `marks` marks, or the offset where
    /// fewer than 16 bytes are left (the caller reads those one by one). `marks` sets a lane to
    /// all ones for a byte of interest.
    @inline(__always)
    static func firstMarked(in base: UnsafeRawPointer, from start: Int, count: Int,
                            _ marks: (SIMD16<UInt8>) -> SIMDMask<SIMD16<Int8>>) -> Int {
        var index = start
        while index &+ 16 <= count {
            if let offset = firstMarked(marks(base.loadUnaligned(fromByteOffset: index, as: SIMD16<UInt8>.self))) {
                return index &+ offset
            }
            index &+= 16
        }
        return index
    }

    /// The lane of the first marked byte, or nil (two words and a bit scan: `SIMDMask` has no
    /// cheap "first set lane").
    @inline(__always)
    static func firstMarked(_ mask: SIMDMask<SIMD16<Int8>>) -> Int? {
        let lanes = unsafeBitCast(mask, to: SIMD2<UInt64>.self)
        if lanes[0] != 0 { return lanes[0].trailingZeroBitCount &>> 3 }
        if lanes[1] != 0 { return 8 &+ lanes[1].trailingZeroBitCount &>> 3 }
        return nil
    }
}

/// Which vector kernels decode base64, percent-decode urlencoded text and scan and gather JSON
/// string text (CVectorKernels: SSSE3, AVX2, or AVX-512 with VBMI2's byte compression, picked
/// at run time; base64 has no AVX-512 kernel and runs its AVX2 one there); tests and the fuzz
/// harness pick each one the CPU runs. The server may cap the level (`cap(at:)`, from
/// TWITTER_UPLOAD_MOCK_VECTOR_KERNEL, docs/configuration.md), so that the instruction budget
/// counts the same paths on every CPU.
package struct VectorKernel: Sendable, Equatable {
    let level: Int32
    static let scalar = VectorKernel(level: Int32(CVECTOR_SCALAR))
    static let ssse3 = VectorKernel(level: Int32(CVECTOR_SSSE3))
    static let avx2 = VectorKernel(level: Int32(CVECTOR_AVX2))
    static let avx512 = VectorKernel(level: Int32(CVECTOR_AVX512_VBMI2))
    /// Every level, lowest first, with the names a cap takes.
    package static let levels: KeyValuePairs<String, VectorKernel> = [
        "scalar": scalar, "ssse3": ssse3, "avx2": avx2, "avx512": avx512,
    ]
    /// The best this CPU runs (cvector_best_kernel is the one place that asks the CPU).
    static let cpuBest = VectorKernel(level: cvector_best_kernel())
    /// The highest level the parsers may use; above every level until `cap(at:)`.
    private static let capLevel = Atomic<Int32>(.max)
    /// What parsers made now use: the CPU's best, or the cap when that is lower.
    static var best: VectorKernel { VectorKernel(level: min(cpuBest.level, capLevel.load(ordering: .relaxed))) }
    /// Every kernel this CPU runs, the scalar path first, whatever the cap.
    static let available = levels.map(\.value).filter { $0.level <= cpuBest.level }

    /// The level in force, by name: `scalar`, `ssse3`, `avx2` or `avx512`.
    package static var bestName: String { best.name }

    /// Caps the level of every parser made from now on: the lower of `cap` and the CPU's best
    /// is used; nil lifts the cap. The server sets it once at start.
    package static func cap(at cap: VectorKernel?) {
        capLevel.store(cap?.level ?? .max, ordering: .relaxed)
    }

    /// `scalar`, `ssse3`, `avx2` or `avx512`.
    package var name: String {
        Self.levels.first { $0.value == self }?.key ?? "level \(level)"
    }
}
