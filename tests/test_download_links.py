"""Signed download links cannot be turned into someone else's: the signer is part of what is signed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from hub.access.accounts import caller_named
from tests.conftest import client_as, graphql
from tests.test_queries import region_code

LINK = """query($id: String!, $v: JSON, $fill: Boolean! = false) { template(id: $id) { downloadLink(variables: $v, fillSheet: $fill) } }"""


@pytest.mark.parametrize("fill", [False, True])
async def test_a_link_whose_signer_is_changed_to_admin_is_refused(app, engine, as_user, client, fill):
    dongxing = await region_code(client, "东星社区")
    async with as_user("dongxing") as cadre:  # the cadre reads 东星社区 only; admin reads the whole city
        link = (await graphql(cadre, LINK, {"id": "dibao-dongtai", "v": {"region": dongxing}, "fill": fill}))["template"]["downloadLink"]
    admin = await caller_named(engine, "admin")
    path, query = urlsplit(link).path, {k: v[0] for k, v in parse_qs(urlsplit(link).query).items()}
    assert query["signed_by"] != str(admin.user_id)
    async with client_as(app, None) as browser:
        assert (await browser.get(link)).status_code == 200  # the link as made works
        as_admin = await browser.get(f"{path}?{urlencode({**query, 'signed_by': admin.user_id})}")
        as_admin_elsewhere = await browser.get(f"{path}?{urlencode({**query, 'signed_by': admin.user_id, 'region': '350302000000'})}")
    refused = {"errors": [{"code": "FORBIDDEN", "message": "下载链接无效：链接被改动过，或不是本数据中心生成的"}]}
    for answer in (as_admin, as_admin_elsewhere):
        assert (answer.status_code, answer.json()) == (403, refused)
        assert "xlsx" not in answer.headers["content-type"]
