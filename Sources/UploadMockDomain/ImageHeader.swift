/// The type and pixel size of an image, read from its first bytes: the real service reports
/// `w` and `h` from the media itself, never from what the client declared.
package struct ImageHeader: Equatable, Sendable {
    package var mediaType: String
    package var width: Int
    package var height: Int

    /// Reads PNG, GIF, JPEG, WebP, BMP or TIFF; nil for anything else, truncated or malformed.
    package static func read(_ bytes: [UInt8]) -> ImageHeader? {
        let reader = ByteReader(bytes)
        return png(reader) ?? gif(reader) ?? jpeg(reader) ?? webp(reader) ?? bmp(reader) ?? tiff(reader)
    }

    /// How many bytes from the start `read` needs for this image, when a prefix of it is not
    /// enough: TIFF writers may put the directory that holds the size anywhere, often after
    /// the pixels. Nil when the prefix is not such a TIFF.
    package static func bytesNeeded(after prefix: [UInt8]) -> Int? {
        let reader = ByteReader(prefix)
        guard let order = TIFFByteOrder(reader), let directory = reader.uint32(at: 4, bigEndian: order.bigEndian),
              Int(directory) + tiffDirectoryBytes > prefix.count else { return nil }
        return Int(directory) + tiffDirectoryBytes
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

// MARK: BMP and TIFF

extension ImageHeader {
    /// A BMP file header, then the DIB header: OS/2's 12-byte core header holds 16-bit sizes,
    /// every later version signed 32-bit ones (a negative height means top-down rows).
    private static func bmp(_ bytes: ByteReader) -> ImageHeader? {
        guard bytes.matches(Array("BM".utf8), at: 0), let dibSize = bytes.uint32LE(at: 14) else { return nil }
        let width: Int, height: Int
        if dibSize == 12 {
            guard let w = bytes.uint16LE(at: 18), let h = bytes.uint16LE(at: 20) else { return nil }
            (width, height) = (Int(w), Int(h))
        } else {
            guard dibSize >= 40, let w = bytes.uint32LE(at: 18), let h = bytes.uint32LE(at: 22) else { return nil }
            (width, height) = (Int(Int32(bitPattern: w)), abs(Int(Int32(bitPattern: h))))
        }
        guard width > 0, height > 0 else { return nil }
        return ImageHeader(mediaType: "image/bmp", width: width, height: height)
    }

    /// Room read after a TIFF directory's offset: its entry count and the first 16 entries.
    /// Entries are sorted by tag, so ImageWidth (256) and ImageLength (257) come within the
    /// first four.
    fileprivate static let tiffDirectoryBytes = 2 + 16 * 12

    /// The first image file directory's ImageWidth and ImageLength, SHORT or LONG.
    private static func tiff(_ bytes: ByteReader) -> ImageHeader? {
        guard let order = TIFFByteOrder(bytes), let offset = bytes.uint32(at: 4, bigEndian: order.bigEndian),
              let count = bytes.uint16(at: Int(offset), bigEndian: order.bigEndian) else { return nil }
        var width: UInt32?, height: UInt32?
        for index in 0..<min(Int(count), 16) {
            let entry = Int(offset) + 2 + index * 12
            guard let tag = bytes.uint16(at: entry, bigEndian: order.bigEndian),
                  let type = bytes.uint16(at: entry + 2, bigEndian: order.bigEndian) else { return nil }
            // A SHORT value sits in the first two bytes of the value field, a LONG fills it.
            let value: UInt32? = switch type {
            case 3: bytes.uint16(at: entry + 8, bigEndian: order.bigEndian).map(UInt32.init)
            case 4: bytes.uint32(at: entry + 8, bigEndian: order.bigEndian)
            default: nil
            }
            if tag == 256 { width = value }
            if tag == 257 { height = value }
        }
        guard let width, let height, width > 0, height > 0 else { return nil }
        return ImageHeader(mediaType: "image/tiff", width: Int(width), height: Int(height))
    }
}

/// `II*\0` (little-endian) or `MM\0*` (big-endian).
private struct TIFFByteOrder {
    let bigEndian: Bool

    init?(_ bytes: ByteReader) {
        if bytes.matches([0x49, 0x49, 0x2A, 0x00], at: 0) {
            bigEndian = false
        } else if bytes.matches([0x4D, 0x4D, 0x00, 0x2A], at: 0) {
            bigEndian = true
        } else {
            return nil
        }
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
    func uint16(at offset: Int, bigEndian: Bool) -> UInt16? { value(at: offset, count: 2, bigEndian: bigEndian).map { UInt16($0) } }
    func uint32(at offset: Int, bigEndian: Bool) -> UInt32? { value(at: offset, count: 4, bigEndian: bigEndian) }
}
