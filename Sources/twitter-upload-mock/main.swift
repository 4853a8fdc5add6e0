import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import Logging
import TwitterUploadMock

// SIGINT and SIGTERM are blocked before any thread exists, so every thread inherits the mask
// and a signal stays pending until the main thread takes it with sigwait below: one that
// arrives right after the ready line, before anything else ran, still stops the server cleanly.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGINT)
sigaddset(&stopSignals, SIGTERM)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

/// Bad flags and bad config files end here: one line on stderr, exit 2, no stack trace.
func fail(_ message: String) -> Never {
    let line = Array("twitter-upload-mock: \(message)\n".utf8)
    _ = write(STDERR_FILENO, line, line.count)
    exit(2)
}

let command: MockCommand
do {
    command = try MockCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if MockCommand.exitCode(for: error) == .success { MockCommand.exit(withError: error) }
    let message = oneLine(MockCommand.message(for: error))
    fail(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
}

/// ArgumentParser's message in one line: the choices it lists on lines of their own
/// ("  - trace") follow the first line, comma-separated; anything else after it is left out.
func oneLine(_ message: String) -> String {
    let lines = message.split(separator: "\n")
    guard let first = lines.first else { return "invalid arguments" }
    let choices = lines.dropFirst().compactMap { line -> Substring? in
        let item = line.drop { $0 == " " }
        return item.hasPrefix("- ") ? item.dropFirst(2) : nil
    }
    return choices.isEmpty ? String(first) : "\(first) \(choices.joined(separator: ", "))"
}

// A ready file left by an earlier run goes first, so nothing waiting on it can see a stale URL,
// whether this server starts or not.
if let readyFile = command.readyFile {
    do {
        try ReadyFile.removeStale(at: readyFile)
    } catch {
        fail("\(error)")
    }
}

let server: UploadMockServer
do {
    let configuration = try command.mockConfiguration()
    if command.listScenarios {
        let catalog = try ScenarioCatalog.load(directory: configuration.scenariosDirectory,
                                               maximumFileBytes: configuration.maxAdminBodyBytes)
        for scenario in catalog.scenarios {
            print("\(scenario.name)\t\(scenario.description)")
        }
        exit(0)
    }
    let logger = Logger(label: "twitter-upload-mock") { _ in
        guard let level = configuration.logLevel else { return SwiftLogNoOpLogHandler() }
        return JSONLinesLogHandler(level: level)
    }
    server = try UploadMockServer(configuration: configuration, logger: logger)
} catch {
    fail("\(error)")
}

do {
    try server.start()
} catch {
    fail("\(error)")
}
print("listening on \(server.baseURL)")
fflush(nil)
if let readyFile = command.readyFile {
    do {
        try ReadyFile.write(server.baseURL, to: readyFile)
    } catch {
        server.stop()
        fail("\(error)")
    }
}
if command.exitWithParent { ParentWatch.start() }
// Stop on SIGINT/SIGTERM: parked requests are released, connections closed, exit 0.
var received: Int32 = 0
while sigwait(&stopSignals, &received) != 0 {}
server.stop()
if let readyFile = command.readyFile { ReadyFile.remove(at: readyFile, ifItSays: server.baseURL) }
exit(0)
