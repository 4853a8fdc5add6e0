#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// All upload sessions, shared by every server thread. Each operation is one short critical
/// section; bytes are copied in (and read out) outside the lock.
final class UploadStore: Sendable {
    private struct Contents {
        var sessions: [UInt64: UploadSession] = [:]
        var order: [UInt64] = []
        var generator: SeededGenerator
    }

    private let contents: Mutex<Contents>
    private let seed: UInt64

    init(seed: UInt64) {
        self.seed = seed
        contents = Mutex(Contents(generator: SeededGenerator(seed: seed)))
    }

    /// Creates a session with a fresh 64-bit id in the range real ids occupy (19 digits).
    func create(_ make: (UInt64) -> UploadSession) -> UploadSession {
        contents.withLock { contents in
            var id: UInt64
            repeat {
                id = UInt64.random(in: 1_000_000_000_000_000_000...UInt64(Int64.max), using: &contents.generator)
            } while contents.sessions[id] != nil
            let session = make(id)
            contents.sessions[id] = session
            contents.order.append(id)
            return session
        }
    }

    func session(_ id: UInt64) -> UploadSession? {
        contents.withLock { $0.sessions[id] }
    }

    /// Runs `change` on the session under the lock; nothing is stored when it throws.
    func update<Result>(_ id: UInt64, _ change: (inout UploadSession) throws(UploadFailure) -> Result) throws(UploadFailure) -> Result {
        try contents.withLock { (contents) throws(UploadFailure) -> Result in
            guard var session = contents.sessions[id] else { throw UploadFailure.unknownMediaID(id) }
            let result = try change(&session)
            contents.sessions[id] = session
            return result
        }
    }

    /// Every session in creation order.
    func all() -> [UploadSession] {
        contents.withLock { contents in contents.order.compactMap { contents.sessions[$0] } }
    }

    /// Forgets every upload; spooled files go once nothing streams them any more. Ids start
    /// again from the seed, so a reset run repeats exactly.
    func removeAll() {
        let removed = contents.withLock { contents in
            defer { contents = Contents(generator: SeededGenerator(seed: seed)) }
            return contents.sessions
        }
        // Released after the lock: deleting spool files takes system calls.
        withExtendedLifetime(removed) {}
    }
}
