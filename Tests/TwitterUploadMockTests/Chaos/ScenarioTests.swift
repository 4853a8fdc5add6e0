import Foundation
import Testing
@testable import TwitterUploadMock
import UploadMockDomain
import UploadMockJSON
@testable import UploadMockChaos

/// docs/faults.md, Scenarios: the scenario files and the rule fields scenarios need (attempt,
/// seed, advance_clock_secs, processing), read, refused and matched without a socket.
@Suite("Scenarios and their rule fields")
struct ScenarioTests {
    func rule(_ text: String) throws -> FaultRule {
        try JSONReader.decode(FaultRule.self, from: JSONParser.parse(Array(text.utf8)), path: "rule")
    }

    func scenario(_ text: String) throws -> Scenario {
        try JSONReader.decode(Scenario.self, from: JSONParser.parse(Array(text.utf8)), path: "")
    }

    func append(segment: Int, attempt: Int?, scope: String? = nil) -> RequestFacts {
        RequestFacts(api: .v1, method: "POST", path: "/1.1/media/upload.json", command: .append, mediaID: 1,
                     segmentIndex: segment, scope: scope, attempt: attempt)
    }

    @Test("the shipped scenarios are the eight the docs list, each named after its file, every random rule seeded")
    func shipped() throws {
        let scenarios = try ScenarioCatalog.builtIn()
        #expect(scenarios.map(\.name) == ["flaky-uplink", "lost-responses", "over-capacity", "processing-fails",
                                          "rate-limited-appends", "session-expires-mid-upload", "slow-uplink", "stalled-proxy"])
        #expect(ScenarioCatalog.builtInFiles.map(\.file) == scenarios.map { "\($0.name).json" })
        for scenario in scenarios {
            #expect(!scenario.description.isEmpty && scenario.faults.count + scenario.rateLimits.count > 0)
            for rule in scenario.faults where rule.probability < 1 || rule.action.delay.map({ if case .fixed = $0 { false } else { true } }) == true {
                #expect(rule.seed != nil, "\(scenario.name): a random rule must repeat in every run")
            }
            // Installable with the default limits.
            for rule in scenario.faults { try rule.checkBodyReach(limits: UploadLimits(), path: scenario.name) }
        }
    }

    @Test("a scenario file's mistakes are named by the path of the key")
    func badFiles() throws {
        let rule = #"{"match":{"command":"APPEND"},"action":{"status":503}}"#
        let cases: [(String, String)] = [
            (#"{"description":"x","faults":[\#(rule)]}"#, "name is required"),
            (#"{"name":"Lost Responses","description":"x","faults":[\#(rule)]}"#,
             "name must be 1 to 64 lowercase letters, digits and dashes, starting with a letter or digit, not 'Lost Responses'"),
            (#"{"name":"-x","description":"x","faults":[\#(rule)]}"#,
             "name must be 1 to 64 lowercase letters, digits and dashes, starting with a letter or digit, not '-x'"),
            (#"{"name":"x","faults":[\#(rule)]}"#, "description is required: say what the scenario rehearses"),
            (#"{"name":"x","description":"x"}"#, "the scenario needs at least one rule in faults or rate_limits"),
            (#"{"name":"x","description":"x","faults":[\#(rule),{"action":{"status":99}}]}"#,
             "faults[1].action.status must be an integer from 200 to 599"),
            (#"{"name":"x","description":"x","rate_limits":[{"limit":1,"scope":"w"}]}"#,
             "rate_limits[0].scope: a scenario's rules take their scope from the call that installs it (X-Mock-Scope); leave scope out"),
            (#"{"name":"x","description":"x","faults":[\#(rule)],"fautls":[]}"#, "unknown key 'fautls'"),
            (#"{"name":"x","description":"x","faults":[{"action":{"status":503},"scenario":"y"}]}"#, "unknown key 'faults[0].scenario'"),
        ]
        for (text, message) in cases {
            #expect(throws: ConfigurationError(message), "\(text)") { try scenario(text) }
        }
    }

    @Test("attempt, seed, advance_clock_secs and processing are read, written back and checked")
    func ruleFields() throws {
        let read = try rule(#"{"match":{"command":"APPEND","attempt":1},"action":{"advance_clock_secs":86400,"fault":"reset"},"seed":7}"#)
        #expect(read.attempt == 1 && read.seed == 7 && read.action.advanceClockSeconds == 86_400)
        let written = read.json.objectOrEmpty
        #expect(written["match"]?.objectOrEmpty["attempt"] == .int(1) && written["seed"] == .uint(7) && written["scenario"] == .null)
        #expect(written["action"]?.objectOrEmpty["advance_clock_secs"] == .double(86_400))
        #expect(try rule(#"{"match":{"command":"FINALIZE"},"action":{"processing":"failed"}}"#).action.processing == .failed)
        let refusals: [(String, String)] = [
            (#"{"match":{"attempt":0},"action":{"status":503}}"#, "rule.match.attempt must be an integer from 1 to 2147483647"),
            (#"{"match":{"command":"INIT","attempt":1},"action":{"status":503}}"#,
             "rule.match.attempt counts APPENDs of one segment, so it needs command APPEND (or none), not INIT"),
            (#"{"action":{"status":503},"seed":-1}"#, "rule.seed must be a non-negative integer or a decimal string"),
            (#"{"action":{"advance_clock_secs":-1}}"#, "rule.action.advance_clock_secs must be a number from 0 to 2966371200"),
            (#"{"action":{"advance_clock_secs":"a day"}}"#, "rule.action.advance_clock_secs must be a number from 0 to 2966371200"),
            (#"{"action":{"processing":"maybe"}}"#, "rule.action.processing must be one of succeeded, failed, not 'maybe'"),
            (#"{"action":{"processing":"failed","status":503}}"#,
             "rule.action.processing decides how the FINALIZE it fires on ends processing, so that FINALIZE must be performed: it takes no status or fault"),
            (#"{"action":{"advance_clock_secs":60,"fault":"reset","after_request_bytes":10}}"#,
             "rule.action: advance_clock_secs and processing act when the request is performed, which a request cut off while its body arrives never is; drop after_request_bytes or stall"),
            (#"{"action":{"error":"x"}}"#,
             "rule.action needs at least one of status, fault, delay_ms, delay, request_bytes_per_sec, advance_clock_secs or processing"),
        ]
        for (text, message) in refusals {
            #expect(throws: ConfigurationError(message), "\(text)") { try rule(text) }
        }
        #expect(FaultAction.longestClockAdvance == 2_966_371_200)
    }

    @Test("attempt picks one APPEND of a segment; processing only a FINALIZE")
    func matching() {
        let faults = FaultInjector(seed: 1)
        faults.add(FaultRule(match: RequestMatch(command: .append), attempt: 1, action: FaultAction(failure: .reset), afterCommit: true))
        #expect(faults.fire(for: append(segment: 0, attempt: 1), while: .answering) != nil)
        #expect(faults.fire(for: append(segment: 0, attempt: 2), while: .answering) == nil)
        #expect(faults.fire(for: append(segment: 1, attempt: 1), while: .answering) != nil)
        #expect(faults.fire(for: append(segment: 2, attempt: nil), while: .answering) == nil, "an attempt not known never matches")

        let processing = FaultInjector(seed: 1)
        processing.add(FaultRule(action: FaultAction(processing: .failed)))
        #expect(processing.fire(for: append(segment: 0, attempt: 1), while: .answering) == nil)
        let finalize = RequestFacts(api: .v2, method: "POST", path: "/2/media/upload/1/finalize", command: .finalize, mediaID: 1)
        #expect(processing.fire(for: finalize, while: .answering)?.summary == "rule 1, processing failed")
    }

    @Test("a seeded rule draws the same whatever other rules and scopes do, and whatever the server's seed")
    func ownGenerator() {
        /// Which of 200 APPENDs of scope "a" the seeded rule fires on, with `noise` requests of
        /// another scope (meeting an unseeded probabilistic rule) before each.
        func fired(noise: Int, serverSeed: UInt64) -> [Int] {
            let faults = FaultInjector(seed: serverSeed)
            faults.add(FaultRule(probability: 0.5, action: FaultAction(status: 503), scope: "b"))
            faults.add(FaultRule(probability: 0.3, action: FaultAction(failure: .reset), scope: "a", seed: 1))
            return (0..<200).filter { index in
                for _ in 0..<noise { _ = faults.fire(for: append(segment: index % 1000, attempt: 1, scope: "b"), while: .answering) }
                return faults.fire(for: append(segment: index, attempt: 1, scope: "a"), while: .answering) != nil
            }
        }
        let alone = fired(noise: 0, serverSeed: 1)
        #expect((40...80).contains(alone.count))
        #expect(fired(noise: 3, serverSeed: 1) == alone)
        #expect(fired(noise: 1, serverSeed: 99) == alone)
    }

    @Test("a directory adds the user's scenarios after the shipped ones; its mistakes stop the load, naming file and rule")
    func directory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("scenarios-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        func write(_ name: String, _ text: String) throws {
            try Data(text.utf8).write(to: directory.appendingPathComponent(name))
        }
        func loadError() -> String {
            do {
                _ = try ScenarioCatalog.load(directory: directory.path)
                return "loaded"
            } catch {
                return error.message
            }
        }
        try write("proxy-hiccup.json", #"{"name":"proxy-hiccup","description":"One 502.","faults":[{"action":{"status":502},"times":1}]}"#)
        try write("README.md", "not a scenario")
        let catalog = try ScenarioCatalog.load(directory: directory.path)
        #expect(catalog.scenarios.map(\.name).suffix(2) == ["stalled-proxy", "proxy-hiccup"])
        #expect(catalog.scenario(named: "proxy-hiccup")?.faults.first?.action.status == 502)

        try write("bad.json", #"{"name":"bad","description":"x","faults":[{"action":{"status":503}},{"match":{"segment_index":1000},"action":{"status":503}}]}"#)
        #expect(loadError() == "scenario file \(directory.path)/bad.json: faults[1].match.segment_index must be an integer from 0 to 999")
        try write("bad.json", #"{"name":"good","description":"x","faults":[{"action":{"status":503}}]}"#)
        #expect(loadError() == "scenario file \(directory.path)/bad.json: name is 'good', but a scenario file is named after its scenario: good.json")
        try FileManager.default.removeItem(at: directory.appendingPathComponent("bad.json"))
        try write("lost-responses.json", #"{"name":"lost-responses","description":"mine","faults":[{"action":{"status":503}}]}"#)
        #expect(loadError() == "scenario file \(directory.path)/lost-responses.json: lost-responses is a scenario the mock ships; give yours another name (the file's and its \"name\")")
        #expect(throws: UploadMockError.self) { try ScenarioCatalog.load(directory: directory.path + "/nowhere") }
    }
}
