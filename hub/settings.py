"""Settings, read once from environment variables (listed in README.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def _int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise SystemExit(f"{name} must be a number, got {raw!r}") from None


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    assets_dir: Path
    max_page_size: int = 1000
    default_page_size: int = 100
    max_depth: int = 12
    max_tokens: int = 5000
    max_aliases: int = 30
    request_timeout: float = 30.0
    db_pool_size: int = 10
    token_cache_seconds: float = 10.0
    secret_key: str | None = None  # signs download links; None: a key kept in the data folder
    download_link_seconds: int = 600
    metrics_token: str | None = None  # who may read /metrics; None: loopback clients only
    # A log line per request: off unless asked, since the access log and /metrics already count every
    # request and the line cost a fifth of a single-field update's time on loopback.
    log_requests: bool = False
    # People signed in with a password: a session ends after this long idle, or this long after sign-in.
    session_idle_minutes: int = 30
    session_hours: int = 12
    sign_in_lock_minutes: int = 15  # after five failed sign-ins in a row (per account name and per address)
    # Behind a reverse proxy that sets X-Forwarded-Proto/-For: trust them for the Secure cookie and the address.
    trust_proxy_headers: bool = False
    # Reads select only the columns a document needs (resolvers/narrowing.py); off only to compare answers.
    narrow_reads: bool = True
    # Lists complete their loaded relations and leaves in one loop (schema/execution.py); off only to compare answers.
    fast_rows: bool = True

    @classmethod
    def from_env(cls) -> Settings:
        data_dir = Path(os.environ.get("HUB_DATA_DIR") or "var").resolve()
        database_url = os.environ.get("HUB_DATABASE_URL") or (
            f"sqlite+aiosqlite:///{data_dir / 'hub.sqlite3'}"
        )
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            assets_dir=Path(os.environ.get("HUB_ASSETS_DIR") or data_dir / "assets").resolve(),
            max_page_size=_int("HUB_MAX_PAGE_SIZE", 1000),
            default_page_size=_int("HUB_DEFAULT_PAGE_SIZE", 100),
            max_depth=_int("HUB_MAX_DEPTH", 12),
            max_tokens=_int("HUB_MAX_TOKENS", 5000),
            max_aliases=_int("HUB_MAX_ALIASES", 30),
            request_timeout=_float("HUB_REQUEST_TIMEOUT", 30.0),
            db_pool_size=_int("HUB_DB_POOL_SIZE", 10),
            token_cache_seconds=_float("HUB_TOKEN_CACHE_SECONDS", 10.0),
            secret_key=os.environ.get("HUB_SECRET_KEY") or None,
            download_link_seconds=_int("HUB_DOWNLOAD_LINK_SECONDS", 600),
            metrics_token=os.environ.get("HUB_METRICS_TOKEN") or None,
            log_requests=_flag("HUB_LOG_REQUESTS"),
            session_idle_minutes=_int("HUB_SESSION_IDLE_MINUTES", 30),
            session_hours=_int("HUB_SESSION_HOURS", 12),
            sign_in_lock_minutes=_int("HUB_SIGN_IN_LOCK_MINUTES", 15),
            trust_proxy_headers=_flag("HUB_TRUST_PROXY_HEADERS"),
            narrow_reads=os.environ.get("HUB_NARROW_READS", "1") != "0",
            fast_rows=os.environ.get("HUB_FAST_ROWS", "1") != "0",
        )
