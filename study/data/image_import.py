"""Importers' images: read, check (decode), resize and write as corpus shards, in this process or
in parallel over a Ray cluster's CPUs with Ray Data (one task per shard).

Both paths run the same `write_shard` on the same shards, so they write the same corpus. Tasks
report input errors as rows (Ray would reduce a raised error to its traceback text); the driver
raises the first. On a multi-node cluster the output dir must be on storage every node reaches.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import TYPE_CHECKING

from study.errors import StudyError
from trainers.corpus import image_format_of
from trainers.corpus_shards import ImageShard, image_shard_parts, write_image_shard
from trainers.errors import InputError
from trainers.ray_data import RAY_DATA_MIN_ITEMS, ensure_ray, quiet_ray_data

if TYPE_CHECKING:
    from study.data.common import Images

JPEG_QUALITY = 95


def prepare_image(data: bytes, size: int | None, where: str) -> bytes:
    """A checked encoded image: decoded (a corrupt or truncated file is an error); with `size`,
    shrunk so its shorter side is `size` and stored as JPEG. PNG and JPEG are kept as they are
    when not resized; other formats (WebP, ...) become JPEG."""
    from PIL import Image, UnidentifiedImageError

    try:
        img = Image.open(io.BytesIO(data))
        scale = size / min(img.size) if size else 1.0
        target = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        keep = scale >= 1 and image_format_of(data) is not None
        # Decoding at a small DCT scale still reads the whole JPEG stream, so it still fails on
        # corrupt data; kept images need only that check.
        img.draft("RGB", (1, 1) if keep else target)
        img.load()
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as exc:
        raise StudyError(f"{where}: unreadable image ({exc}); replace or drop it") from None
    if keep:
        return data
    img = img.convert("RGB")
    if img.size != target and scale < 1:
        img = img.resize(target, Image.BICUBIC)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def write_shard(
    root: str,
    name: str,
    item_ids: list[str],
    sources: list,
    size: int | None,
    out: str,
    wheres: list[str] | None = None,
) -> ImageShard:
    """Read (bytes, or a file path), prepare and write one shard's images; errors name `wheres`
    (default: the file, else the item)."""
    images = []
    for k, (item, source) in enumerate(zip(item_ids, sources, strict=True)):
        data = Path(source).read_bytes() if isinstance(source, str) else bytes(source)
        where = source if isinstance(source, str) else f"{out}: image of item '{item}'"
        images.append(prepare_image(data, size, wheres[k] if wheres else where))
    formats = sorted({image_format_of(d) for d in images})
    if len(formats) > 1:
        raise StudyError(
            f"{out}: images are a mix of {' and '.join(formats)}; pass --image-size to store "
            "them all as JPEG"
        )
    return write_image_shard(Path(root), name, item_ids, images, formats[0], out)


def _shard_task(batch: dict, root: str, size: int | None, out: str) -> dict:
    """Ray Data: one shard per batch row; an input error comes back as the row's `error`."""
    rows = {"file": [], "item_ids": [], "sha256": [], "image_format": [], "error": []}
    for name, ids, sources in zip(batch["name"], batch["item_ids"], batch["sources"], strict=True):
        try:
            shard, error = write_shard(root, name, list(ids), list(sources), size, out), ""
        except (StudyError, InputError) as exc:
            shard, error = ImageShard("", [], "", ""), str(exc)
        for key, value in (*shard.__dict__.items(), ("error", error)):
            rows[key].append(value)
    return rows


class ImageWriter:
    """Writes an importer's images as shards of IMAGE_SHARD_ITEMS, in item order.

    `use_ray`: Ray Data over the cluster's CPUs (True), this process (False), or Ray Data from
    RAY_DATA_MIN_ITEMS images on (None).
    """

    def __init__(
        self,
        images: Images,
        *,
        size: int | None = None,
        use_ray: bool | None = None,
    ) -> None:
        self.images, self.size, self.use_ray = images, size, use_ray

    def _source(self, item: str) -> str | bytes:
        """What a task reads: a file path as str (read there), or the bytes themselves."""
        source = self.images.source(item)
        return str(source) if isinstance(source, Path) else source

    def __call__(self, root: Path, item_ids: list[str], out: Path) -> list[ImageShard]:
        """The shards written under `root` for `item_ids` (errors name `out`)."""
        jobs = [
            {"name": name, "item_ids": ids, "sources": list(map(self._source, ids))}
            for name, ids in image_shard_parts(item_ids)
        ]
        use_ray = self.use_ray if self.use_ray is not None else len(item_ids) >= RAY_DATA_MIN_ITEMS
        if not use_ray:
            return [write_shard(str(root), **job, size=self.size, out=str(out)) for job in jobs]
        return self._with_ray(jobs, root, out)

    def _with_ray(self, jobs: list[dict], root: Path, out: Path) -> list[ImageShard]:
        import ray.data

        ensure_ray()
        shards = []
        with quiet_ray_data():
            ds = ray.data.from_items(jobs, override_num_blocks=len(jobs)).map_batches(
                _shard_task,
                fn_kwargs={"root": str(root.resolve()), "size": self.size, "out": str(out)},
                batch_size=1,
            )
            for row in ds.iter_rows():
                if row["error"]:
                    raise StudyError(row["error"])
                ids = [str(i) for i in row["item_ids"]]
                shards.append(ImageShard(row["file"], ids, row["sha256"], row["image_format"]))
        return sorted(shards, key=lambda s: s.file)
