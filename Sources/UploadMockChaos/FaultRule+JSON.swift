#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import UploadMockDomain
import UploadMockHTTP
package import UploadMockJSON

/// The JSON shape of fault rules (docs/faults.md), shared by the config file and the admin API.
extension FaultRule: JSONReadable, JSONWritable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        var matchReader = try JSONReader(reader.value("match") ?? .object([:]), path: reader.name("match"))
        match = try RequestMatch(json: &matchReader)
        skip = try matchReader.int("skip", in: 0...Int(Int32.max)) ?? 0
        probability = try matchReader.double("probability", in: 0...1) ?? 1
        attempt = try matchReader.int("attempt", in: 1...Int(Int32.max))
        try matchReader.finish()
        action = try JSONReader.decode(FaultAction.self, from: reader.value("action") ?? .object([:]), path: reader.name("action"))
        afterCommit = try reader.bool("after_commit") ?? false
        if afterCommit, action.bodyInterruption != nil {
            throw ConfigurationError("\(reader.name("after_commit")): a request ended while its body arrives stores nothing; drop after_commit or after_request_bytes")
        }
        times = try reader.int("times", in: 1...Int(Int32.max))
        scope = try reader.string("scope")
        seed = try reader.uint64("seed")
        if attempt != nil, match.command != nil, match.command != .append {
            throw ConfigurationError("\(matchReader.name("attempt")) counts APPENDs of one segment, so it needs command APPEND (or none), not \(match.command?.rawValue ?? "")")
        }
    }

    package var json: JSONValue {
        var matchObject = match.json.objectOrEmpty
        matchObject["skip"] = .int(Int64(skip))
        matchObject["probability"] = .double(probability)
        if let attempt { matchObject["attempt"] = .int(Int64(attempt)) }
        var object: JSONObject = ["id": .string(id), "match": .object(matchObject), "action": action.json]
        object["after_commit"] = .bool(afterCommit)
        object["times"] = times.map { .int(Int64($0)) } ?? .null
        object["scope"] = scope.map { .string($0) } ?? .null
        object["seed"] = seed.map { .uint($0) } ?? .null
        object["scenario"] = scenario.map { .string($0) } ?? .null
        return .object(object)
    }
}

