import Synchronization

/// The one memory budget, `limits.max_memory_bytes`, that everything the mock holds in memory
/// for clients draws from (docs/configuration.md, Bounds): segments kept in memory, each
/// upload's text (alt text, `/2/media/metadata` values, subtitle tracks), and the bytes of
/// request bodies still arriving. Whatever would pass it is refused, before anything changes,
/// with the over-capacity failure every dialect answers 503.
///
/// Cheap enough for every piece of a body: one atomic compare-and-swap per call, no lock.
///
/// A request that buffers its body (a JSON append, urlencoded `media_data`) takes from the
/// budget as the bytes arrive and gives back when the buffer is freed:
///
/// ```swift
/// var held = uploads.memory.reservation()        // one per request
/// try held.grow(by: piece.count)                 // per piece, before it is appended to the buffer;
///                                                // throws .overCapacity: answer 503, keep nothing
/// … hand the complete body to the domain …       // a segment it stores is counted again, as it is
///                                                // a second copy until the buffer goes
/// held.releaseAll()                              // when the buffer is freed (deinit does it too)
/// ```
///
/// `reserve(_:)` and `release(_:)` are the primitives behind it, for callers that keep their
/// own count.
package final class MemoryBudget: Sendable {
    /// `limits.max_memory_bytes`.
    package let limit: Int
    private let used = Atomic<Int>(0)

    package init(limit: Int) {
        self.limit = limit
    }

    /// Bytes held now.
    package var usedBytes: Int { used.load(ordering: .relaxed) }

    /// Takes `bytes` from the budget, or nothing when that would pass the limit.
    package func tryReserve(_ bytes: Int) -> Bool {
        guard bytes > 0 else { return true }
        var current = used.load(ordering: .relaxed)
        while true {
            guard bytes <= limit - current else { return false }
            let (exchanged, found) = used.compareExchange(expected: current, desired: current + bytes, ordering: .relaxed)
            if exchanged { return true }
            current = found
        }
    }

    /// Takes `bytes` from the budget, or throws the over-capacity failure (503 in every
    /// dialect, its message naming the key) and takes nothing.
    package func reserve(_ bytes: Int) throws(UploadFailure) {
        guard tryReserve(bytes) else { throw overCapacity(adding: bytes) }
    }

    /// Gives back bytes taken earlier.
    package func release(_ bytes: Int) {
        guard bytes > 0 else { return }
        used.subtract(bytes, ordering: .relaxed)
    }

    /// Takes `delta` bytes when positive (or throws, taking nothing), gives them back when negative.
    func change(by delta: Int) throws(UploadFailure) {
        if delta > 0 { try reserve(delta) } else { release(-delta) }
    }

    /// A running count for one request's buffer, released at the latest when it goes.
    package func reservation() -> MemoryReservation {
        MemoryReservation(budget: self)
    }

    /// The refusal of `bytes` more.
    package func overCapacity(adding bytes: Int) -> UploadFailure {
        .overCapacity("\(usedBytes) bytes are held in memory (media, upload text and request bodies arriving) and "
                      + "\(bytes) more would pass limits.max_memory_bytes (\(limit)); reset, or spool media to disk with --storage-dir")
    }
}

/// What one request holds of the memory budget: grown as its body arrives, given back at once
/// when the buffer is freed, and in any case when the reservation itself goes, so a connection
/// that vanishes mid-body can never leak budget. A value its request owns (no allocation per
/// request), never copied, so the bytes are given back exactly once.
package struct MemoryReservation: ~Copyable, Sendable {
    private let budget: MemoryBudget
    /// Bytes held by this reservation.
    package private(set) var bytes = 0

    fileprivate init(budget: MemoryBudget) {
        self.budget = budget
    }

    deinit {
        budget.release(bytes)
    }

    /// Takes `count` more, or throws the over-capacity failure and takes nothing.
    package mutating func grow(by count: Int) throws(UploadFailure) {
        guard count > 0 else { return }
        try budget.reserve(count)
        bytes += count
    }

    /// Gives back everything held (the buffer was freed).
    package mutating func releaseAll() {
        budget.release(bytes)
        bytes = 0
    }
}
