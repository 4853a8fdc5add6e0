#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `--ready-file`: the base URL, written so that a reader never sees half of it and a link
/// planted by another user is never followed: a fresh temporary file (O_EXCL | O_NOFOLLOW)
/// beside the target, then an atomic rename over it. The file exists only while this server
/// listens: one left by an earlier run is removed before anything else happens, so a waiting
/// script can never read a stale URL, and the server removes its own at exit.
enum ReadyFile {
    /// Removes whatever an earlier run left at `path` (a link is removed, never followed).
    static func removeStale(at path: String) throws(ReadyFileError) {
        guard unlink(path) == 0 || errno == ENOENT else {
            throw ReadyFileError(path: path, step: "remove the file an earlier run left", errno: errno)
        }
    }

    /// Removes the file at exit, unless another server has since written its own URL there.
    static func remove(at path: String, ifItSays text: String) {
        let descriptor = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard descriptor >= 0 else { return }
        var buffer = [UInt8](repeating: 0, count: text.utf8.count + 1)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
        close(descriptor)
        if count >= 0, buffer[..<count].elementsEqual(text.utf8) { unlink(path) }
    }

    static func write(_ text: String, to path: String) throws(ReadyFileError) {
        var attempt = 0
        while true {
            let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
            let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o644)
            if descriptor < 0 {
                attempt += 1
                if errno == EEXIST, attempt < 16 { continue }
                throw ReadyFileError(path: path, step: "create \(temporary)", errno: errno)
            }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            let failure = written == bytes.count ? nil : errno
            close(descriptor)
            if let failure {
                unlink(temporary)
                throw ReadyFileError(path: path, step: "write \(temporary)", errno: failure)
            }
            guard rename(temporary, path) == 0 else {
                let failure = errno
                unlink(temporary)
                throw ReadyFileError(path: path, step: "rename \(temporary) to it", errno: failure)
            }
            return
        }
    }
}

struct ReadyFileError: Error, CustomStringConvertible {
    var path: String
    var step: String
    var errno: Int32

    var description: String { "cannot write --ready-file \(path): \(step): \(String(cString: strerror(errno)))" }
}
