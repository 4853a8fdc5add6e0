#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import Synchronization

/// All upload sessions, shared by every server thread. Each operation is one short critical
/// section; bytes are copied in (and read out) outside the lock.
///
/// Bounded (docs/configuration.md, Bounds): at most `maximumSessions` live sessions, and what
/// they hold in memory drawn from the one memory budget (sessions draw as they change, see
/// `UploadSession.store` and `replaceText`; the store gives back what it removes). Reaching
/// either refuses the operation that would pass it and keeps everything already stored.
/// Expired sessions are evicted by a sweep that runs whenever the number of sessions has
/// doubled since the last one, so the cost per operation stays constant.
final class UploadStore: Sendable {
    private struct Contents {
        var sessions: [UInt64: UploadSession] = [:]
        /// Each session's APPEND history, removed with it.
        var attempts: [UInt64: AttemptLog] = [:]
        /// Creation order, for listings; ids of evicted sessions are dropped at the next sweep.
        var order: [UInt64] = []
        /// Kept across resets, so an id never repeats.
        var ids: SnowflakeIDs
        /// Sessions after the last sweep; the next one runs at twice as many.
        var sweptCount = 0
    }

    private let contents: Mutex<Contents>
    private let maximumSessions: Int
    private let memory: MemoryBudget

    init(seed: UInt64, maximumSessions: Int, memory: MemoryBudget) {
        contents = Mutex(Contents(ids: SnowflakeIDs(seed: seed)))
        self.maximumSessions = maximumSessions
        self.memory = memory
    }

    /// Creates a session with a fresh id made at the wall time of `readings` (ids keep growing
    /// whatever the mock's clock does); expiry is judged on each session's own clock. `make`
    /// draws on the memory budget for whatever the new session holds.
    func create(at readings: ClockReadings, _ make: (UInt64) throws(UploadFailure) -> UploadSession) throws(UploadFailure) -> UploadSession {
        // Expired sessions swept out of the store are released after the lock.
        var evicted: [UploadSession] = []
        defer { withExtendedLifetime(evicted) {} }
        return try contents.withLock { (contents) throws(UploadFailure) -> UploadSession in
            if contents.sessions.count >= max(64, 2 * contents.sweptCount) || contents.sessions.count >= maximumSessions {
                evicted = sweep(&contents, at: readings)
            }
            guard contents.sessions.count < maximumSessions else {
                throw .overCapacity("\(maximumSessions) uploads are live (limits.max_sessions); reset, or let some expire")
            }
            let session = try make(contents.ids.next(at: readings.wall))
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

    /// Runs `change` on the session in place, under the lock: no copy of its segments, so an
    /// APPEND costs the same however many came before. `change` checks before it changes
    /// anything, so a refusal leaves the session as it was; the session's own methods draw on
    /// the memory budget and throw before changing anything when it is spent.
    func update<Result>(_ id: UInt64, _ change: (inout UploadSession) throws(UploadFailure) -> Result) throws(UploadFailure) -> Result {
        try contents.withLock { (contents) throws(UploadFailure) -> Result in
            guard let position = contents.sessions.index(forKey: id) else { throw UploadFailure.unknownMediaID(id) }
            return try change(&contents.sessions.values[position])
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
                contents.sweptCount = 0
            }
            memory.release(contents.sessions.values.reduce(0) { $0 + $1.memoryBytes })
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
                memory.release(session.memoryBytes)
            }
            contents.order.removeAll { contents.sessions[$0] == nil }
            return removed
        }
        // Released after the lock: deleting spool files takes system calls.
        withExtendedLifetime(removed) {}
    }

    /// Removes expired sessions; returns them so they are released outside the lock.
    private func sweep(_ contents: inout Contents, at readings: ClockReadings) -> [UploadSession] {
        var evicted: [UploadSession] = []
        for (id, session) in contents.sessions where session.isExpired(at: readings.now(in: session.scope)) {
            evicted.append(session)
            contents.sessions[id] = nil
            contents.attempts[id] = nil
            memory.release(session.memoryBytes)
        }
        if !evicted.isEmpty { contents.order.removeAll { contents.sessions[$0] == nil } }
        contents.sweptCount = contents.sessions.count
        return evicted
    }
}