extension FaultAction: JSONReadable, JSONWritable {
    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        self.init()
        // 1xx answers are interim: a client would wait for a final answer that never comes.
        status = try reader.int("status", in: HTTPReply.finalStatuses)
        error = try reader.string("error")
        failure = try reader.choice("fault")
        truncateBytes = try reader.int("truncate_bytes", in: 0...Int(Int32.max))
        bytesPerSecond = try reader.int("bytes_per_sec", in: 1...Int(Int32.max)) ?? bytesPerSecond
        if let milliseconds = try reader.double("delay_ms", in: 0...Delay.maximumMilliseconds) {
            delay = .fixed(milliseconds: milliseconds)
        }
        if let distribution: Delay = try reader.decode("delay") {
            guard delay == nil else { throw ConfigurationError("\(reader.path): give delay_ms or delay, not both") }
            delay = distribution
        }
        afterRequestBytes = try reader.int("after_request_bytes", in: 0...Int(Int32.max))
        requestBytesPerSecond = try reader.int("request_bytes_per_sec", in: 1...Int(Int32.max))
        advanceClockSeconds = try reader.double("advance_clock_secs", in: 0...Self.longestClockAdvance)
        processing = try reader.choice("processing")
        try reader.finish()  // a misspelt key is the likelier mistake: name it first
        if status == nil, failure == nil, delay == nil, requestBytesPerSecond == nil, advanceClockSeconds == nil, processing == nil {
            throw ConfigurationError("\(reader.path) needs at least one of status, fault, delay_ms, delay, request_bytes_per_sec, advance_clock_secs or processing")
        }
        try checkBodyInterruption(path: reader.path)
        try checkEffects(path: reader.path)
    }

    /// The span of the mock's clock (2006 to 2100): no advance can be longer.
    package static let longestClockAdvance: Double = MockClock.range.upperBound.timeIntervalSince(MockClock.range.lowerBound)

    /// A clock advance and a processing result act as the request is performed: a request cut
    /// off while its body arrives never gets that far, and `processing` needs the FINALIZE done.
    private func checkEffects(path: String) throws(ConfigurationError) {
        if bodyInterruption != nil, advanceClockSeconds != nil || processing != nil {
            throw ConfigurationError("\(path): advance_clock_secs and processing act when the request is performed, which a request cut off while its body arrives never is; drop after_request_bytes or stall")
        }
        if processing != nil, status != nil || failure != nil {
            throw ConfigurationError("\(path).processing decides how the FINALIZE it fires on ends processing, so that FINALIZE must be performed: it takes no status or fault")
        }
    }

    /// A body-time reset, close or stall ends the request with no answer, so nothing that
    /// shapes an answer may come with it.
    private func checkBodyInterruption(path: String) throws(ConfigurationError) {
        if failure == .stall, status != nil || delay != nil || truncateBytes != nil {
            throw ConfigurationError("\(path): fault stall ends the request without an answer; it takes no status, delay or truncate_bytes")
        }
        guard afterRequestBytes != nil else { return }
        guard bodyInterruption != nil else {
            throw ConfigurationError("\(path).after_request_bytes needs fault reset, close or stall")
        }
        if status != nil || delay != nil || truncateBytes != nil {
            throw ConfigurationError("\(path).after_request_bytes ends the request without an answer; it takes no status, delay or truncate_bytes")
        }
    }

    package var json: JSONValue {
        var object = JSONObject()
        if let status { object["status"] = .int(Int64(status)) }
        if let error { object["error"] = .string(error) }
        if let failure { object["fault"] = .string(failure.rawValue) }
        if let truncateBytes { object["truncate_bytes"] = .int(Int64(truncateBytes)) }
        if failure == .slow { object["bytes_per_sec"] = .int(Int64(bytesPerSecond)) }
        if let afterRequestBytes { object["after_request_bytes"] = .int(Int64(afterRequestBytes)) }
        if let requestBytesPerSecond { object["request_bytes_per_sec"] = .int(Int64(requestBytesPerSecond)) }
        if let advanceClockSeconds { object["advance_clock_secs"] = .double(advanceClockSeconds) }
        if let processing { object["processing"] = .string(processing.rawValue) }
        switch delay {
        case .fixed(let milliseconds): object["delay_ms"] = .double(milliseconds)
        case .uniform(let low, let high):
            object["delay"] = .object(["distribution": "uniform", "min_ms": .double(low), "max_ms": .double(high)])
        case .lognormal(let median, let sigma):
            object["delay"] = .object(["distribution": "lognormal", "median_ms": .double(median), "sigma": .double(sigma)])
        case nil: break
        }
        return .object(object)
    }
}

extension Delay: JSONReadable {
    private enum Distribution: String, CaseIterable {
        case uniform, lognormal
    }

    package init(json reader: inout JSONReader) throws(ConfigurationError) {
        guard let distribution: Distribution = try reader.choice("distribution") else {
            throw ConfigurationError("\(reader.name("distribution")) is required: uniform or lognormal")
        }
        let range = 0...Delay.maximumMilliseconds
        switch distribution {
        case .uniform:
            guard let low = try reader.double("min_ms", in: range), let high = try reader.double("max_ms", in: range),
                  low <= high else {
                throw ConfigurationError("\(reader.path): uniform needs min_ms <= max_ms")
            }
            self = .uniform(minMilliseconds: low, maxMilliseconds: high)
        case .lognormal:
            guard let median = try reader.double("median_ms", in: range) else {
                throw ConfigurationError("\(reader.path): lognormal needs median_ms")
            }
            self = .lognormal(medianMilliseconds: median, sigma: try reader.double("sigma", in: 0...10) ?? 0.5)
        }
    }
}
