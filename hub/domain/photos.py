"""Photos of reports: checked by content, made into a display size and a thumbnail once, stored by content.

An upload is refused, with nothing stored, when it is not a JPEG or PNG by its bytes (the
file name and the Content-Type it came with decide nothing), when it is too large, when its
header promises more pixels than the limit (checked before any pixel is decoded: a small
file can expand into gigabytes), or when it does not decode whole. Orientation from EXIF is
applied; the stored images are re-encoded without EXIF, so GPS and camera data are gone —
except the time it was taken, kept as a column (the policy's `photos: keep_exif` keeps it
all, GPS included, on the display size). Decoding runs in a worker thread.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
from dataclasses import dataclass
from typing import Any

from PIL import Image, ImageOps
from sqlalchemy import select

from hub.access.write_check import WriteRefused, check_write
from hub.data import outbox
from hub.data.blobs import BlobStore
from hub.data.models import DamageReport, EventStatus, FloodPointReport, Photo
from hub.domain.context import Context
from hub.domain.events import events

photos = Photo.__table__
damage_reports = DamageReport.__table__
flood_point_reports = FloodPointReport.__table__

MAX_PHOTO_BYTES = 15 * 1024 * 1024
MAX_PIXELS = 40_000_000  # a 40-megapixel phone photo; larger is not a phone photo
DISPLAY_SIDE = 1600
THUMBNAIL_SIDE = 320
SIGNATURES = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG"}
# What a refused photo is told, by code; the pages check a chosen photo with the same words before sending anything.
REFUSALS = {
    "FILE_TOO_LARGE": f"照片超过 {MAX_PHOTO_BYTES // (1024 * 1024)} MB",
    "UNSUPPORTED_MEDIA_TYPE": "只收 JPEG 或 PNG 照片：这个文件不是（按文件内容判断，与文件名无关）",
    "CORRUPT_IMAGE": "照片不完整或已损坏，请重新拍摄或上传",
    "IMAGE_TOO_LARGE": f"照片像素超过上限 {MAX_PIXELS // 10_000} 万像素",
}
EXIF_DATETIME_ORIGINAL, EXIF_DATETIME, EXIF_IFD, EXIF_ORIENTATION = 36867, 306, 0x8769, 0x0112


class PhotoRefused(Exception):
    def __init__(self, status: int, message: str, code: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@dataclass(frozen=True)
class Processed:
    width: int  # of the display image, after orientation
    height: int
    display: bytes
    thumbnail: bytes
    taken_at: dt.datetime | None


def sniff(data: bytes) -> str:
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            return kind
    raise PhotoRefused(415, REFUSALS["UNSUPPORTED_MEDIA_TYPE"], "UNSUPPORTED_MEDIA_TYPE")


def process(data: bytes, keep_exif: bool = False) -> Processed:
    """Check and convert one upload. Blocking: call it in a worker thread.

    With `keep_exif` (the policy's `photos: keep_exif`), the display size keeps the upload's
    EXIF, GPS included, its orientation reset since the pixels are upright now."""
    if len(data) > MAX_PHOTO_BYTES:
        raise PhotoRefused(413, REFUSALS["FILE_TOO_LARGE"], "FILE_TOO_LARGE")
    kind = sniff(data)
    broken = PhotoRefused(422, REFUSALS["CORRUPT_IMAGE"], "CORRUPT_IMAGE")
    with warnings.catch_warnings():
        # Our own limit, lower than Pillow's, is checked from the header below; Pillow's error
        # (at twice its warning) still stops an image too large even to open.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data), formats=[kind]) as probe:
                width, height = probe.size  # from the header alone: nothing decoded yet
                if width * height > MAX_PIXELS:
                    raise PhotoRefused(
                        422, f"照片有 {width}×{height} 像素，超过上限 {MAX_PIXELS // 10_000} 万像素", "IMAGE_TOO_LARGE"
                    )
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[kind]) as image:  # verify() leaves the image unusable: open again
                image.load()
                taken_at = _taken_at(image)
                exif = image.getexif()
                upright = ImageOps.exif_transpose(image)
        except PhotoRefused:
            raise
        except Image.DecompressionBombError:
            raise PhotoRefused(422, REFUSALS["IMAGE_TOO_LARGE"], "IMAGE_TOO_LARGE") from None
        except (OSError, SyntaxError, ValueError, Image.UnidentifiedImageError):
            raise broken from None
    rgb = _rgb(upright)
    display = _fitted(rgb, DISPLAY_SIDE)
    kept = None
    if keep_exif:
        exif[EXIF_ORIENTATION] = 1
        kept = exif.tobytes()
    return Processed(*display.size, _jpeg(display, kept), _jpeg(_fitted(rgb, THUMBNAIL_SIDE)), taken_at)


def _rgb(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(image, mask=image.getchannel("A"))
        return flat
    return image.convert("RGB")


def _fitted(image: Image.Image, side: int) -> Image.Image:
    if max(image.size) <= side:
        return image
    copy = image.copy()
    copy.thumbnail((side, side), Image.Resampling.LANCZOS)
    return copy


def _jpeg(image: Image.Image, exif: bytes | None = None) -> bytes:
    out = io.BytesIO()
    options = {"exif": exif} if exif else {}  # none given: none is written
    image.save(out, "JPEG", quality=85, optimize=True, **options)
    return out.getvalue()


def _taken_at(image: Image.Image) -> dt.datetime | None:
    exif = image.getexif()
    text = exif.get_ifd(EXIF_IFD).get(EXIF_DATETIME_ORIGINAL) or exif.get(EXIF_DATETIME)
    try:  # cameras write local time without a zone; these photos are taken in China
        taken = dt.datetime.strptime(str(text).strip("\x00 "), "%Y:%m:%d %H:%M:%S").replace(tzinfo=CHINA) if text else None
    except ValueError:
        return None
    return taken and taken.astimezone(dt.UTC)  # stored as UTC, as every time in the hub


CHINA = dt.timezone(dt.timedelta(hours=8))

SIZES = {"display.jpg": "display_key", "thumbnail.jpg": "thumbnail_key"}  # what `GET /photos/{id}/{size}` serves


def photo_path(photo_id: int, size: str) -> str:
    return f"/photos/{photo_id}/{size}"


OWNERS = {"damageReport": (damage_reports, "damage_report_id"), "floodPointReport": (flood_point_reports, "flood_point_report_id")}


async def attach(ctx: Context, store: BlobStore, owner: str, owner_id: int, processed: Processed, caption: str | None) -> Any:
    """Store a processed photo for a report the caller may write; the row and the blobs both, or neither."""
    try:
        check_write(ctx.policy, ctx.caller, "Photo", "caption")
    except WriteRefused as refused:
        raise PhotoRefused(403, str(refused), "FORBIDDEN") from None
    if caption is not None and len(caption) > 256:
        raise PhotoRefused(422, f"caption（说明）：最多 256 个字，填写了 {len(caption)} 个字", "INVALID")
    table, column = OWNERS[owner]
    added: list[str] = []
    try:
        async with ctx.engine.begin() as connection:
            stmt = select(table.c.village_id, table.c.event_id, events.c.status).join(events, events.c.id == table.c.event_id).where(table.c.id == owner_id)
            if ctx.scope is not None:
                stmt = stmt.where(table.c.village_id.in_(ctx.scope.region_ids()))
            found = (await connection.execute(stmt)).one_or_none()
            if found is None:  # another village's report reads as missing
                raise PhotoRefused(404, f"{owner}：找不到 id 为 {owner_id} 的报告", "NOT_FOUND")
            if found.status is EventStatus.CLOSED:
                raise PhotoRefused(409, "事件已结束，报告已冻结，不能再加照片", "EVENT_CLOSED")
            keys = []
            for data in (processed.display, processed.thumbnail):
                key, created = await store.put(data)
                keys.append(key)
                if created:
                    added.append(key)
            row = (await connection.execute(photos.insert().values(
                **{column: owner_id}, village_id=found.village_id, content_type="image/jpeg",
                width=processed.width, height=processed.height, size_bytes=len(processed.display),
                display_key=keys[0], thumbnail_key=keys[1], caption=caption, taken_at=processed.taken_at,
                uploaded_by=ctx.caller.username, uploaded_at=dt.datetime.now(dt.UTC),
            ).returning(*photos.c))).one()
            await outbox.write(connection, found.event_id, found.village_id, **{column: owner_id})
    except BaseException:
        for key in added:  # only what this upload created: other photos may share the same content
            await store.delete(key)
        raise
    outbox.committed(ctx.engine)
    return row
