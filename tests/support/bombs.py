"""Decompression bombs, made here: small bodies that claim to hold far more than any answer may.

* zstd: a frame of run-length blocks (RFC 8878 3.1.1.2: a 3-byte block header and one byte repeat 128 KiB),
  so 32 KiB of frame hold 1 GiB, without compressing a gigabyte to make it.
* gzip and deflate: zeros through zlib (about 1,000 to 1).
"""

from __future__ import annotations

import zlib

ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_RLE_BLOCK = 128 * 1024  # the largest block a 128 KiB window allows


def zstd_rle(inflated: int, *, window_log: int = 17) -> bytes:
    """A zstd frame of ``inflated`` bytes (a multiple of 128 KiB) of zeros, 4 bytes per 128 KiB, with no
    content size in its header (a streaming decoder cannot refuse it up front)."""
    blocks = max(1, inflated // _RLE_BLOCK)
    frame = bytearray(ZSTD_MAGIC)
    frame.append(0x00)  # frame header descriptor: no content size, no checksum, no dictionary
    frame.append((window_log - 10) << 3)  # window descriptor: 2 ** window_log bytes
    for index in range(blocks):
        last = 1 if index == blocks - 1 else 0
        header = last | (1 << 1) | (_RLE_BLOCK << 3)  # block type 1: RLE
        frame += header.to_bytes(3, "little") + b"\x00"
    return bytes(frame)


def zlib_zeros(inflated: int, wbits: int) -> bytes:
    """``inflated`` zero bytes compressed with ``wbits`` (31: gzip, 15: zlib deflate, -15: raw deflate)."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, wbits)
    zeros = bytes(1024 * 1024)
    parts = [compressor.compress(zeros) for _ in range(inflated // len(zeros))]
    parts.append(compressor.flush())
    return b"".join(parts)


def gzip_zeros(inflated: int) -> bytes:
    return zlib_zeros(inflated, 16 + zlib.MAX_WBITS)


def deflate_zeros(inflated: int) -> bytes:
    return zlib_zeros(inflated, zlib.MAX_WBITS)
