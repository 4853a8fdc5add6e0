import CVectorKernels

extension Array where Element == UInt8 {
    /// Appends `bytes`, a large piece through stores that bypass the cache (docs/performance.md,
    /// phase 3). Stored media is not read again while the request runs, and glibc's `memcpy`
    /// keeps a piece of a 5 MiB payload in the cache (its threshold for streaming stores is
    /// derived from the cache size: 240 MiB on the machines measured), evicting what the server
    /// does read and costing twice as much when the destination is cold.
    package mutating func appendStreaming(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count < StreamedBytes.smallest {
            append(contentsOf: bytes)
        } else {
            append(contentsOf: StreamedBytes(bytes: bytes))
        }
    }
}

/// `Array.append(contentsOf:)` has no hook for how the bytes are copied but a sequence's
/// `_copyContents(initializing:)` (the one `UnsafeRawBufferPointer` uses for its `memmove`): this
/// sequence does its copy with `cmedia_copy_streaming`.
private struct StreamedBytes: Sequence {
    /// Below this a piece stays in the cache: streaming pays only for whole runs of lines.
    static let smallest = 16 * 1024

    let bytes: UnsafeRawBufferPointer

    var underestimatedCount: Int { bytes.count }

    func makeIterator() -> UnsafeRawBufferPointer.Iterator { bytes.makeIterator() }

    func _copyContents(initializing destination: UnsafeMutableBufferPointer<UInt8>)
        -> (UnsafeRawBufferPointer.Iterator, Int) {
        let count = Swift.min(destination.count, bytes.count)
        if count > 0, let target = destination.baseAddress, let source = bytes.baseAddress {
            cmedia_copy_streaming(target, source.assumingMemoryBound(to: UInt8.self), count)
        }
        return (UnsafeRawBufferPointer(rebasing: bytes[count...]).makeIterator(), count)
    }
}
