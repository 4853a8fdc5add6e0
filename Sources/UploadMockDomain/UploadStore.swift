#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// All upload sessions, shared by every server thread. Each operation is one short critical
/// section; bytes are copied in (and read out) outside the lock.
///
/// Bounded (docs/configuration.md, Bounds): at most `maximumSessions` live sessions and
/// `maximumMemoryBytes` of media held in memory. Reaching either refuses the operation that
/// would pass it and keeps everything already stored. Expired sessions are evicted by a sweep
/// that runs whenever the number of sessions has doubled since the last one, so the cost per
/// operation stays constant.
final class UploadStore: Sendable {
    private struct Contents {
        var sessions: [UInt64: UploadSession] = [:]
        /// Each session's APPEND history, removed with it.
        var attempts: [UInt64: AttemptLog] = [:]
        /// Creation order, for listings; ids of evicted sessions are dropped at the next sweep.
        var order: [UInt64] = []
        /// Kept across resets, so an id never repeats.
        var ids: SnowflakeIDs
        /// Bytes of segments held in memory, over all sessions.
        var memoryBytes = 0
        /// Sessions after the last sweep; the next one runs at twice as many.
        var sweptCount = 0
    }

    private let contents: Mutex<Contents>
    private let maximumSessions: Int
    private let maximumMemoryBytes: Int

    init(seed: UInt64, maximumSessions: Int, maximumMemoryBytes: Int) {
        contents = Mutex(Contents(ids: SnowflakeIDs(seed: seed)))
        self.maximumSessions = maximumSessions
        self.maximumMemoryBytes = maximumMemoryBytes
    }

    /// Creates a session with a fresh id made at the wall time of `readings` (ids keep growing
    /// whatever the mock's clock does); expiry is judged on each session's own clock.
    func create(at readings: ClockReadings, _ make: (UInt64) -> UploadSession) throws(UploadFailure) -> UploadSession {
        // Expired sessions swept out of the store are released after the lock.
        var evicted: [UploadSession] = []
        defer { withExtendedLifetime(evicted) {} }
        return try contents.withLock { (contents) throws(UploadFailure) -> UploadSession in
            if contents.sessions.count >= max(64, 2 * contents.sweptCount) || contents.sessions.count >= maximumSessions {
                evicted = Self.sweep(&contents, at: readings)
            }
            guard contents.sessions.count < maximumSessions else {
                throw .overCapacity("\(maximumSessions) uploads are live (limits.max_sessions); reset, or let some expire")
            }
            let session = make(contents.ids.next(at: readings.wall))
            let bytes = session.memoryBytes
            guard contents.memoryBytes + bytes <= maximumMemoryBytes else {
                throw .overCapacity(Self.memoryFull(holding: contents.memoryBytes, adding: bytes, limit: maximumMemoryBytes))
            }
            contents.memoryBytes += bytes
            contents.sessions[session.mediaID] = session
            contents.order.append(session.mediaID)
            return session
        }
    }

    func session(_ id: UInt64) -> UploadSession? {
        contents.withLock { $0.sessions[id] }
    }

    /// A session with its APPEND history.
    func sessionWithAttempts(_ id: UInt64) -> (session: UploadSession, attempts: AttemptLog)? {
        contents.withLock { contents in
            contents.sessions[id].map { ($0, contents.attempts[id] ?? AttemptLog()) }
        }
    }

    /// How many APPENDs of one segment of a session ended so far; nil for an unknown id.
    func attemptCount(_ id: UInt64, segmentIndex: Int) -> Int? {
        contents.withLock { contents in
            contents.sessions[id] == nil ? nil : contents.attempts[id]?.count(forSegment: segmentIndex) ?? 0
        }
    }

    /// Adds to a session's APPEND history, in place; an unknown id keeps nothing.
    func recordAttempt(_ id: UInt64, _ attempt: SegmentAttempt) {
        contents.withLock { contents in
            guard contents.sessions[id] != nil else { return }
            contents.attempts[id, default: AttemptLog()].append(attempt)
        }
    }

    /// Runs `change` on the session under the lock; nothing is stored when it throws, or when
    /// the change would hold more media in memory than allowed.
    func update<Result>(_ id: UInt64, _ change: (inout UploadSession) throws(UploadFailure) -> Result) throws(UploadFailure) -> Result {
        try contents.withLock { (contents) throws(UploadFailure) -> Result in
            guard var session = contents.sessions[id] else { throw UploadFailure.unknownMediaID(id) }
            let before = session.memoryBytes
            let result = try change(&session)
            let after = session.memoryBytes
            if after > before, contents.memoryBytes - before + after > maximumMemoryBytes {
                throw .overCapacity(Self.memoryFull(holding: contents.memoryBytes, adding: after - before, limit: maximumMemoryBytes))
            }
            contents.memoryBytes += after - before
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
                contents.attempts = [:]
                contents.order = []
                contents.memoryBytes = 0
                contents.sweptCount = 0
            }
            return contents.sessions
        }
        // Released after the lock: deleting spool files takes system calls.
        withExtendedLifetime(removed) {}
    }

    /// Forgets the uploads `selected` picks.
    func removeAll(where selected: (UploadSession) -> Bool) {
        let removed = contents.withLock { contents in
            let removed = contents.sessions.values.filter(selected)
            for session in removed {
                contents.sessions[session.mediaID] = nil
                contents.attempts[session.mediaID] = nil
                contents.memoryBytes -= session.memoryBytes
            }
            contents.order.removeAll { contents.sessions[$0] == nil }
            return removed
        }
        // Released after the lock: deleting spool files takes system calls.
        withExtendedLifetime(removed) {}
    }

    /// Removes expired sessions; returns them so they are released outside the lock.
    private static func sweep(_ contents: inout Contents, at readings: ClockReadings) -> [UploadSession] {
        var evicted: [UploadSession] = []
        for (id, session) in contents.sessions where session.isExpired(at: readings.now(in: session.scope)) {
            evicted.append(session)
            contents.sessions[id] = nil
            contents.attempts[id] = nil
            contents.memoryBytes -= session.memoryBytes
        }
        if !evicted.isEmpty { contents.order.removeAll { contents.sessions[$0] == nil } }
        contents.sweptCount = contents.sessions.count
        return evicted
    }

    private static func memoryFull(holding: Int, adding: Int, limit: Int) -> String {
        "\(holding) bytes of media are held in memory and \(adding) more would pass limits.max_memory_bytes (\(limit)); reset, or spool to disk with --storage-dir"
    }
}
