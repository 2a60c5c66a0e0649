"""The hub's log lines: plain text, or JSON lines (`HUB_LOG_FORMAT=json`), each with the request id.

The request id lives in a context variable that the web layer sets for each request, so
a line logged anywhere below it (a resolver, the write path) carries the id too.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import logging
import os
import sys

import orjson

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("hub_request_id", default=None)

_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


class _RequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonLines(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id, pid, any `extra=` fields, the traceback."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
            "pid": record.process,  # which worker of `hub serve --workers N` wrote it
        }
        line.update((k, v) for k, v in record.__dict__.items() if k not in _STANDARD and k not in line)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class _Text(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        rid = getattr(record, "request_id", None)
        return f"{text} [request {rid}]" if rid else text


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of each line, not the one it was made with:
    a caller that swaps sys.stderr (pytest's capture, a daemon) never leaves it writing to a closed file."""

    @property  # type: ignore[override]
    def stream(self):  # noqa: ANN201
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:  # noqa: ANN001
        pass


def configure(log_format: str | None = None) -> None:
    """Root logging for the command line and the server: `json` or text (the default)."""
    chosen = (log_format or os.environ.get("HUB_LOG_FORMAT") or "text").strip().lower()
    if chosen not in ("json", "text"):
        raise SystemExit(f"HUB_LOG_FORMAT must be json or text, got {chosen!r}")
    handler = _Stderr()
    handler.addFilter(_RequestId())
    handler.setFormatter(JsonLines() if chosen == "json" else _Text("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    # uvicorn's own loggers would print in their format beside ours: route them through the root handler.
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
