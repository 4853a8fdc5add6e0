import CMicroHTTPD

/// Facts about status codes, as libmicrohttpd knows them.
package enum HTTPStatus {
    /// The reason phrase libmicrohttpd sends on the status line (`Service Unavailable` for 503);
    /// `Unknown` for a code it does not know.
    package static func reasonPhrase(_ code: Int) -> String {
        guard let phrase = UInt32(exactly: code).flatMap({ MHD_get_reason_phrase_for($0) }) else { return "Unknown" }
        return String(cString: phrase)
    }
}
