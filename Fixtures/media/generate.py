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
(HERE / "not-an-image.png").write_bytes(b"this is plain text pretending to be a PNG\n" * 4)

# A pseudo-video: an ftyp box, then deterministic bytes (not playable; the mock never decodes video).
blocks = [b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"]
digest = b"twitter-upload-mock"
while sum(map(len, blocks)) < 1_500_000:
    digest = hashlib.sha256(digest).digest()
    blocks.append(digest * 64)
(HERE / "clip.mp4").write_bytes(b"".join(blocks)[:1_500_000])
