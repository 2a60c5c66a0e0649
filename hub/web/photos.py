"""Photos over HTTP: `POST /photos?damageReport=ID` (or `floodPointReport=ID`) with the image as the body,
and `GET /photos/{id}/display.jpg` / `thumbnail.jpg`, by bearer token or by a signed link for `<img>` tags.

An upload is read within a size limit, checked and converted in a worker thread, and then
stored with its row, or not at all. A photo is served to whoever may read the report it
belongs to: the report's village within their jurisdiction, and photos within their view.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from hub.data.blobs import BlobStore
from hub.domain.photos import (
    MAX_PHOTO_BYTES,
    OWNERS,
    REFUSALS,
    SIZES,
    PhotoRefused,
    attach,
    photos,
    process,
)
from hub.forms.untrusted_xlsx import off_loop
from hub.web.endpoint import Endpoint, Services
from hub.web.graphql_endpoint import request_id_of
from hub.web.sign_in import SignInError, sign_in_or_link
from hub.web.uploads import UploadEndpoint, UploadError
from resolvers.errors import UserInputError, int_id

# A stored photo never changes (its key is its content): browsers may keep it, but only for this user.
SERVED_HEADERS = {
    "cache-control": "private, max-age=3600",
    "x-content-type-options": "nosniff",
    "content-security-policy": "sandbox",
    "content-disposition": "inline",
}


class PhotoUpload(UploadEndpoint):
    operation = "photoUpload"
    content_type = None  # whatever the request says: the bytes decide
    max_bytes = MAX_PHOTO_BYTES
    too_large = REFUSALS["FILE_TOO_LARGE"]

    def __init__(self, services: Services, store: BlobStore) -> None:
        super().__init__(services)
        self.store = store

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any]]:
        given = [name for name in OWNERS if name in request.query_params]
        if len(given) != 1:
            raise UploadError(400, "请用 damageReport=ID 或 floodPointReport=ID 指明照片属于哪份报告（二选一）")
        owner = given[0]
        try:
            owner_id = int_id(request.query_params[owner], owner)
        except UserInputError as error:
            raise UploadError(400, str(error)) from None
        try:
            processed = await off_loop(process, data, context.policy.keep_photo_exif)
            row = await attach(context, self.store, owner, owner_id, processed, request.query_params.get("caption") or None)
        except PhotoRefused as refused:
            raise UploadError(refused.status, str(refused), refused.code) from None
        return 201, {"photo": {"id": str(row.id), "width": row.width, "height": row.height, "takenAt": processed.taken_at and processed.taken_at.isoformat()}}


class PhotoFile(Endpoint):
    def __init__(self, services: Services, store: BlobStore) -> None:
        super().__init__(services)
        self.store = store

    async def handle(self, request: Request) -> Response:
        request_id = request_id_of(request)
        try:
            caller, schema = await sign_in_or_link(request, self.services)
        except SignInError as refused:
            return _error(refused.status, str(refused), refused.code, refused.headers)
        context = self.make_context(request, request_id, caller)
        context.audit.update(operation_type="query", operation_name="photo", row_count=1)
        response = await self._photo(request, context, schema)
        outcome = "ok" if response.status_code == 200 else "refused"
        response.background = BackgroundTask(self.record_access, caller, context, outcome)
        return response

    async def _photo(self, request: Request, context, schema) -> Response:
        size = request.path_params["size"]
        try:
            photo_id = int_id(request.path_params["photo"], "photo")
        except UserInputError:
            photo_id = None
        not_found = _error(404, "找不到这张照片", "NOT_FOUND")
        if size not in SIZES or photo_id is None or "Photo" not in schema._schema.type_map:
            return not_found  # a view without photos reads them as missing, as out of jurisdiction does
        stmt = select(photos.c[SIZES[size]]).where(photos.c.id == photo_id)
        if context.scope is not None:
            stmt = stmt.where(photos.c.village_id.in_(context.scope.region_ids()))
        async with context.engine.connect() as connection:
            key = (await connection.execute(stmt)).scalar_one_or_none()
        data = None if key is None else await self.store.get(key)
        if data is None:
            return not_found
        return Response(data, 200, SERVED_HEADERS | {"etag": f'"{key}"'}, media_type="image/jpeg")


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps({"errors": [{"message": message, "code": code}]}), status, headers, media_type="application/json")
