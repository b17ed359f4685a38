"""COCO-sized stand-in photos for the input and import benchmarks: 640x480 JPEGs (quality 90) of
about 100 KB, with smooth colour fields, mid-frequency texture and sensor noise, so that decoding
and resizing cost what real photos cost (flat colours would decode and compress far faster).

Images are deterministic per id and cached in a folder (`<id:012d>.jpg`, COCO's naming) that the
benchmarks share, generated in parallel once.
"""

from __future__ import annotations

import io
import os
import tempfile
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

WIDTH, HEIGHT = 640, 480
PHOTO_CACHE = Path(tempfile.gettempdir()) / "bench-photos"
_BANK: list | None = None  # texture and noise fields, cropped at random offsets per photo


def _bank() -> tuple[list[np.ndarray], list[np.ndarray]]:
    global _BANK
    if _BANK is None:
        rng = np.random.default_rng(12345)
        textures = []
        for _ in range(8):
            coarse = rng.normal(0, 40, (HEIGHT // 8 + 16, WIDTH // 8 + 16, 3)) + 128
            up = Image.fromarray(np.uint8(np.clip(coarse, 0, 255)))
            up = up.resize((WIDTH + 128, HEIGHT + 128), Image.BILINEAR)
            textures.append(np.asarray(up, np.int16) - 128)
        noise = [np.int16(rng.normal(0, 5, (HEIGHT + 64, WIDTH + 64, 1))) for _ in range(8)]
        _BANK = [textures, noise]
    return _BANK[0], _BANK[1]


def photo_jpeg(seed: int) -> bytes:
    """One 640x480 photo-like JPEG, the same bytes for the same seed."""
    textures, noise = _bank()
    rng = np.random.default_rng(seed)
    grid = rng.integers(0, 256, (rng.integers(3, 7), rng.integers(4, 9), 3), dtype=np.uint8)
    field = Image.fromarray(grid).resize((WIDTH // 8, HEIGHT // 8), Image.BICUBIC)
    img = np.asarray(field.resize((WIDTH, HEIGHT), Image.BILINEAR), np.int16)
    ty, tx = rng.integers(0, 128, 2)
    ny, nx = rng.integers(0, 64, 2)
    texture = textures[rng.integers(8)][ty : ty + HEIGHT, tx : tx + WIDTH]
    img = (
        img
        + texture * int(rng.integers(1, 4)) // 3
        + noise[rng.integers(8)][ny : ny + HEIGHT, nx : nx + WIDTH]
    )
    out = io.BytesIO()
    Image.fromarray(np.uint8(np.clip(img, 0, 255))).save(out, "JPEG", quality=90)
    return out.getvalue()


def _write(args: tuple[Path, int]) -> None:
    folder, i = args
    path = folder / f"{i:012d}.jpg"
    if not path.is_file():
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(photo_jpeg(i))
        tmp.rename(path)


def photo_folder(count: int, folder: Path = PHOTO_CACHE) -> list[Path]:
    """Photos 0..count-1 as `<id:012d>.jpg` in `folder` (missing ones generated on all cores)."""
    folder.mkdir(parents=True, exist_ok=True)
    with Pool(os.cpu_count() or 1) as pool:
        pool.map(_write, [(folder, i) for i in range(count)], chunksize=64)
    return [folder / f"{i:012d}.jpg" for i in range(count)]
