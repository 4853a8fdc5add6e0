#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import UploadMockJSON

/// Where a segment's bytes live: in memory, or spooled to a file under `--storage-dir` so a
/// 512 MB video does not sit in RAM.
package enum StoredSegment: Sendable {
    case memory([UInt8])
    case file(SpoolFile)

    package var count: Int {
        switch self {
        case .memory(let bytes): bytes.count
        case .file(let file): file.count
        }
    }

    /// What it holds of the memory budget: spooled bytes live on disk.
    var memoryBytes: Int {
        if case .memory(let bytes) = self { return bytes.count }
        return 0
    }

    /// Copies up to `buffer.count` bytes from `offset`; returns how many were copied (fewer
    /// only at the end, or if a spool file can no longer be read).
    package func copyBytes(from offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let length = min(buffer.count, count - offset)
        guard length > 0, offset >= 0 else { return 0 }
        switch self {
        case .memory(let bytes):
            bytes.withUnsafeBytes { source in
                UnsafeMutableRawBufferPointer(rebasing: buffer[..<length])
                    .copyMemory(from: UnsafeRawBufferPointer(rebasing: source[offset..<offset + length]))
            }
            return length
        case .file(let file):
            return file.read(from: offset, into: UnsafeMutableRawBufferPointer(rebasing: buffer[..<length]))
        }
    }

    /// The first `limit` bytes (or all of them, if fewer), reading no more than that.
    package func prefix(_ limit: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: min(limit, count))
        let copied = bytes.withUnsafeMutableBytes { copyBytes(from: 0, into: $0) }
        bytes.removeLast(bytes.count - copied)
        return bytes
    }

    /// Hands the bytes over in pieces of at most 64 KiB, so digests of spooled media never
    /// load a whole segment.
    package func forEachPiece(_ body: (UnsafeRawBufferPointer) -> Void) {
        switch self {
        case .memory(let bytes):
            bytes.withUnsafeBytes(body)
        case .file:
            var piece = [UInt8](repeating: 0, count: 64 * 1024)
            var offset = 0
            while offset < count {
                let copied = piece.withUnsafeMutableBytes { copyBytes(from: offset, into: $0) }
                guard copied > 0 else { return }
                piece.withUnsafeBytes { body(UnsafeRawBufferPointer(rebasing: $0[..<copied])) }
                offset += copied
            }
        }
    }
}

/// One spooled segment. The file is removed when the last holder lets go: the session that
/// keeps it, and any download still streaming it, so a retried segment never cuts a download
/// short.
package final class SpoolFile: Sendable {
    package let path: String
    package let count: Int

    init(path: String, count: Int) {
        self.path = path
        self.count = count
    }

    deinit {
        unlink(path)
    }

    func read(from offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return 0 }
        defer { close(descriptor) }
        var copied = 0
        while copied < buffer.count {
            let result = pread(descriptor, buffer.baseAddress.map { $0 + copied }, buffer.count - copied, off_t(offset + copied))
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { break }
            copied += result
        }
        return copied
    }
}

/// Keeps segments in memory, or in files under a directory.
package struct SegmentStorage: Sendable {
    package let directory: String?

    package init(directory: String?) {
        self.directory = directory
    }

    /// Spools to disk outside any lock, so a slow disk delays only its own request. Files are
    /// readable by their owner only. `name` is made only when a file is written.
    func keep(_ bytes: [UInt8], name: @autoclosure () -> String) throws(UploadFailure) -> StoredSegment {
        guard let directory else { return .memory(bytes) }
        let path = "\(directory)/\(name())"
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw .storageFailed(reason: Self.describe(errno, writing: path)) }
        defer { close(descriptor) }
        let file = SpoolFile(path: path, count: bytes.count)
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress.map { $0 + written }, bytes.count - written) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { throw .storageFailed(reason: Self.describe(errno, writing: path)) }
            written += result
        }
        return .file(file)
    }

    private static func describe(_ code: Int32, writing path: String) -> String {
        "cannot write \(path): \(String(cString: strerror(code))) (errno \(code))"
    }
}
