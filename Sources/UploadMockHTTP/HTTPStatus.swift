import CMicroHTTPD

/// Facts about status codes, as libmicrohttpd knows them.
package enum HTTPStatus {
    /// The reason phrase libmicrohttpd sends on the status line (RFC 9110's names: 413 is
    /// "Content Too Large"; a code it has no name for is "Non-Standard Status"), so that a body
    /// or a HAR entry repeating it agrees with the line.
    package static func reasonPhrase(_ code: Int) -> String {
        guard let status = UInt32(exactly: code), MHD_get_reason_phrase_len_for(status) > 0,
              let phrase = MHD_get_reason_phrase_for(status) else { return "Non-Standard Status" }
        return String(cString: phrase)
    }
}
