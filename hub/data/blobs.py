"""The blob store: files by content (SHA-256), behind one small interface.

`FileBlobStore` keeps them under the data folder (`<data>/blobs/ab/cd/<sha256>`); several
hub processes on one file system share it: a blob is written to a temporary file beside
its place and renamed into it, so a reader never sees half a file and two writers of the
same content both end with the same bytes. Another store (an S3-compatible one) needs only
the same four methods.

`put` says whether it created the blob, so that a write that fails later can take back
exactly what it added (no orphans) without touching a blob that other records share.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol


class BlobStore(Protocol):
    async def put(self, data: bytes) -> tuple[str, bool]:
        """Store `data`; its key and whether this call created it."""
        ...

    async def get(self, key: str) -> bytes | None: ...

    async def delete(self, key: str) -> None: ...

    async def exists(self, key: str) -> bool: ...


def content_key(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class FileBlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        if len(key) != 64 or not all(c in "0123456789abcdef" for c in key):
            raise ValueError(f"not a blob key: {key!r}")
        return self.root / key[:2] / key[2:4] / key

    async def put(self, data: bytes) -> tuple[str, bool]:
        key = content_key(data)
        return key, await asyncio.to_thread(self._write, self._path(key), data)

    @staticmethod
    def _write(path: Path, data: bytes) -> bool:
        if path.exists():
            return False
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".incoming-")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(data)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        return True

    async def get(self, key: str) -> bytes | None:
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        await asyncio.to_thread(self._path(key).unlink, missing_ok=True)

    async def exists(self, key: str) -> bool:
        return await asyncio.to_thread(self._path(key).exists)

    def count(self) -> int:
        """How many blobs are stored (tests check that a refusal left none behind)."""
        return sum(1 for p in self.root.rglob("*") if p.is_file() and not p.name.startswith("."))


def blob_store(data_dir: Path) -> FileBlobStore:
    return FileBlobStore(data_dir / "blobs")
