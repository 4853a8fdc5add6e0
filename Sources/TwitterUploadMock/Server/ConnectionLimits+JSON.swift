package import UploadMockJSON

extension ConnectionLimits: JSONReadable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        maximum = try reader.int("max", in: 2...1_048_576) ?? maximum
        headroom = try reader.int("headroom", in: 1...1_048_575) ?? headroom
        headTimeoutSeconds = try reader.int("head_timeout_secs", in: 1...86_400) ?? headTimeoutSeconds
        bodyTimeoutSeconds = try reader.int("body_timeout_secs", in: 1...86_400) ?? bodyTimeoutSeconds
        bodyMinimumBytesPerSecond = try reader.int("body_min_bytes_per_sec", in: 0...1 << 30) ?? bodyMinimumBytesPerSecond
        maximumHeldByFaults = try reader.int("max_held_by_faults", in: 0...1_048_576) ?? maximumHeldByFaults
        discardBodyBytes = try reader.int("discard_body_bytes", in: 0...(1 << 30)) ?? discardBodyBytes
        try validate()
    }
}
