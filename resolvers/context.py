"""A GraphQL request's context: the caller's context, plus what template fields use."""

from __future__ import annotations

from dataclasses import dataclass

from hub.data.blobs import BlobStore
from hub.domain.context import Context
from hub.domain.live_feed import LiveFeed
from hub.forms.download_links import DownloadLinks
from hub.forms.template_store import TemplateStore


@dataclass
class RequestContext(Context):
    templates: TemplateStore | None = None  # `templates`, `saveTemplate`
    links: DownloadLinks | None = None  # signs download links for `Template.downloadLink` and photos
    feed: LiveFeed | None = None  # the live board's fan-out, for subscriptions
    blobs: BlobStore | None = None  # documents' files and previews
