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
        ("extended.webp", "image/webp", 162, 122),
    ])
    func reads(_ name: String, _ type: String, _ width: Int, _ height: Int) throws {
        #expect(ImageHeader.read(try Self.fixture(name)) == ImageHeader(mediaType: type, width: width, height: height))
    }

    @Test("text is not an image")
    func notAnImage() throws {
        #expect(ImageHeader.read(try Self.fixture("not-an-image.png")) == nil)
        #expect(ImageHeader.read(try Self.fixture("clip.mp4")) == nil)
    }

    @Test("every prefix and thousands of mutations never crash")
    func fuzz() throws {
        var generator = SeededGenerator(seed: 5)
        for name in ["pixel.png", "animated.gif", "photo.jpg", "lossy.webp", "lossless.webp", "extended.webp"] {
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
