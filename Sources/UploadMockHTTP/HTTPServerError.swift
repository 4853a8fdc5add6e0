#if canImport(Glibc)
import Glibc
#endif

/// Why the HTTP server could not start, with the failing call and errno where C was involved.
package struct HTTPServerError: Error, CustomStringConvertible, Sendable {
    package var reason: String
    package var errno: Int32?

    package init(_ reason: String, errno: Int32? = nil) {
        self.reason = reason
        self.errno = errno
    }

    package var description: String {
        guard let errno else { return reason }
        return "\(reason): \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
