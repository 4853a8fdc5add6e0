import Testing
import UploadMockDomain
@testable import UploadMockForms

@Suite("Streamed append")
struct StreamedAppendTests {
    /// The streaming copy aligns its stores to the destination and copies head and tail with
    /// `memcpy`: every alignment of source and destination, and lengths around the 16 KiB
    /// threshold and the 64-byte runs, must give what `append(contentsOf:)` gives.
    @Test("appendStreaming appends exactly the bytes, at any alignment and length")
    func sameBytesAsAppend() {
        var generator = SeededGenerator(seed: 77)
        let source = (0..<(80 * 1024)).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let lengths = [0, 1, 63, 64, 65, 16 * 1024 - 1, 16 * 1024, 16 * 1024 + 1, 16 * 1024 + 63, 65 * 1024]
        source.withUnsafeBytes { whole in
            for existing in [0, 1, 7, 15, 16, 33] {
                for sourceOffset in [0, 1, 9, 16] {
                    for length in lengths {
                        let piece = UnsafeRawBufferPointer(rebasing: whole[sourceOffset..<(sourceOffset + length)])
                        var expected = Array(source.prefix(existing))
                        expected.append(contentsOf: piece)
                        var streamed = Array(source.prefix(existing))
                        streamed.appendStreaming(piece)
                        #expect(streamed == expected, "\(existing) bytes held, source offset \(sourceOffset), \(length) bytes")
                    }
                }
            }
        }
    }

    @Test("appendStreaming grows the array like append does, with room reserved or not")
    func growsWhenNeeded() {
        let piece = [UInt8](repeating: 0xAB, count: 40 * 1024)
        var reserved: [UInt8] = []
        reserved.reserveCapacity(200 * 1024)
        var unreserved: [UInt8] = [1, 2, 3]
        piece.withUnsafeBytes { bytes in
            for _ in 0..<4 {
                reserved.appendStreaming(bytes)
                unreserved.appendStreaming(bytes)
            }
        }
        #expect(reserved == Array(repeating: 0xAB, count: 160 * 1024))
        #expect(unreserved == [1, 2, 3] + Array(repeating: 0xAB, count: 160 * 1024))
    }
}
