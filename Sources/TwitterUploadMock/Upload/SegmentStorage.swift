#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif

/// Where a segment's bytes live: in memory, or spooled to a file under `--storage-dir` so a
/// 512 MB video does not sit in RAM.
enum StoredSegment: Sendable {
    case memory([UInt8])
    case file(path: String, count: Int)

    var count: Int {
        switch self {
        case .memory(let bytes): bytes.count
        case .file(_, let count): count
        }
    }

    /// The whole segment (read from disk when spooled); empty if the file vanished.
    var bytes: [UInt8] {
        switch self {
        case .memory(let bytes): bytes
        case .file(let path, _): FileManager.default.contents(atPath: path).map { Array($0) } ?? []
        }
    }

    func copyBytes(from offset: Int, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        let length = min(buffer.count, count - offset)
        guard length > 0 else { return 0 }
        switch self {
        case .memory(let bytes):
            bytes.withUnsafeBytes { buffer.baseAddress!.copyMemory(from: $0.baseAddress! + offset, byteCount: length) }
            return length
        case .file(let path, _):
            let descriptor = open(path, O_RDONLY)
            guard descriptor >= 0 else { return 0 }
            defer { close(descriptor) }
            return max(0, pread(descriptor, buffer.baseAddress, length, off_t(offset)))
        }
    }
}

/// Keeps segments in memory, or in files under a directory.
struct SegmentStorage: Sendable {
    let directory: String?

    /// Spools to disk outside any lock, so a slow disk delays only its own request.
    func keep(_ bytes: [UInt8], mediaID: UInt64, index: Int) throws(UploadError) -> StoredSegment {
        guard let directory else { return .memory(bytes) }
        let path = "\(directory)/\(mediaID)-\(index)-\(UUID().uuidString)"
        guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
            throw UploadError.internalError
        }
        return .file(path: path, count: bytes.count)
    }

    func discard(_ segment: StoredSegment?) {
        if case .file(let path, _) = segment { try? FileManager.default.removeItem(atPath: path) }
    }
}
