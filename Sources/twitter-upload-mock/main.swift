import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import TwitterUploadMock

/// Bad flags and bad config files end here: one line on stderr, exit 2, no stack trace.
func fail(_ message: String) -> Never {
    let line = Array("twitter-upload-mock: \(message)\n".utf8)
    _ = write(STDERR_FILENO, line, line.count)
    exit(2)
}

// SIGINT and SIGTERM stay blocked in every thread (threads inherit the mask) until the main
// thread takes them with sigwait below: one that arrives during startup waits there instead of
// killing the process or being dropped, so a launcher that stops the server at once gets exit 0.
var stopSignals = sigset_t()
sigemptyset(&stopSignals)
sigaddset(&stopSignals, SIGINT)
sigaddset(&stopSignals, SIGTERM)
pthread_sigmask(SIG_BLOCK, &stopSignals, nil)

let command: MockCommand
do {
    command = try MockCommand.parse(Array(CommandLine.arguments.dropFirst()))
} catch {
    if MockCommand.exitCode(for: error) == .success { MockCommand.exit(withError: error) }
    let message = MockCommand.message(for: error).split(separator: "\n").first.map(String.init) ?? "invalid arguments"
    fail(message.hasPrefix("Error: ") ? String(message.dropFirst(7)) : message)
}

let server: UploadMockServer
do {
    server = try UploadMockServer(configuration: try command.mockConfiguration())
    try server.start()
} catch {
    fail("\(error)")
}

print("listening on \(server.baseURL)")
fflush(nil)
if let readyFile = command.readyFile {
    do {
        try writeAtomically(server.baseURL, to: readyFile)
    } catch {
        server.stop()
        fail("cannot write --ready-file \(readyFile): \(error)")
    }
}

// Stop on SIGINT/SIGTERM: parked requests are released, connections closed, exit 0.
var received: Int32 = 0
sigwait(&stopSignals, &received)
server.stop()
exit(0)
