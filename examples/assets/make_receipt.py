"""Writes receipt.png: a small grayscale receipt drawn with a 5x7 bitmap font, using only
the standard library (zlib for the PNG). Run: python3 make_receipt.py"""
import struct
import zlib

FONT = {
    "A": ["01110", "10001", "10001", "11111", "10001", "10001", "10001"],
    "B": ["11110", "10001", "10001", "11110", "10001", "10001", "11110"],
    "C": ["01110", "10001", "10000", "10000", "10000", "10001", "01110"],
    "E": ["11111", "10000", "10000", "11110", "10000", "10000", "11111"],
    "F": ["11111", "10000", "10000", "11110", "10000", "10000", "10000"],
    "G": ["01110", "10001", "10000", "10111", "10001", "10001", "01111"],
    "L": ["10000", "10000", "10000", "10000", "10000", "10000", "11111"],
    "N": ["10001", "11001", "10101", "10011", "10001", "10001", "10001"],
    "O": ["01110", "10001", "10001", "10001", "10001", "10001", "01110"],
    "R": ["11110", "10001", "10001", "11110", "10100", "10010", "10001"],
    "T": ["11111", "00100", "00100", "00100", "00100", "00100", "00100"],
    "0": ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    "2": ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    "3": ["11110", "00001", "00001", "01110", "00001", "00001", "11110"],
    "5": ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    "7": ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    ".": ["00000", "00000", "00000", "00000", "00000", "01100", "01100"],
    " ": ["00000"] * 7,
}
LINES = ["CORNER CAFE", "", "COFFEE    3.50", "BAGEL     2.25", "", "TOTAL     5.75"]
SCALE, PAD = 2, 8
W = PAD * 2 + SCALE * 6 * max(len(l) for l in LINES)
H = PAD * 2 + SCALE * 9 * len(LINES)
pixels = [[255] * W for _ in range(H)]
for row, line in enumerate(LINES):
    for col, ch in enumerate(line):
        for y, bits in enumerate(FONT[ch]):
            for x, bit in enumerate(bits):
                if bit == "1":
                    for dy in range(SCALE):
                        for dx in range(SCALE):
                            py = PAD + row * 9 * SCALE + y * SCALE + dy
                            px = PAD + col * 6 * SCALE + x * SCALE + dx
                            pixels[py][px] = 0
raw = b"".join(b"\0" + bytes(r) for r in pixels)


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))


png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", W, H, 8, 0, 0, 0, 0))
png += chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b"")
with open("receipt.png", "wb") as f:
    f.write(png)
print(W, H, len(png))
