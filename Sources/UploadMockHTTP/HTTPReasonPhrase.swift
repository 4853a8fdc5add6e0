import CMicroHTTPD

extension HTTPReply {
    /// The reason phrase the status line carries for `status`, as libmicrohttpd writes it (RFC
    /// 9110's names: 413 is "Content Too Large"; a code it has no name for is
    /// "Non-Standard Status"), so that a body repeating it agrees with the line.
    package static func reasonPhrase(_ status: Int) -> String {
        guard let code = UInt32(exactly: status), MHD_get_reason_phrase_len_for(code) > 0,
              let phrase = MHD_get_reason_phrase_for(code) else { return "Non-Standard Status" }
        return String(cString: phrase)
    }
}
