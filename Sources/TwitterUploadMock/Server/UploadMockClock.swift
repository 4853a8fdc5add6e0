#if canImport(FoundationEssentials)
public import FoundationEssentials
#else
public import Foundation
#endif
public import UploadMockDomain
import UploadMockHTTP

/// The mock's virtual clock from Swift (docs/clock.md): session expiry, rate-limit windows and
/// timed processing read it, so a test covers hours in milliseconds.
///
/// ```swift
/// try mock.clock.advance(by: .seconds(86_400))   // every upload made so far has expired
/// try mock.clock.scoped(to: "worker-7").freeze() // one credential's clock stands still
/// mock.clock.reset()                             // every clock back to real time
/// ```
public struct UploadMockClock: Sendable {
    private let clocks: MockClock
    /// The credential whose clock this is (the token its requests carry); nil for the server's
    /// clock, which every credential without its own follows.
    public let scope: String?

    init(_ clocks: MockClock, scope: String?) {
        self.clocks = clocks
        self.scope = scope
    }

    /// One credential's clock: moving it gives that credential its own clock, starting where
    /// the server's reads, and leaves every other one alone.
    public func scoped(to token: String) -> UploadMockClock {
        UploadMockClock(clocks, scope: token)
    }

    /// What the clock reads.
    public var now: Date { clocks.now(in: scope) }

    /// Whether it stands still.
    public var isFrozen: Bool { clocks.status(in: scope).isFrozen }

    /// Moves the clock forward, frozen or not.
    public func advance(by duration: Duration) throws(ClockError) {
        try clocks.advance(by: duration.timeInterval, in: scope)
    }

    /// Sets the clock to `date` (2006-01-01 to 2100-01-01), frozen or not.
    public func set(_ date: Date) throws(ClockError) {
        try clocks.set(date, in: scope)
    }

    /// Stops the clock where it reads. Throws only when a scope would pass
    /// `MockConfiguration.maxScopedClocks`.
    public func freeze() throws(ClockError) {
        try clocks.freeze(in: scope)
    }

    /// Lets the clock run on from where it stands.
    public func resume() throws(ClockError) {
        try clocks.resume(in: scope)
    }

    /// The server's clock: every clock back to real time. A credential's: it follows the
    /// server's clock again.
    public func reset() {
        if let scope { clocks.follow(in: scope) } else { clocks.reset() }
    }
}
