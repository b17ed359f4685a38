"""Study storage: local paths, NFS and URIs (s3://, gs://, file://) through pyarrow filesystems."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.fs as pafs

from study.errors import StudyError


@dataclass(frozen=True)
class Storage:
    """Where a study's runs live: `ray_path` is what Ray Tune/Train get as storage_path."""

    ray_path: str
    fs: pafs.FileSystem
    root: str

    @property
    def is_local(self) -> bool:
        """True for local (or NFS-mounted) storage."""
        return isinstance(self.fs, pafs.LocalFileSystem)

    def join(self, *parts: str) -> str:
        """A path inside the storage, in the filesystem's own form."""
        return "/".join([self.root.rstrip("/"), *parts])

    def ray_join(self, *parts: str) -> str:
        """A storage path in the form Ray takes (URI for remote storage)."""
        return "/".join([self.ray_path.rstrip("/"), *parts])

    def exists(self, *parts: str) -> bool:
        """Whether a file or directory exists in the storage."""
        return self.fs.get_file_info(self.join(*parts)).type != pafs.FileType.NotFound

    def upload(self, local_dir: Path, *parts: str) -> None:
        """Copy a local directory into the storage (a no-op where it already is there)."""
        dest = self.join(*parts)
        if self.is_local and Path(dest).resolve() == local_dir.resolve():
            return
        self.fs.create_dir(dest, recursive=True)
        pafs.copy_files(str(local_dir), dest, destination_filesystem=self.fs)


def resolve_storage(spec: str) -> Storage:
    """Parse `resources.storage`: a local path, or a URI pyarrow understands."""
    if "://" not in spec:
        root = str(Path(spec).expanduser().resolve())
        return Storage(root, pafs.LocalFileSystem(), root)
    try:
        fs, root = pafs.FileSystem.from_uri(spec)
    except (pa.ArrowInvalid, OSError) as exc:
        raise StudyError(f"resources.storage: cannot open {spec} ({exc})") from None
    if isinstance(fs, pafs.LocalFileSystem):
        return Storage(root, fs, root)
    return Storage(spec.rstrip("/"), fs, root)


def check_writable(storage: Storage, spec: str) -> None:
    """Fail up front, in one line, when the storage cannot be written."""
    probe = storage.join(f".write-probe-{uuid.uuid4().hex[:8]}")
    try:
        storage.fs.create_dir(storage.root, recursive=True)
        with storage.fs.open_output_stream(probe) as out:
            out.write(b"ok")
        storage.fs.delete_file(probe)
    except OSError as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise StudyError(
            f"resources.storage: {spec} is not writable ({reason}); choose a writable path"
        ) from None
