#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
public import UploadMockChaos
import UploadMockJSON

/// The scenarios a server knows (docs/faults.md, Scenarios): those it ships, compiled in from
/// `Fixtures/scenarios/`, then a user's own from `--scenarios-dir` (`scenarios_dir`).
///
/// ```swift
/// let catalog = try ScenarioCatalog.load(directory: "ci/scenarios")
/// print(catalog.scenarios.map(\.name))   // ["flaky-uplink", …, "my-proxy"]
/// ```
public struct ScenarioCatalog: Sendable {
    /// The shipped scenarios in name order (in a catalog made by `load`), then the
    /// directory's in name order.
    public var scenarios: [Scenario] {
        (includesShipped ? Self.shipped : []) + own
    }

    /// Whether the shipped scenarios belong to this catalog (`load` adds them).
    private let includesShipped: Bool
    /// Those given to `init`, or read from `--scenarios-dir`.
    private let own: [Scenario]

    /// Scenario files a directory may hold: more than anyone writes, and a bound on what a
    /// wrong directory (a home directory of JSON files) makes the server read.
    public static let maximumFiles = 1000

    /// A catalog of exactly these scenarios.
    public init(_ scenarios: [Scenario]) {
        self.init(includesShipped: false, own: scenarios)
    }

    private init(includesShipped: Bool, own: [Scenario]) {
        self.includesShipped = includesShipped
        self.own = own
    }

    /// The shipped scenarios, decoded on first use rather than at every start: most servers
    /// never list or install one (docs/performance.md, Startup). They are compiled in, and
    /// ScenarioTests decodes each, so one that does not decode is a broken build.
    private static let shipped: [Scenario] = {
        do {
            return try builtIn()
        } catch {
            preconditionFailure("\(error)")
        }
    }()

    /// The shipped scenarios' names, known from their files without decoding them.
    private static let shippedNames = Set(builtInFiles.map { String($0.file.dropLast(".json".count)) })

    /// The shipped scenarios, then each `NAME.json` in `directory` (other files are left
    /// alone). A file whose rule or name is wrong, a name the mock already ships, a file larger
    /// than `maximumFileBytes` (by default as large as an admin API body may be:
    /// `admin.max_body_bytes`) or a directory that cannot be read stops the load with a message
    /// naming the file and the rule.
    public static func load(directory: String?, maximumFileBytes: Int = MockConfiguration().maxAdminBodyBytes)
        throws(UploadMockError) -> ScenarioCatalog {
        guard let directory else { return ScenarioCatalog(includesShipped: true, own: []) }
        let shipped = shippedNames
        var own: [Scenario] = []
        for (file, path) in try scenarioFiles(in: directory) {
            let scenario = try read(path: path, file: file, maximumBytes: maximumFileBytes)
            if shipped.contains(scenario.name) {
                throw UploadMockError("scenario file \(path): \(scenario.name) is a scenario the mock ships; give yours another name (the file's and its \"name\")")
            }
            own.append(scenario)
        }
        return ScenarioCatalog(includesShipped: true, own: own)
    }

    /// The scenario called `name`, or nil.
    public func scenario(named name: String) -> Scenario? {
        if includesShipped, Self.shippedNames.contains(name) { return Self.shipped.first { $0.name == name } }
        return own.first { $0.name == name }
    }

    /// The scenario called `name`; unknown names are refused with the list of known ones.
    func lookUp(_ name: String) throws(ScenarioError) -> Scenario {
        guard let scenario = scenario(named: name) else { throw .unknown(name, known: scenarios.map(\.name)) }
        return scenario
    }

    /// The shipped scenarios, read from the compiled-in files.
    static func builtIn() throws(UploadMockError) -> [Scenario] {
        var scenarios: [Scenario] = []
        for (file, text) in builtInFiles {
            scenarios.append(try decode(Array(text.utf8), file: file, shownAs: "built-in scenario \(file)"))
        }
        return scenarios
    }

    /// `NAME.json` files in `directory`, in name order, as (file name, path).
    private static func scenarioFiles(in directory: String) throws(UploadMockError) -> [(String, String)] {
        guard let stream = opendir(directory) else {
            throw UploadMockError("scenarios directory \(directory) (--scenarios-dir, scenarios_dir) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { closedir(stream) }
        var files: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".json"), !name.hasPrefix(".") { files.append(name) }
            guard files.count <= maximumFiles else {
                throw UploadMockError("scenarios directory \(directory) holds more than \(maximumFiles) .json files, the most that are read")
            }
        }
        let separator = directory.hasSuffix("/") ? "" : "/"
        return files.sorted().map { ($0, directory + separator + $0) }
    }

    private static func read(path: String, file: String, maximumBytes: Int) throws(UploadMockError) -> Scenario {
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw UploadMockError("scenario file \(path) is not a readable file")
        }
        guard status.st_size <= maximumBytes else {
            throw UploadMockError("scenario file \(path) is \(status.st_size) bytes; at most \(maximumBytes) are read (admin.max_body_bytes)")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw UploadMockError("scenario file \(path) cannot be read")
        }
        return try decode(Array(data), file: file, shownAs: "scenario file \(path)")
    }

    /// A scenario file's JSON, whose `name` must be the file's own (`NAME.json`).
    private static func decode(_ bytes: [UInt8], file: String, shownAs shown: String) throws(UploadMockError) -> Scenario {
        let scenario: Scenario
        do {
            scenario = try JSONReader.decode(Scenario.self, from: JSONParser.parse(bytes), path: "")
        } catch {
            throw UploadMockError("\(shown): \(error.message)")
        }
        let stem = String(file.dropLast(".json".count))
        guard scenario.name == stem else {
            throw UploadMockError("\(shown): name is '\(scenario.name)', but a scenario file is named after its scenario: \(scenario.name).json")
        }
        return scenario
    }
}

/// Why a scenario could not be installed or removed; nothing changed.
public enum ScenarioError: Error, Equatable, Sendable, CustomStringConvertible {
    /// No scenario by that name; `known` lists them all.
    case unknown(String, known: [String])
    /// Installing it would put more rules in force than `admin.max_rules` allows.
    case tooManyRules(String)
    /// One of its rules cannot work with this server's configuration (an `after_request_bytes`
    /// past the longest body its limits let through).
    case unusable(String)

    public var description: String {
        switch self {
        case .unknown(let name, let known):
            "no scenario '\(name)': the scenarios are \(known.joined(separator: ", "))"
        case .tooManyRules(let message), .unusable(let message):
            message
        }
    }
}
