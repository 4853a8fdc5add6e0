#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension ProcessingSimulation {
    /// How long processing of `category` takes on the clock; nil when STATUS polls count instead.
    func duration(for category: MediaCategory?) -> Int? {
        category.flatMap { durationSecondsByCategory[$0.rawValue] } ?? durationSeconds
    }

    /// Where processing stands (docs/api.md, Processing; docs/clock.md, Timed processing): after
    /// `polls` STATUS polls, or, when timed, `elapsed` seconds of clock time after FINALIZE.
    /// FINALIZE (no poll yet) answers `pending` until the result is in.
    func progress(polls: Int, elapsed: TimeInterval, category: MediaCategory?) -> ProcessingState {
        let outcome: ProcessingState = result == .succeeded ? .succeeded : .failed(error)
        guard let duration = duration(for: category) else {
            // With polls_until_done 0 FINALIZE already reports the result (recorded for a 19 MB video).
            if polls == 0, pollsUntilDone > 0 { return .pending(checkAfterSeconds: checkAfterSeconds) }
            if polls < pollsUntilDone {
                return .inProgress(checkAfterSeconds: checkAfterSeconds, percent: polls * 100 / max(pollsUntilDone, 1))
            }
            return outcome
        }
        // A clock set back before FINALIZE reads as no progress yet.
        let elapsed = max(0, elapsed)
        let remaining = TimeInterval(duration) - elapsed
        guard remaining > 0 else { return outcome }
        // Never past the end, so a client that waits as told sees the result on time.
        let checkAfter = min(checkAfterSeconds, Int(remaining.rounded(.up)))
        if polls == 0 { return .pending(checkAfterSeconds: checkAfter) }
        return .inProgress(checkAfterSeconds: checkAfter, percent: min(99, Int(elapsed * 100 / TimeInterval(duration))))
    }
}
