"""Regenerates the media fixtures deterministically (needs Pillow: pip install pillow).

Only the committed files are used by tests; this script documents how they were made.
"""
import hashlib
from pathlib import Path

from PIL import Image, ImageDraw

HERE = Path(__file__).resolve().parent


def picture(width, height, seed):
    image = Image.new("RGB", (width, height), (seed * 40 % 256, 90, 160))
    draw = ImageDraw.Draw(image)
    for step in range(0, width, 17):
        draw.line([(step, 0), (width - step, height)], fill=((step * 7 + seed) % 256, 200, 40), width=3)
    return image


picture(300, 200, 1).save(HERE / "pixel.png", optimize=True)
frames = [picture(320, 240, seed).convert("P", palette=Image.ADAPTIVE) for seed in (2, 3)]
frames[0].save(HERE / "animated.gif", save_all=True, append_images=frames[1:], duration=200, loop=0)
exif = Image.Exif()
exif[0x010F] = "twitter-upload-mock"  # Make: puts an APP1 segment before the frame header
picture(640, 480, 4).save(HERE / "photo.jpg", quality=80, exif=exif.tobytes())
picture(200, 150, 5).save(HERE / "progressive.jpg", quality=80, progressive=True)
picture(160, 120, 6).save(HERE / "lossy.webp", quality=70)
picture(161, 121, 7).save(HERE / "lossless.webp", lossless=True)
picture(162, 122, 8).convert("RGBA").save(HERE / "extended.webp", quality=70, exif=exif.tobytes())
picture(120, 90, 9).save(HERE / "bitmap.bmp")
picture(130, 95, 10).save(HERE / "scan.tiff")  # little-endian, its directory right after the header


def big_endian_tiff(width, height):
    """An uncompressed big-endian RGB TIFF whose directory comes after 64 KiB of pixels, as
    libtiff writes them: a reader must look past the first 64 KiB for the size."""
    import struct
    pixels = bytes((x * 3 + y) % 256 for y in range(height) for x in range(width * 3))
    directory_offset = 8 + len(pixels)
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 3, None), (259, 3, 1, 1), (262, 3, 1, 2),
               (273, 4, 1, 8), (277, 3, 1, 3), (278, 3, 1, height), (279, 4, 1, len(pixels))]
    bits_offset = directory_offset + 2 + 12 * len(entries) + 4
    directory = struct.pack(">H", len(entries))
    for tag, kind, count, value in entries:
        if value is None:
            field = struct.pack(">I", bits_offset)
        elif kind == 3:
            field = struct.pack(">HH", value, 0)
        else:
            field = struct.pack(">I", value)
        directory += struct.pack(">HHI", tag, kind, count) + field
    directory += struct.pack(">I", 0) + struct.pack(">HHH", 8, 8, 8)
    return b"MM\x00\x2a" + struct.pack(">I", directory_offset) + pixels + directory


(HERE / "big-endian.tiff").write_bytes(big_endian_tiff(256, 100))
(HERE / "not-an-image.png").write_bytes(b"this is plain text pretending to be a PNG\n" * 4)

# A pseudo-video: an ftyp box, then deterministic bytes (not playable; the mock never decodes video).
blocks = [b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"]
digest = b"twitter-upload-mock"
while sum(map(len, blocks)) < 1_500_000:
    digest = hashlib.sha256(digest).digest()
    blocks.append(digest * 64)
(HERE / "clip.mp4").write_bytes(b"".join(blocks)[:1_500_000])
