/// What became of each segment index an upload has seen, from 0 to the highest one stored or
/// tried: the text timeline a failing test prints (docs/dashboard.md) draws it one character
/// per index. The dashboard draws the same map from the report's segments and attempts.
package struct SegmentMap: Sendable, Equatable {
    package enum State: Sendable, Equatable {
        /// Stored, sent once.
        case arrived
        /// Stored after more than one APPEND of it.
        case retried
        /// Sent, never stored: every APPEND of it was refused or lost.
        case refused
        /// Never sent, though a later index was.
        case missing
    }

    /// By segment index; empty before the first APPEND.
    package var states: [State]

    package init(stored: some Collection<Int>, attempts: [SegmentAttempt]) {
        let tries = Dictionary(grouping: attempts, by: \.segmentIndex).mapValues(\.count)
        let highest = max(stored.max() ?? -1, tries.keys.max() ?? -1)
        let storedIndexes = Set(stored)
        states = (0..<(highest + 1)).map { index in
            let sent = tries[index] ?? 0
            if storedIndexes.contains(index) { return sent > 1 ? .retried : .arrived }
            return sent > 0 ? .refused : .missing
        }
    }
}
