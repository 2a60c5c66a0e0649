"""Signed download links: a form opens from a plain browser link, with no token in the URL.

A browser following a link sends no `Authorization` header, and a token put in
the URL would stay in histories and server logs. Instead a signed-in caller
asks the API for a link (`templates { downloadLink(variables: …) }`): the path,
the variables, the user and an expiry, signed with the hub's key (HMAC-SHA256).
The export endpoint accepts that signature in place of a token until the link
expires. The export still runs as that user with their grants as they are
then: a deactivated user's links stop working.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

LINK_PARAMS = ("signed_by", "expires", "signature")  # reserved: no template variable may use them


class LinkError(Exception):
    """A link that was altered, signed by another key, incomplete or expired."""


def hub_key(secret: str | None, data_dir: Path) -> bytes:
    """`HUB_SECRET_KEY`, else a key made once in the data folder, which every process of the hub shares."""
    if secret:
        return secret.encode()
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_bytes()
    data_dir.mkdir(parents=True, exist_ok=True)
    # The key is written whole into a file of this process's own, then linked into place: of the
    # workers of `hub serve --workers N` starting together, one links its key and all read that one
    # (created in place, a key could be read half written, or empty).
    draft = data_dir / f"secret.key.{os.getpid()}"
    descriptor = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(secrets.token_bytes(32))
    try:
        os.link(draft, path)
    except FileExistsError:
        pass
    finally:
        draft.unlink()
    return path.read_bytes()


@dataclass(frozen=True)
class DownloadLinks:
    key: bytes
    seconds: int  # how long a link works

    def _signature(self, path: str, variables: dict[str, str], user_id: int, expires: int) -> str:
        message = "\n".join((path, str(user_id), str(expires), urlencode(sorted(variables.items()))))
        return hmac.new(self.key, message.encode(), hashlib.sha256).hexdigest()

    def make(self, path: str, variables: dict[str, str], user_id: int, now: int) -> str:
        expires = now + self.seconds
        signature = self._signature(path, variables, user_id, expires)
        return f"{path}?{urlencode({**variables, 'signed_by': user_id, 'expires': expires, 'signature': signature})}"

    def verify(self, path: str, query: dict[str, str], now: int) -> tuple[int, dict[str, str]]:
        """The user a link was made for and its variables; `LinkError` if it cannot be trusted now."""
        variables = {k: v for k, v in query.items() if k not in LINK_PARAMS}
        try:
            user_id, expires = int(query["signed_by"]), int(query["expires"])
        except (KeyError, ValueError):
            raise LinkError("下载链接不完整：signed_by、expires 和 signature 三个参数须一起出现") from None
        if not hmac.compare_digest(self._signature(path, variables, user_id, expires), query.get("signature", "")):
            raise LinkError("下载链接无效：链接被改动过，或不是本数据中心生成的")
        if expires < now:
            raise LinkError("下载链接已过期：请向数据中心重新获取（templates { downloadLink }）")
        return user_id, variables
