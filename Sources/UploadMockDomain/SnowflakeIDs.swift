#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Media ids made the way the real service makes them (Twitter's snowflake): milliseconds
/// since 2010-11-04 in the high bits, then 10 machine bits and a 12-bit sequence, so
/// `(id >> 22) + 1288834974657` is the creation time. Real ids are above 2^53, which is what
/// catches a JavaScript client reading `media_id` as a number instead of `media_id_string`.
/// Ids only grow, so none repeats, even after a reset.
struct SnowflakeIDs: Sendable {
    static let epochMilliseconds: UInt64 = 1_288_834_974_657

    /// Datacenter and worker bits, taken from the seed.
    private let machine: UInt64
    private var lastMilliseconds: UInt64 = 0
    private var sequence: UInt64 = 0

    init(seed: UInt64) {
        machine = seed % 1024
    }

    mutating func next(at moment: Date) -> UInt64 {
        let clock = UInt64(max(0, (moment.timeIntervalSince1970 * 1000).rounded(.down)))
        var milliseconds = max(clock, Self.epochMilliseconds, lastMilliseconds)
        if milliseconds == lastMilliseconds {
            sequence += 1
            // 4,096 ids in one millisecond: borrow the next one, as snowflake waits for it.
            if sequence > 4095 {
                milliseconds += 1
                sequence = 0
            }
        } else {
            sequence = 0
        }
        lastMilliseconds = milliseconds
        return (milliseconds - Self.epochMilliseconds) << 22 | machine << 12 | sequence
    }

    /// When an id was made.
    static func creationTime(of id: UInt64) -> Date {
        Date(timeIntervalSince1970: Double((id >> 22) + epochMilliseconds) / 1000)
    }
}
