"""The document centre over HTTP.

- `POST /documents?title=…&category=…&regionCode=…&year=…&tags=…&fileName=…` with the file as
  the body: a new document of the caller's unit. `POST /documents/{id}/versions?fileName=…`:
  its next version.
- `GET /documents/{id}/versions/{n}/pages/{p}.png`: a page of a PDF (or the image), of a
  workbook's sheets (a table, page by page) or of a Word document (its text laid out),
  rendered on the server and watermarked with the viewer's name, unit and the time.
- `GET /documents/{id}/versions/{n}/file`: the file as uploaded, as an attachment, under a
  grant that allows downloading.

Reads sign in by bearer token or by a signed link (`<img>` tags), check the grants every time,
and are logged before the answer goes out. Nothing is served as active content: pages are PNG,
files are attachments, every answer says `nosniff` and forbids scripts.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import quote

import orjson
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from hub.data.blobs import BlobStore
from hub.data.models import DocumentKind
from hub.domain import document_grants, documents
from hub.domain.documents import DocumentRefused
from hub.forms import document_files, document_pages
from hub.forms.untrusted_xlsx import off_loop
from hub.web.endpoint import Endpoint, Services
from hub.web.graphql_endpoint import request_id_of
from hub.web.sign_in import SignInError, sign_in_or_link
from hub.web.uploads import UploadEndpoint, UploadError
from resolvers.errors import UserInputError, int_id

SAFE_HEADERS = {
    "x-content-type-options": "nosniff",
    "content-security-policy": "default-src 'none'; sandbox",
    "cache-control": "private, no-store",  # a page carries its viewer and the time: never reused
}


class DocumentUpload(UploadEndpoint):
    operation = "documentUpload"
    content_type = None  # whatever the request says: the bytes decide
    max_bytes = document_files.MAX_DOCUMENT_BYTES
    too_large = f"文件超过 {document_files.MAX_DOCUMENT_BYTES // (1024 * 1024)} MB：请压缩或分成几个文件上传"

    def __init__(self, services: Services, store: BlobStore) -> None:
        super().__init__(services)
        self.store = store

    async def process(self, request: Request, context, schema, data: bytes) -> tuple[int, dict[str, Any]]:
        query = request.query_params
        document_id = None
        if "document" in request.path_params:
            try:
                document_id = int_id(request.path_params["document"], "document")
            except UserInputError:
                raise UploadError(404, "找不到该文档", "NOT_FOUND") from None
        else:
            given = {name: query.get(name) for name in ("title", "category", "regionCode", "year", "tags")}
            values, problems = await documents.check_metadata(context, given, creating=True)
            if problems:
                return 422, {"errors": [{"field": p.field, "message": p.message, "code": p.code} for p in problems]}
        try:
            facts = await off_loop(document_files.inspect, data)
            file_name = document_files.clean_file_name(query.get("fileName"), facts.kind)
            if document_id is None:
                document = await documents.add_document(context, self.store, values, facts, data, file_name)
            else:
                document = await documents.add_version(context, self.store, document_id, facts, data, file_name)
        except DocumentRefused as refused:
            raise UploadError(refused.status, str(refused), refused.code) from None
        context.audit["operation_name"] = f"{self.operation} {document.id}"
        return 201, {"document": {
            "id": str(document.id), "version": document.latest_number, "kind": facts.kind.value, "fileName": file_name, "pages": facts.pages,
        }}


class DocumentRead(Endpoint):
    """What a page image and a download share: sign in, check the grant, log, answer safely."""

    operation = ""
    download = False

    def __init__(self, services: Services, store: BlobStore) -> None:
        super().__init__(services)
        self.store = store

    async def handle(self, request: Request) -> Response:
        try:
            caller, _ = await sign_in_or_link(request, self.services)
        except SignInError as refused:
            return _error(refused.status, str(refused), refused.code, refused.headers)
        context = self.make_context(request, request_id_of(request), caller)
        context.audit.update(operation_type="query", operation_name=self.operation, row_count=1)
        try:
            try:
                document_id = int_id(request.path_params["document"], "document")
                number = int_id(request.path_params["number"], "number")
            except UserInputError:
                raise DocumentRefused(404, "找不到该文档", "NOT_FOUND") from None
            access = await document_grants.reach(context, document_id, number, download=self.download)
            context.audit["operation_name"] = f"{self.operation} {document_id}"
            response = await self.answer(request, context, access)
        except DocumentRefused as refused:
            response = _error(refused.status, str(refused), refused.code)
        outcome = "ok" if response.status_code == 200 else "refused"
        response.background = BackgroundTask(self.record_access, caller, context, outcome)
        return response

    async def answer(self, request: Request, context, access: document_grants.Access) -> Response:
        raise NotImplementedError


class DocumentPage(DocumentRead):
    operation = "documentPage"

    async def answer(self, request: Request, context, access: document_grants.Access) -> Response:
        version = access.version
        page = request.path_params["page"]
        caller = context.caller
        text = document_files.watermark_text(caller.display_name, caller.org_unit, dt.datetime.now(dt.UTC))
        if version.kind in (DocumentKind.XLSX, DocumentKind.DOCX):
            layout = await document_pages.layout_of(self.store, version.kind, version.preview_key)
            number = _page_number(page, len(layout.pages), version.number)
            image = await off_loop(document_pages.render, layout, number, text)
            part = layout.parts[number - 1]
        else:
            number = _page_number(page, version.page_count, version.number)
            original = await self.store.get(version.blob_key)
            preview = None if version.preview_key is None else await self.store.get(version.preview_key)
            image = await off_loop(document_files.page_png, version.kind, original, preview, number, text)
            part = f"第 {number} 页"
        await documents.record_read(context, access.document.id, version.number, access.grant_id, "VIEW", part)
        return Response(image, 200, SAFE_HEADERS | {"content-disposition": "inline"}, media_type="image/png")


def _page_number(page: str, pages: int, version: int) -> int:
    if not (page.isascii() and page.isdigit() and 1 <= int(page) <= pages):
        raise DocumentRefused(404, f"第 {version} 版没有第 {page} 页", "NOT_FOUND")
    return int(page)


class DocumentDownload(DocumentRead):
    operation = "documentDownload"
    download = True

    async def answer(self, request: Request, context, access: document_grants.Access) -> Response:
        version = access.version
        data = await self.store.get(version.blob_key)
        await documents.record_read(context, access.document.id, version.number, access.grant_id, "DOWNLOAD", "下载原文件")
        extension = document_files.EXTENSIONS[version.kind]
        # An ASCII name for old clients, the cleaned Chinese name for the rest (RFC 6266).
        disposition = f"attachment; filename=\"document-{access.document.id}-v{version.number}.{extension}\"; filename*=UTF-8''{quote(version.file_name)}"
        return Response(data, 200, SAFE_HEADERS | {"content-disposition": disposition}, media_type=document_files.MEDIA_TYPES[version.kind])


def _error(status: int, message: str, code: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps({"errors": [{"message": message, "code": code}]}), status, SAFE_HEADERS | (headers or {}), media_type="application/json"
    )
