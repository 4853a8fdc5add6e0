import Foundation
import Testing
@testable import UploadMockDomain

@Suite("Image headers")
struct ImageHeaderTests {
    static let media = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../Fixtures/media").standardized

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: media.appendingPathComponent(name)))
    }

    @Test("width and height come from the bytes", arguments: [
        ("pixel.png", "image/png", 300, 200), ("animated.gif", "image/gif", 320, 240),
        ("photo.jpg", "image/jpeg", 640, 480), ("progressive.jpg", "image/jpeg", 200, 150),
        ("lossy.webp", "image/webp", 160, 120), ("lossless.webp", "image/webp", 161, 121),
        ("extended.webp", "image/webp", 162, 122), ("bitmap.bmp", "image/bmp", 120, 90),
        ("scan.tiff", "image/tiff", 130, 95), ("big-endian.tiff", "image/tiff", 256, 100),
    ])
    func reads(_ name: String, _ type: String, _ width: Int, _ height: Int) throws {
        #expect(ImageHeader.read(try Self.fixture(name)) == ImageHeader(mediaType: type, width: width, height: height))
    }

    @Test("BMP: OS/2 core headers hold 16-bit sizes; a negative height means top-down rows")
    func bmpVariants() {
        let core: [UInt8] = Array("BM".utf8) + Array(repeating: 0, count: 12) + [12, 0, 0, 0, 0x2C, 0x01, 0xC8, 0x00]
        #expect(ImageHeader.read(core) == ImageHeader(mediaType: "image/bmp", width: 300, height: 200))
        let topDown: [UInt8] = Array("BM".utf8) + Array(repeating: 0, count: 12) + [40, 0, 0, 0]
            + [0x40, 0, 0, 0] + [0xE0, 0xFF, 0xFF, 0xFF]  // width 64, height -32
        #expect(ImageHeader.read(topDown) == ImageHeader(mediaType: "image/bmp", width: 64, height: 32))
        let zeroWidth: [UInt8] = Array("BM".utf8) + Array(repeating: 0, count: 12) + [40, 0, 0, 0] + [0, 0, 0, 0, 1, 0, 0, 0]
        #expect(ImageHeader.read(zeroWidth) == nil)
    }

    @Test("a TIFF whose directory lies past the first 64 KiB says how much it needs")
    func tiffDirectoryFarIn() throws {
        let tiff = try Self.fixture("big-endian.tiff")
        let prefix = Array(tiff.prefix(64 * 1024))
        #expect(ImageHeader.read(prefix) == nil)
        let needed = try #require(ImageHeader.bytesNeeded(after: prefix))
        #expect(needed > prefix.count && needed <= tiff.count + 2 + 16 * 12)
        #expect(ImageHeader.read(Array(tiff.prefix(needed))) == ImageHeader(mediaType: "image/tiff", width: 256, height: 100))
        #expect(ImageHeader.bytesNeeded(after: try Self.fixture("scan.tiff")) == nil, "its directory is in the prefix")
        #expect(ImageHeader.bytesNeeded(after: try Self.fixture("pixel.png")) == nil)
    }

    @Test("text is not an image")
    func notAnImage() throws {
        #expect(ImageHeader.read(try Self.fixture("not-an-image.png")) == nil)
        #expect(ImageHeader.read(try Self.fixture("clip.mp4")) == nil)
    }

    @Test("every prefix and thousands of mutations never crash")
    func fuzz() throws {
        var generator = SeededGenerator(seed: 5)
        for name in ["pixel.png", "animated.gif", "photo.jpg", "lossy.webp", "lossless.webp", "extended.webp", "bitmap.bmp",
                     "scan.tiff"] {
            let bytes = Array(try Self.fixture(name).prefix(2048))
            for length in 0..<bytes.count { _ = ImageHeader.read(Array(bytes.prefix(length))) }
            for _ in 0..<500 {
                var mutated = bytes
                for _ in 0..<4 { mutated[Int.random(in: 0..<mutated.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator) }
                _ = ImageHeader.read(mutated)
            }
        }
    }
}
