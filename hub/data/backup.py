"""Backups of the embedded SQLite hub: one archive, taken while the hub serves; restored into an empty data folder.

The archive is a gzipped tar:

    manifest.json     {"format": "grassroots-hub-backup", "version": 1, "created": ..., "revision": ...,
                       "members": {"hub.sqlite3": {"bytes": ..., "sha256": ...}, ...}}
    hub.sqlite3       the database, copied with SQLite's online backup API
    secret.key        the key that signs download links, when the data folder has one

Every member is listed in the manifest with its size and hash, and restore checks them all
before it writes anything. The blob store does not exist yet: when it does, its files go
under `blobs/` (content-addressed, so a name is its hash) and are listed the same way;
version 1 archives simply have none.

The archive holds everything the database holds (ID numbers, token hashes) and the link key:
keep it as carefully as the data folder.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import sqlite3
import tarfile
import tempfile
from pathlib import Path

from sqlalchemy.engine import make_url

FORMAT = "grassroots-hub-backup"
VERSION = 1
DATABASE = "hub.sqlite3"
KEY = "secret.key"


class BackupError(Exception):
    pass


def sqlite_path(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupError(
            "hub backup/restore is for the embedded SQLite database; for PostgreSQL use "
            "pg_dump --format=custom and pg_restore (see README.md, Backups)"
        )
    return Path(url.database)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _revision(database: Path) -> str | None:
    with contextlib.closing(sqlite3.connect(database)) as connection:
        try:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
        except sqlite3.OperationalError:
            return None
    return row[0] if row else None


def backup(database_url: str, data_dir: Path, archive: Path) -> dict:
    """Write the archive; the hub may be serving (and writing) meanwhile. Returns the manifest."""
    source_path = sqlite_path(database_url)
    if not source_path.exists():
        raise BackupError(f"no database at {source_path}")
    archive = archive.resolve()
    with tempfile.TemporaryDirectory(dir=archive.parent) as scratch:
        copy = Path(scratch) / DATABASE
        source = sqlite3.connect(source_path)
        target = sqlite3.connect(copy)
        try:
            # All pages in one step: one read transaction, so one consistent snapshot. Under WAL a
            # reader blocks no writer, so the serving hub goes on writing while this copies.
            source.backup(target)
            target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
        finally:
            target.close()
            source.close()
        members = {DATABASE: copy}
        if (data_dir / KEY).exists():
            members[KEY] = data_dir / KEY
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "revision": _revision(copy),
            "members": {name: {"bytes": path.stat().st_size, "sha256": _sha256(path)} for name, path in members.items()},
        }
        partial = Path(scratch) / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mode = len(data), 0o600
            tar.addfile(info, io.BytesIO(data))
            for name, path in members.items():
                info = tar.gettarinfo(str(path), arcname=name)
                info.mode, info.uid, info.gid, info.uname, info.gname = 0o600, 0, 0, "", ""
                with open(path, "rb") as file:
                    tar.addfile(info, file)
        os.chmod(partial, 0o600)
        os.replace(partial, archive)  # never a half-written archive under the given name
    return manifest


def restore(archive: Path, database_url: str, data_dir: Path) -> dict:
    """Unpack into a data folder that has no database yet; check every member first. Returns the manifest."""
    target = sqlite_path(database_url)
    if target.exists() or (data_dir / KEY).exists():
        raise BackupError(f"{target.parent} already holds a hub: restore only into an empty data folder")
    try:
        tar = tarfile.open(archive, "r:gz")
    except (OSError, tarfile.TarError) as error:
        raise BackupError(f"{archive} is not a hub backup: {error}") from None
    with tar:
        try:
            manifest = json.load(tar.extractfile("manifest.json"))
        except (KeyError, ValueError, tarfile.TarError):
            raise BackupError(f"{archive} is not a hub backup: no readable manifest.json") from None
        if manifest.get("format") != FORMAT or manifest.get("version") != VERSION:
            raise BackupError(f"{archive}: unknown backup format {manifest.get('format')!r} version {manifest.get('version')!r}")
        members = manifest.get("members", {})
        unknown = set(members) - {DATABASE, KEY}
        if DATABASE not in members or unknown:
            raise BackupError(f"{archive}: the manifest lists {sorted(members)}; expected {DATABASE} (and {KEY})")
        target.parent.mkdir(parents=True, exist_ok=True)
        data_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
            unpacked = {}
            for name, expected in members.items():
                path = Path(scratch) / name
                member = tar.getmember(name)
                if not member.isfile():
                    raise BackupError(f"{archive}: {name} is not a file")
                with tar.extractfile(member) as source, open(path, "wb") as file:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        file.write(chunk)
                if path.stat().st_size != expected["bytes"] or _sha256(path) != expected["sha256"]:
                    raise BackupError(f"{archive}: {name} does not match its manifest (damaged archive)")
                unpacked[name] = path
            with contextlib.closing(sqlite3.connect(unpacked[DATABASE])) as connection:
                check = connection.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError(f"{archive}: the database fails SQLite's integrity check: {check}")
            if KEY in unpacked:
                os.chmod(unpacked[KEY], 0o600)
                os.replace(unpacked[KEY], data_dir / KEY)
            os.replace(unpacked[DATABASE], target)  # last: a data folder with a database is a restored one
    return manifest
