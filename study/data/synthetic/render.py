"""Draw a scene as a small RGB image (supersampled shapes, colour jitter, pixel noise)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image, ImageDraw

from study.data.synthetic.world import Obj, Scene, World

RGB = {
    "red": (220, 40, 40),
    "green": (40, 170, 60),
    "blue": (50, 80, 225),
    "yellow": (235, 215, 40),
    "purple": (140, 60, 185),
    "orange": (245, 140, 30),
    "white": (245, 245, 245),
    "black": (20, 20, 20),
}
RADIUS = {"small": 3.5, "large": 6.5, None: 5.0}  # on a 32-pixel canvas
ANCHORS = {
    "left": (8, 16),
    "right": (24, 16),
    "top": (16, 8),
    "bottom": (16, 24),
    "middle": (16, 16),
}
OFFSET = {"left": (1, 0), "right": (-1, 0), "above": (0, 1), "below": (0, -1)}  # obj1 - obj0
SUPERSAMPLE = 4


def _place(rng: np.random.Generator, scene: Scene, radii: list[float]) -> list[np.ndarray] | None:
    """Object centres (32-pixel canvas) that make the caption true, or None if none was found."""
    lo, hi = np.array(radii) + 1, 31 - np.array(radii)
    if scene.position is not None:
        centre = np.array(ANCHORS[scene.position], float) + rng.uniform(-2, 2, 2)
        return [np.clip(centre, lo[0], hi[0])]
    axis = np.array(OFFSET[scene.relation], float)
    centres: list[np.ndarray] = []
    for _ in range(200):
        c0, c1 = (rng.uniform(lo[i], hi[i], 2) for i in (0, 1))
        along = float((c1 - c0) @ axis)
        across = abs(float((c1 - c0) @ axis[::-1]))
        if along >= radii[0] + radii[1] + 1 and across <= 0.5 * along:
            centres = [c0, c1]
            break
    if not centres:
        return None
    for i in range(2, len(radii)):
        for _ in range(200):
            c = rng.uniform(lo[i], hi[i], 2)
            if all(np.hypot(*(c - d)) >= radii[i] + radii[j] + 1 for j, d in enumerate(centres)):
                centres.append(c)
                break
        else:
            return None
    return centres


def _draw(draw: ImageDraw.ImageDraw, obj: Obj, x: float, y: float, r: float, fill) -> None:
    if obj.shape == "circle":
        draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
    elif obj.shape == "ring":
        draw.ellipse((x - r, y - r, x + r, y + r), outline=fill, width=round(0.4 * r))
    elif obj.shape == "square":
        h = 0.85 * r
        draw.rectangle((x - h, y - h, x + h, y + h), fill=fill)
    elif obj.shape == "triangle":
        draw.polygon([(x, y - r), (x + 0.95 * r, y + 0.8 * r), (x - 0.95 * r, y + 0.8 * r)], fill)
    elif obj.shape == "diamond":
        draw.polygon([(x, y - r), (x + 0.8 * r, y), (x, y + r), (x - 0.8 * r, y)], fill=fill)
    elif obj.shape == "cross":
        t = 0.32 * r
        draw.rectangle((x - r, y - t, x + r, y + t), fill=fill)
        draw.rectangle((x - t, y - r, x + t, y + r), fill=fill)


def render(rng: np.random.Generator, scene: Scene, world: World) -> np.ndarray | None:
    """uint8 [S, S, 3] image of the scene, or None when its objects do not fit (resample it)."""
    radii = [RADIUS[o.size] * rng.uniform(0.9, 1.1) for o in scene.objects]
    centres = _place(rng, scene, radii)
    if centres is None:
        return None
    scale = world.image_size / 32 * SUPERSAMPLE
    side = world.image_size * SUPERSAMPLE
    background = tuple(int(v) for v in rng.integers(95, 150) + rng.integers(-12, 13, 3))
    img = Image.new("RGB", (side, side), background)
    draw = ImageDraw.Draw(img)
    for obj, (x, y), r in zip(scene.objects, centres, radii, strict=True):
        fill = tuple(int(np.clip(v + rng.integers(-18, 19), 0, 255)) for v in RGB[obj.colour])
        _draw(draw, obj, x * scale, y * scale, r * scale, fill)
    small = np.asarray(img.resize((world.image_size,) * 2, Image.BOX), dtype=np.float32)
    noisy = small + rng.normal(0.0, world.noise, small.shape) if world.noise else small
    return np.clip(np.rint(noisy), 0, 255).astype(np.uint8)


def encode(pixels: np.ndarray, fmt: str) -> bytes:
    """PNG or JPEG bytes of an RGB image (JPEG without chroma subsampling: the images are tiny)."""
    buf = io.BytesIO()
    if fmt == "png":
        Image.fromarray(pixels).save(buf, format="PNG")
    else:
        Image.fromarray(pixels).save(buf, format="JPEG", quality=95, subsampling=0)
    return buf.getvalue()
