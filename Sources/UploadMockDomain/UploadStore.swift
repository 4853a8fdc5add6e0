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
        /// Kept across resets, so an id never repeats.
        var ids: SnowflakeIDs
    }

    private let contents: Mutex<Contents>

    init(seed: UInt64) {
        contents = Mutex(Contents(ids: SnowflakeIDs(seed: seed)))
    }

    /// Creates a session with a fresh id made at `moment`.
    func create(at moment: Date, _ make: (UInt64) -> UploadSession) -> UploadSession {
        contents.withLock { contents in
            let id = contents.ids.next(at: moment)
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

    /// Forgets every upload; spooled files go once nothing streams them any more.
    func removeAll() {
        let removed = contents.withLock { contents in
            defer {
                contents.sessions = [:]
                contents.order = []
            }
            return contents.sessions
        }
        // Released after the lock: deleting spool files takes system calls.
        withExtendedLifetime(removed) {}
    }
}
