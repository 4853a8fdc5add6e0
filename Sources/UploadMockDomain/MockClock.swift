#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
import Synchronization

/// One clock's setting: the wall clock moved by an offset, or stopped at an instant.
struct ClockSetting: Sendable, Equatable {
    private enum Mode: Equatable {
        case running(offset: TimeInterval)
        case frozen(at: Date)
    }

    private var mode = Mode.running(offset: 0)

    /// Real time: no offset, running.
    static let real = ClockSetting()

    var isReal: Bool { mode == .running(offset: 0) }

    var isFrozen: Bool {
        if case .frozen = mode { return true }
        return false
    }

    /// A running clock set near the end of its range stops there rather than run past it.
    func now(wall: Date) -> Date {
        switch mode {
        case .running(let offset): min(wall.addingTimeInterval(offset), MockClock.range.upperBound)
        case .frozen(let instant): instant
        }
    }

    /// Moves the reading to `instant`, frozen or running as before.
    mutating func set(_ instant: Date, wall: Date) {
        mode = isFrozen ? .frozen(at: instant) : .running(offset: instant.timeIntervalSince(wall))
    }

    /// Stops at the current reading; a frozen clock stays where it is.
    mutating func freeze(wall: Date) {
        if !isFrozen { mode = .frozen(at: now(wall: wall)) }
    }

    /// Runs on from the current reading; a running clock is unchanged.
    mutating func resume(wall: Date) {
        if case .frozen(let instant) = mode { mode = .running(offset: instant.timeIntervalSince(wall)) }
    }
}

/// Why a clock change was refused; nothing changed.
public enum ClockError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `advance` takes a duration of zero or more: a clock that moves back would make windows
    /// and expiries run backwards (`set` moves it anywhere in range).
    case backwards(seconds: Double)
    /// The clock would read this instant, outside 2006-01-01 to 2100-01-01 (docs/clock.md).
    case outOfRange(Date)
    /// A scope asked for its own clock while `admin.max_scoped_clocks` scopes have one.
    case tooManyScopedClocks(limit: Int)

    public var description: String {
        switch self {
        case .backwards(let seconds):
            "the clock advances by zero seconds or more, not \(seconds); set it to an earlier time instead"
        case .outOfRange(let instant):
            "the clock would read \(MockClock.epochSeconds(instant)) seconds since 1970, outside \(MockClock.describe(MockClock.range.lowerBound)) to \(MockClock.describe(MockClock.range.upperBound))"
        case .tooManyScopedClocks(let limit):
            "\(limit) scopes have their own clock (admin.max_scoped_clocks): reset one (DELETE /__admin/clock with its X-Mock-Scope) or all of them first"
        }
    }
}

/// What `GET /__admin/clock` answers for one clock (docs/clock.md).
package struct ClockStatus: Sendable, Equatable {
    /// What the clock reads.
    package var now: Date
    /// Whether it stands still until resumed (`advance` and `set` still move it).
    package var isFrozen: Bool
    /// How far it reads from the wall clock, in seconds (negative: behind).
    package var offsetSeconds: Double
}

/// Every clock at one moment, read under one lock: the wall clock, the server's clock and the
/// clocks of scopes that have their own. A value, so code holding another lock reads it freely.
package struct ClockReadings: Sendable {
    /// The real time when these readings were taken.
    package let wall: Date
    fileprivate let server: ClockSetting
    fileprivate let scoped: [String: ClockSetting]

    private func setting(in scope: String?) -> ClockSetting {
        scope.flatMap { scoped[$0] } ?? server
    }

    /// The time on `scope`'s clock: its own, or else the server's (nil: the server's).
    package func now(in scope: String?) -> Date {
        setting(in: scope).now(wall: wall)
    }

    /// True while `scope`'s clock reads real time (never moved nor frozen), so its readings
    /// need no mention beside the wall clock's.
    package func isReal(in scope: String?) -> Bool {
        setting(in: scope).isReal
    }

    /// True while every clock reads real time: then no caller needs to know its scope.
    package var allReal: Bool { server.isReal && scoped.isEmpty }
}

