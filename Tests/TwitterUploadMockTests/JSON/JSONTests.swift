import Foundation
import Testing
import TwitterUploadMock
import UploadMockDomain
@testable import UploadMockJSON

@Suite("JSON")
struct JSONTests {
    @Test("slashes are escaped as the real service does, key order is kept")
    func serialization() {
        let value: JSONValue = .object(["video": .object(["video_type": "video/mp4"]), "a": .array([1, true, .null])])
        #expect(value.text == #"{"video":{"video_type":"video\/mp4"},"a":[1,true,null]}"#)
    }

    @Test("problem layouts: compact or pretty-printed as JSON.stringify(x, null, 2), slashes as they are")
    func layouts() {
        let value: JSONValue = .object(["title": "Unauthorized", "type": "about:blank", "status": 401,
                                        "errors": .array([.object(["message": "a/b"])]), "empty": .object([:]), "none": .array([])])
        #expect(String(decoding: value.serialized(.plain), as: UTF8.self)
            == #"{"title":"Unauthorized","type":"about:blank","status":401,"errors":[{"message":"a/b"}],"empty":{},"none":[]}"#)
        #expect(String(decoding: value.serialized(.pretty), as: UTF8.self) == """
            {
              "title": "Unauthorized",
              "type": "about:blank",
              "status": 401,
              "errors": [
                {
                  "message": "a/b"
                }
              ],
              "empty": {},
              "none": []
            }
            """)
    }

    @Test("control characters and quotes are escaped")
    func escaping() {
        #expect(JSONValue.string("a\"b\\c\n\u{1}").text == #""a\"b\\c\n\u0001""#)
    }

    @Test("parsing keeps key order, numbers and escapes")
    func parsing() throws {
        let value = try JSONParser.parse(Array(#" {"b": [1, -2, 18446744073709551615, 1.5e3], "a": "\u00e9\ud83d\ude00\/", "c": null} "#.utf8))
        #expect(value == .object(["b": .array([1, -2, .uint(UInt64.max), .double(1500)]), "a": .string("é😀/"), "c": .null]))
    }

    @Test("syntax errors give the line and column", arguments: [
        ("{\n  \"port\": 80,\n  \"host\" \"x\"\n}", "not valid JSON at line 3, column 10: expected ':' after the key 'host', found '\"'"),
        ("{\"a\": 1,\n \"a\": 2}", "not valid JSON at line 2, column 2: duplicate key 'a'"),
        ("[1, 2,]", "not valid JSON at line 1, column 7: trailing comma before ']'"),
        ("{\"a\": 1,}", "not valid JSON at line 1, column 9: trailing comma before '}'"),
        ("{\"a\": 01}", "not valid JSON at line 1, column 7: numbers may not have leading zeros"),
        ("{\"a\": tru}", "not valid JSON at line 1, column 7: unexpected 't' where a value was expected"),
        ("{\"a\": 1} x", "not valid JSON at line 1, column 10: unexpected 'x' after the document"),
        ("", "not valid JSON at line 1, column 1: the document ends where a value was expected"),
        ("\"é\u{1}\"", "not valid JSON at line 1, column 3: a control character (0x1) must be escaped inside a string"),
    ])
    func syntaxErrors(_ text: String, _ message: String) {
        #expect(throws: ConfigurationError(message)) { try JSONParser.parse(Array(text.utf8)) }
    }

    @Test("depth and size are bounded")
    func bounds() {
        #expect(throws: ConfigurationError("not valid JSON at line 1, column 65: arrays and objects are nested more than 64 deep")) {
            try JSONParser.parse(Array((String(repeating: "[", count: 100) + String(repeating: "]", count: 100)).utf8))
        }
        var limits = JSONParser.Limits()
        limits.maximumValues = 10
        #expect(throws: ConfigurationError.self) { try JSONParser.parse(Array("[1,2,3,4,5,6,7,8,9,10]".utf8), limits: limits) }
    }

    @Test("an object with 80,000 keys parses in one linear pass")
    func manyKeys() throws {
        let text = "{" + (0..<80_000).map { "\"k\($0)\":\($0)" }.joined(separator: ",") + "}"
        let value = try JSONParser.parse(Array(text.utf8))
        #expect(value.objectOrEmpty.members.count == 80_000)
        #expect(value.objectOrEmpty.members.last?.key == "k79999")
    }

    @Test("config readers name unknown keys and wrong types")
    func strictReading() throws {
        #expect(throws: ConfigurationError("unknown key 'limits.chunk_byte'")) {
            try MockConfiguration(json: Array(#"{"limits":{"chunk_byte":1}}"#.utf8))
        }
        #expect(throws: ConfigurationError("port must be an integer from 0 to 65535")) {
            try MockConfiguration(json: Array(#"{"port":"x"}"#.utf8))
        }
        #expect(throws: ConfigurationError("auth.mode must be one of none, verify, oauth1, bearer, not 'basic'")) {
            try MockConfiguration(json: Array(#"{"auth":{"mode":"basic"}}"#.utf8))
        }
        let configuration = try MockConfiguration(json: Array(#"{"rate_limits":[{"match":{"command":"APPEND"},"limit":5,"window_secs":2,"per":"global"}]}"#.utf8))
        #expect(configuration.rateLimits == [RateLimitRule(match: RequestMatch(command: .append), limit: 5, windowSeconds: 2, per: .global)])
    }

    @Test("a processing error keeps exactly the fields given; its state and percent are configurable")
    func processingErrorShapes() throws {
        let configured = try MockConfiguration(json: Array(#"{"processing":{"result":"failed","error":{"code":3},"error_state":"in_progress","error_progress_percent":99}}"#.utf8))
        #expect(configured.upload.processing.error == ProcessingError(code: 3, name: "InvalidMedia"))
        #expect(configured.upload.processing.error.json.text == #"{"code":3,"name":"InvalidMedia"}"#)
        #expect(configured.upload.processing.errorState == .inProgress)
        #expect(configured.upload.processing.errorProgressPercent == 99)
        let defaults = try MockConfiguration(json: Array("{}".utf8)).upload.processing
        #expect(defaults.error.message == "Unsupported video format")
        #expect(defaults.errorState == .failed && defaults.errorProgressPercent == 100)
        #expect(throws: ConfigurationError("processing.error_state must be one of failed, in_progress, not 'stuck'")) {
            try MockConfiguration(json: Array(#"{"processing":{"error_state":"stuck"}}"#.utf8))
        }
    }

    @Test("limits that would overflow a body size are refused")
    func boundedLimits() {
        #expect(throws: ConfigurationError("limits.chunk_bytes must be an integer from 1 to 1073741824")) {
            try MockConfiguration(json: Array(#"{"limits":{"chunk_bytes":9223372036854775807}}"#.utf8))
        }
        #expect(throws: ConfigurationError("limits.max_fields must be an integer from 1 to 1000")) {
            try MockConfiguration(json: Array(#"{"limits":{"max_fields":0}}"#.utf8))
        }
        #expect(throws: ConfigurationError("limits.field_bytes must be an integer from 1 to 1048576")) {
            try MockConfiguration(json: Array(#"{"limits":{"field_bytes":1048577}}"#.utf8))
        }
        #expect(throws: ConfigurationError("admin.max_body_bytes must be an integer from 1024 to 67108864")) {
            try MockConfiguration(json: Array(#"{"admin":{"max_body_bytes":10}}"#.utf8))
        }
        let admin = try? MockConfiguration(json: Array(#"{"admin":{"max_rules":3,"max_body_bytes":4096}}"#.utf8))
        #expect(admin?.maxAdminRules == 3)
        #expect(admin?.maxAdminBodyBytes == 4096)
        let read = try? MockConfiguration(json: Array(#"{"limits":{"max_fields":12,"field_bytes":512}}"#.utf8))
        #expect(read?.upload.limits.maxFields == 12)
        #expect(read?.upload.limits.fieldBytes == 512)
    }

    @Test("relative paths in a config file are taken from the file's directory")
    func relativePaths() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("config-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("mock.json")
        try Data(#"{"storage_dir": "spool", "tls": {"cert": "/abs/cert.pem", "key": "key.pem"}}"#.utf8).write(to: file)
        let configuration = try MockConfiguration.load(path: file.path)
        #expect(configuration.upload.storageDirectory == directory.path + "/spool")
        #expect(configuration.tls?.certificatePath == "/abs/cert.pem")
        #expect(configuration.tls?.keyPath == directory.path + "/key.pem")
    }

    @Test("a config file's syntax error names the file, line and column")
    func fileErrors() throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("bad-\(UUID().uuidString).json")
        try Data("{\n  \"port\": 8080,\n}\n".utf8).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        #expect(throws: ConfigurationError("config file \(file.path): not valid JSON at line 3, column 1: trailing comma before '}'")) {
            try MockConfiguration.load(path: file.path)
        }
    }

    @Test("timestamps are written as Foundation's ISO 8601 style writes them, to the millisecond")
    func timestamps() {
        func foundation(_ date: Date) -> String {
            date.formatted(.iso8601.year().month().day().timeZone(separator: .omitted).time(includingFractionalSeconds: true))
        }
        var generator = SystemRandomNumberGenerator()
        // Every day boundary, leap day and century rule from 1970 to 2100 (the clock's range),
        // around the millisecond and second boundaries, before 1970 too.
        var seconds: [Double] = [0, -0.0005, -1.5, -86_400, 951_782_400, 951_868_799.9995, 4_102_444_800, 4_102_444_799.999,
                                 1_798_761_599.9994, 1_798_761_599.9996, 1_700_000_000.123_456, 1_000_000_000.000_999_9]
        seconds += (0..<5_000).map { _ in Double.random(in: -100_000_000...4_102_444_800, using: &generator) }
        seconds += (0..<2_000).map { _ in Double(Int.random(in: -50_000...50_000, using: &generator)) * 86_400 + 0.999_5 }
        for second in seconds {
            let date = Date(timeIntervalSince1970: second)
            #expect(JSONValue.timestamp(date) == foundation(date), "at \(second)")
        }
    }
}
