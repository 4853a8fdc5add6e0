/// The type and pixel size of an image, read from its first bytes: the real service reports
/// `w` and `h` from the media itself, never from what the client declared.
package struct ImageHeader: Equatable, Sendable {
    package var mediaType: String
    package var width: Int
    package var height: Int

    /// Reads PNG, GIF, JPEG or WebP; nil for anything else, truncated or malformed.
    package static func read(_ bytes: [UInt8]) -> ImageHeader? {
        let reader = ByteReader(bytes)
        return png(reader) ?? gif(reader) ?? jpeg(reader) ?? webp(reader)
    }

    private static func png(_ bytes: ByteReader) -> ImageHeader? {
        guard bytes.matches([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A], at: 0),
              bytes.matches(Array("IHDR".utf8), at: 12),
              let width = bytes.uint32BE(at: 16), let height = bytes.uint32BE(at: 20),
              width > 0, height > 0 else { return nil }
        return ImageHeader(mediaType: "image/png", width: Int(width), height: Int(height))
    }

    private static func gif(_ bytes: ByteReader) -> ImageHeader? {
        guard bytes.matches(Array("GIF87a".utf8), at: 0) || bytes.matches(Array("GIF89a".utf8), at: 0),
              let width = bytes.uint16LE(at: 6), let height = bytes.uint16LE(at: 8),
              width > 0, height > 0 else { return nil }
        return ImageHeader(mediaType: "image/gif", width: Int(width), height: Int(height))
    }

    /// Walks the JPEG segments to the first start-of-frame marker.
    private static func jpeg(_ bytes: ByteReader) -> ImageHeader? {
        guard bytes.matches([0xFF, 0xD8], at: 0) else { return nil }
        var offset = 2
        while let marker = bytes.byte(at: offset) {
            guard marker == 0xFF, var code = bytes.byte(at: offset + 1) else { return nil }
            // Fill bytes: any number of 0xFF may precede a marker code.
            while code == 0xFF {
                offset += 1
                guard let next = bytes.byte(at: offset + 1) else { return nil }
                code = next
            }
            offset += 2
            if code == 0xD8 || code == 0x01 || (0xD0...0xD7).contains(code) { continue }  // no length
            if code == 0xD9 || code == 0xDA { return nil }  // end of image or scan before any frame
            guard let length = bytes.uint16BE(at: offset), length >= 2 else { return nil }
            let isStartOfFrame = (0xC0...0xCF).contains(code) && ![0xC4, 0xC8, 0xCC].contains(code)
            if isStartOfFrame {
                guard let height = bytes.uint16BE(at: offset + 3), let width = bytes.uint16BE(at: offset + 5),
                      width > 0, height > 0 else { return nil }
                return ImageHeader(mediaType: "image/jpeg", width: Int(width), height: Int(height))
            }
            offset += Int(length)
        }
        return nil
    }

    private static func webp(_ bytes: ByteReader) -> ImageHeader? {
        guard bytes.matches(Array("RIFF".utf8), at: 0), bytes.matches(Array("WEBP".utf8), at: 8) else { return nil }
        var size: (Int, Int)?
        if bytes.matches(Array("VP8 ".utf8), at: 12) {
            // Lossy: a key frame start code, then 14-bit width and height.
            guard bytes.matches([0x9D, 0x01, 0x2A], at: 23),
                  let width = bytes.uint16LE(at: 26), let height = bytes.uint16LE(at: 28) else { return nil }
            size = (Int(width & 0x3FFF), Int(height & 0x3FFF))
        } else if bytes.matches(Array("VP8L".utf8), at: 12) {
            // Lossless: a signature byte, then width-1 and height-1 in 14 bits each.
            guard bytes.byte(at: 20) == 0x2F, let bits = bytes.uint32LE(at: 21) else { return nil }
            size = (Int(bits & 0x3FFF) + 1, Int((bits >> 14) & 0x3FFF) + 1)
        } else if bytes.matches(Array("VP8X".utf8), at: 12) {
            // Extended: canvas width-1 and height-1 in 24 bits each.
            guard let width = bytes.uint24LE(at: 24), let height = bytes.uint24LE(at: 27) else { return nil }
            size = (Int(width) + 1, Int(height) + 1)
        }
        guard let (width, height) = size, width > 0, height > 0 else { return nil }
        return ImageHeader(mediaType: "image/webp", width: width, height: height)
    }
}

/// Bounds-checked reads: every accessor answers nil past the end instead of trapping.
private struct ByteReader {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    func byte(at offset: Int) -> UInt8? {
        offset >= 0 && offset < bytes.count ? bytes[offset] : nil
    }

    func matches(_ expected: [UInt8], at offset: Int) -> Bool {
        offset >= 0 && offset + expected.count <= bytes.count && bytes[offset..<offset + expected.count].elementsEqual(expected)
    }

    private func value(at offset: Int, count: Int, bigEndian: Bool) -> UInt32? {
        guard offset >= 0, offset + count <= bytes.count else { return nil }
        let slice = bytes[offset..<offset + count]
        let ordered = bigEndian ? Array(slice) : slice.reversed()
        return ordered.reduce(0) { $0 << 8 | UInt32($1) }
    }

    func uint16BE(at offset: Int) -> UInt16? { value(at: offset, count: 2, bigEndian: true).map { UInt16($0) } }
    func uint16LE(at offset: Int) -> UInt16? { value(at: offset, count: 2, bigEndian: false).map { UInt16($0) } }
    func uint24LE(at offset: Int) -> UInt32? { value(at: offset, count: 3, bigEndian: false) }
    func uint32BE(at offset: Int) -> UInt32? { value(at: offset, count: 4, bigEndian: true) }
    func uint32LE(at offset: Int) -> UInt32? { value(at: offset, count: 4, bigEndian: false) }
}
