/// The JSON shape of fault rules (SPEC section 4), shared by the config file and the admin API.
extension FaultRule {
    init(json: JSONValue, path: String) throws(JSONReadError) {
        self.init()
        var reader = try JSONReader(json, path: path)
        var matchReader = try JSONReader(reader.value("match") ?? .object([:]), path: "\(path).match")
        match = try RequestMatch(reader: &matchReader)
        skip = try matchReader.int("skip") ?? 0
        probability = try matchReader.double("probability", in: 0...1) ?? 1
        try matchReader.finish()
        var actionReader = try JSONReader(reader.value("action") ?? .object([:]), path: "\(path).action")
        action = try FaultAction(reader: &actionReader)
        afterCommit = try reader.bool("after_commit") ?? false
        times = try reader.int("times", in: 1...Int.max)
        try reader.finish()
    }

    var json: JSONValue {
        var matchObject = match.json.objectOrEmpty
        matchObject["skip"] = .int(Int64(skip))
        matchObject["probability"] = .double(probability)
        var object: JSONObject = ["id": .string(id), "match": .object(matchObject), "action": action.json]
        object["after_commit"] = .bool(afterCommit)
        object["times"] = times.map { .int(Int64($0)) } ?? .null
        return .object(object)
    }
}

extension FaultAction {
    init(reader: inout JSONReader) throws(JSONReadError) {
        self.init()
        status = try reader.int("status", in: 100...599)
        error = try reader.string("error")
        if let name = try reader.string("fault") {
            guard let parsed = Failure(rawValue: name) else {
                throw JSONReadError("\(reader.path).fault must be one of \(Failure.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            failure = parsed
        }
        truncateBytes = try reader.int("truncate_bytes")
        bytesPerSecond = try reader.int("bytes_per_sec", in: 1...Int.max) ?? bytesPerSecond
        if let milliseconds = try reader.double("delay_ms", in: 0...3_600_000) {
            delay = .fixed(milliseconds: milliseconds)
        }
        if var delayReader = try reader.object("delay") {
            guard delay == nil else { throw JSONReadError("\(reader.path): give delay_ms or delay, not both") }
            delay = try Delay(reader: &delayReader)
            try delayReader.finish()
        }
        try reader.finish()
        if status == nil, failure == nil, delay == nil {
            throw JSONReadError("\(reader.path) needs at least one of status, fault, delay_ms or delay")
        }
    }

    var json: JSONValue {
        var object = JSONObject()
        if let status { object["status"] = .int(Int64(status)) }
        if let error { object["error"] = .string(error) }
        if let failure { object["fault"] = .string(failure.rawValue) }
        if let truncateBytes { object["truncate_bytes"] = .int(Int64(truncateBytes)) }
        if failure == .slow { object["bytes_per_sec"] = .int(Int64(bytesPerSecond)) }
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

extension Delay {
    init(reader: inout JSONReader) throws(JSONReadError) {
        switch try reader.string("distribution") {
        case "uniform":
            guard let low = try reader.double("min_ms", in: 0...3_600_000),
                  let high = try reader.double("max_ms", in: 0...3_600_000), low <= high else {
                throw JSONReadError("\(reader.path): uniform needs min_ms <= max_ms")
            }
            self = .uniform(minMilliseconds: low, maxMilliseconds: high)
        case "lognormal":
            guard let median = try reader.double("median_ms", in: 0...3_600_000) else {
                throw JSONReadError("\(reader.path): lognormal needs median_ms")
            }
            self = .lognormal(medianMilliseconds: median, sigma: try reader.double("sigma", in: 0...10) ?? 0.5)
        default:
            throw JSONReadError("\(reader.path).distribution must be uniform or lognormal")
        }
    }
}

extension JSONValue {
    var objectOrEmpty: JSONObject {
        if case .object(let object) = self { return object }
        return JSONObject()
    }
}