/// The mock's virtual clock (docs/clock.md): the server's clock, which every scope follows,
/// and the clocks of scopes (credentials, `X-Mock-Scope`) that were given their own. Session
/// expiry, rate-limit windows and timed processing read it; the connection (delays, timeouts),
/// OAuth timestamps and media ids stay on the wall clock.
///
/// Hand-written rather than pointfreeco/swift-clocks: its `TestClock` drives Swift
/// concurrency's sleeps with instants that carry no calendar date, while the mock needs epoch
/// seconds, read by libmicrohttpd's threads and changed by the admin API.
package final class MockClock: Sendable {
    /// The readings a clock may take: a clock before X existed, or past 2100, would only find
    /// overflows in clients.
    package static let range = Date(timeIntervalSince1970: 1_136_073_600)...Date(timeIntervalSince1970: 4_102_444_800)

    private struct State {
        var server = ClockSetting.real
        var scoped: [String: ClockSetting] = [:]
    }

    private let state = Mutex(State())
    /// Whether every clock reads real time (most runs never move one): written under the lock
    /// with every change, so a reading then needs no lock.
    private let allReal = Atomic<Bool>(true)
    private let wall: @Sendable () -> Date
    /// Scopes that may have their own clock at once.
    package let maximumScopedClocks: Int

    /// - Parameter wall: the real time; tests pass their own.
    package init(maximumScopedClocks: Int = 10_000, wall: @escaping @Sendable () -> Date = { Date() }) {
        self.maximumScopedClocks = maximumScopedClocks
        self.wall = wall
    }

    /// Every clock now.
    package func readings() -> ClockReadings {
        let wall = wall()
        if allReal.load(ordering: .acquiring) { return ClockReadings(wall: wall, server: .real, scoped: [:]) }
        return state.withLock { ClockReadings(wall: wall, server: $0.server, scoped: $0.scoped) }
    }

    /// The time on `scope`'s clock (nil: the server's).
    package func now(in scope: String? = nil) -> Date {
        readings().now(in: scope)
    }

    /// What `scope`'s clock reads, and how.
    package func status(in scope: String? = nil) -> ClockStatus {
        let wall = wall()
        let setting = state.withLock { state in scope.flatMap { state.scoped[$0] } ?? state.server }
        let now = setting.now(wall: wall)
        return ClockStatus(now: now, isFrozen: setting.isFrozen, offsetSeconds: now.timeIntervalSince(wall))
    }

    /// Moves `scope`'s clock forward, frozen or not. A scope without its own clock gets one,
    /// starting where the server's reads; nil moves the server's (and every scope following it).
    package func advance(by seconds: Double, in scope: String? = nil) throws(ClockError) {
        guard seconds >= 0 else { throw .backwards(seconds: seconds) }
        try change(scope) { (setting, wall) throws(ClockError) in
            let target = setting.now(wall: wall).addingTimeInterval(seconds)
            guard Self.range.contains(target) else { throw .outOfRange(target) }
            setting.set(target, wall: wall)
        }
    }

    /// Sets `scope`'s clock to `instant`, frozen or not.
    package func set(_ instant: Date, in scope: String? = nil) throws(ClockError) {
        guard Self.range.contains(instant) else { throw .outOfRange(instant) }
        try change(scope) { setting, wall in setting.set(instant, wall: wall) }
    }

    /// Stops `scope`'s clock where it reads.
    package func freeze(in scope: String? = nil) throws(ClockError) {
        try change(scope) { setting, wall in setting.freeze(wall: wall) }
    }

    /// Lets `scope`'s clock run on from where it stands.
    package func resume(in scope: String? = nil) throws(ClockError) {
        try change(scope) { setting, wall in setting.resume(wall: wall) }
    }

    /// A scope goes back to following the server's clock.
    package func follow(in scope: String) {
        state.withLock { state in
            state.scoped.removeValue(forKey: scope)
            publish(state)
        }
    }

    /// Every clock back to real time.
    package func reset() {
        state.withLock { state in
            state = State()
            publish(state)
        }
    }

    private func publish(_ state: State) {
        allReal.store(state.server.isReal && state.scoped.isEmpty, ordering: .releasing)
    }

    private func change(_ scope: String?, _ apply: (inout ClockSetting, Date) throws(ClockError) -> Void) throws(ClockError) {
        let wall = wall()
        try state.withLock { (state) throws(ClockError) in
            defer { publish(state) }
            guard let scope else { return try apply(&state.server, wall) }
            var setting = state.scoped[scope] ?? state.server
            if state.scoped[scope] == nil, state.scoped.count >= maximumScopedClocks {
                throw .tooManyScopedClocks(limit: maximumScopedClocks)
            }
            try apply(&setting, wall)
            state.scoped[scope] = setting
        }
    }

    /// `2006-01-01T00:00:00Z (1136073600)`: how messages name an instant in range.
    static func describe(_ instant: Date) -> String {
        "\(instant.formatted(.iso8601)) (\(epochSeconds(instant)))"
    }

    /// Whole seconds when the instant has no fraction, as written to JSON otherwise.
    package static func epochSeconds(_ instant: Date) -> String {
        let seconds = instant.timeIntervalSince1970
        return seconds == seconds.rounded() && abs(seconds) < 1e15 ? String(Int64(seconds)) : String(seconds)
    }
}
