/// Feeds `body` in pieces of the given sizes (the last size repeats; none = one piece), as a
/// socket might deliver it.
func feedInPieces(_ body: [UInt8], pieces: [Int], _ feed: (UnsafeRawBufferPointer) throws -> Void) rethrows {
    try body.withUnsafeBytes { whole in
        var offset = 0
        var sizes = pieces[...]
        while offset < whole.count {
            let size = min(sizes.count > 1 ? sizes.removeFirst() : sizes.first ?? whole.count, whole.count - offset)
            try feed(UnsafeRawBufferPointer(rebasing: whole[offset..<offset + size]))
            offset += size
        }
    }
}
