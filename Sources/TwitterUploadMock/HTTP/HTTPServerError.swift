#if canImport(Glibc)
import Glibc
#endif

/// Why the HTTP server could not start, with the failing call and errno where C was involved.
public struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    public var reason: String
    public var errno: Int32?

    init(_ reason: String, errno: Int32? = nil) {
        self.reason = reason
        self.errno = errno
    }

    public var description: String {
        guard let errno else { return reason }
        return "\(reason): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
