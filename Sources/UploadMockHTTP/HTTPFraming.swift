/// How a request delimits its body (RFC 9112 §6), checked before any handler sees the request.
///
/// libmicrohttpd 0.9.75 decodes a body only when `Transfer-Encoding` is exactly `chunked` and
/// reads the first `Content-Length` it finds. Anything else it would misread: `gzip, chunked`
/// or `chunked ` become a body "until the connection closes" (so the client waits forever for
/// an answer), and a second, different `Content-Length` is ignored. Such requests are answered
/// here, with a status RFC 9112 names and a message saying what to fix, and the connection is
/// closed, since where the body ends is unknown.
package enum HTTPFraming {
    /// Why a request's framing is refused: 400 for malformed framing, 501 for a transfer
    /// coding this server does not decode.
    package struct Violation: Error, Equatable, Sendable {
        package var status: Int
        package var message: String
    }

    package static func check(_ headers: HTTPHeaders) -> Violation? {
        // One pass that builds nothing for the usual head (at most one Content-Length, no
        // Transfer-Encoding); the lists are made only when there is something to judge.
        var encodingCount = 0, lengthCount = 0
        for field in headers {
            if field.name.caseInsensitiveEquals("transfer-encoding") { encodingCount += 1 }
            if field.name.caseInsensitiveEquals("content-length") { lengthCount += 1 }
        }
        if encodingCount == 0, lengthCount <= 1 {
            guard let length = headers["content-length"] else { return nil }
            return isDecimal(length) ? nil : Violation(status: 400, message: "Content-Length \(quoted(length)) is not a number of bytes")
        }
        let lengths = headers.values(named: "content-length")
        guard encodingCount > 0 else {
            return Violation(status: 400, message: "Content-Length appears \(lengths.count) times "
                + "(\(quoted(lengths.joined(separator: ", ")))): send it once")
        }
        // RFC 9112 §6.1 lets a server reject this outright; it is how requests are smuggled.
        guard lengths.isEmpty else {
            return Violation(status: 400, message: "Transfer-Encoding and Content-Length together: send only one")
        }
        return checkTransferEncoding(headers.values(named: "transfer-encoding"))
    }

    private static func isDecimal(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.allSatisfy { $0 >= 0x30 && $0 <= 0x39 }
    }

    private static func checkTransferEncoding(_ fields: [String]) -> Violation? {
        let written = quoted(fields.joined(separator: ", "))
        // RFC 9110 §5.6.1: a list, with empty elements ignored.
        let elements = fields.flatMap { $0.split(separator: ",", omittingEmptySubsequences: false) }
            .map { $0.trimmingCharacters(" \t") }
            .filter { !$0.isEmpty }
        guard let last = elements.last else {
            return Violation(status: 400, message: "Transfer-Encoding is empty")
        }
        var codings: [Substring] = []
        for element in elements {
            let name = element.prefix { $0 != ";" }.trimmingCharacters(" \t")
            guard !name.isEmpty, name.utf8.allSatisfy(isTokenCharacter) else {
                return Violation(status: 400, message: "Transfer-Encoding \(written) is not a list of transfer codings")
            }
            codings.append(name)
        }
        let chunkedCount = codings.filter { $0.caseInsensitiveEquals("chunked") }.count
        // RFC 9112 §6.3: without chunked last, the body's end cannot be found: 400 and close.
        guard let final = codings.last, final.caseInsensitiveEquals("chunked") else {
            return Violation(status: 400, message: "Transfer-Encoding \(written) does not end with chunked, "
                + "so the end of the body cannot be found")
        }
        guard chunkedCount == 1 else {
            return Violation(status: 400, message: "Transfer-Encoding \(written) applies chunked more than once")
        }
        guard last.firstIndex(of: ";") == nil else {
            return Violation(status: 400, message: "Transfer-Encoding \(written): chunked takes no parameters")
        }
        if let other = codings.first(where: { !$0.caseInsensitiveEquals("chunked") }) {
            return Violation(status: 501, message: "Transfer-Encoding \(written): the \(quoted(String(other))) coding is not "
                + "supported; send the body with chunked alone")
        }
        // Valid HTTP, but libmicrohttpd recognises chunked only when it is the whole value.
        guard fields.count == 1, fields[0].caseInsensitiveEquals("chunked") else {
            return Violation(status: 501, message: "Transfer-Encoding \(written): this server decodes chunked "
                + "bodies only when the header is exactly 'chunked', with no spaces or empty list elements")
        }
        return nil
    }

    /// A header value as messages show it: quoted, and cut short so a huge value never
    /// makes a huge answer or log line.
    private static func quoted(_ value: String) -> String {
        value.count <= 64 ? "'\(value)'" : "'\(value.prefix(64))…' (\(value.utf8.count) bytes)"
    }

    /// RFC 9110 §5.6.2 `tchar`.
    private static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "a")...UInt8(ascii: "z"),
             UInt8(ascii: "A")...UInt8(ascii: "Z"):
            true
        default:
            "!#$%&'*+-.^_`|~".utf8.contains(byte)
        }
    }
}

extension HTTPHeaders {
    /// Every value of `name`, in arrival order.
    package func values(named name: String) -> [String] {
        fields.filter { $0.name.caseInsensitiveEquals(name) }.map(\.value)
    }
}

extension StringProtocol {
    fileprivate func trimmingCharacters(_ characters: String) -> Substring {
        let text = Substring(self)
        guard let first = text.firstIndex(where: { !characters.contains($0) }),
              let last = text.lastIndex(where: { !characters.contains($0) }) else { return "" }
        return text[first...last]
    }
}
