"""Query the hub from Python with `gql`, checking the query against the hub's schema before sending it.

    pip install 'gql[httpx]'
    export HUB_TOKEN=$(.venv/bin/hub token issue minzheng)   # 民政局
    python client_examples/gql_client.py [http://127.0.0.1:8000/graphql] [region code]

Prints the households of elderly people living alone in a region (西天尾镇 unless a code is
given), page by page. The client validates the query against schema.graphql (committed
beside this folder) before it sends anything: a schema change that breaks the query fails
here, with the field named, not on the server. The token is read from HUB_TOKEN.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from gql import Client, GraphQLRequest
from gql.transport.exceptions import TransportQueryError
from gql.transport.httpx import HTTPXTransport

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/graphql"
TOWN = sys.argv[2] if len(sys.argv) > 2 else "350304100000"  # 西天尾镇
SCHEMA = Path(__file__).resolve().parent.parent / "schema.graphql"

ELDERLY_ALONE = """
query ElderlyAlone($town: String!, $after: String) {
  households(regionCode: $town, elderlyAlone: true, first: 20, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { address head { name age } }
  }
}
"""


def main() -> None:
    token = os.environ.get("HUB_TOKEN", "").strip()
    if not token:
        raise SystemExit("HUB_TOKEN is not set: export HUB_TOKEN=$(.venv/bin/hub token issue minzheng) first (未设置 HUB_TOKEN)")
    transport = HTTPXTransport(url=URL, headers={"Authorization": f"Bearer {token}", "Accept": "application/graphql-response+json"})
    with Client(transport=transport, schema=SCHEMA.read_text(encoding="utf-8")) as session:
        after = None
        while True:
            try:
                page = session.execute(GraphQLRequest(ELDERLY_ALONE, variable_values={"town": TOWN, "after": after}))["households"]
            except TransportQueryError as error:  # the hub refused: its message says why
                raise SystemExit("; ".join(e["message"] for e in error.errors or [])) from None
            for household in page["nodes"]:
                head = household["head"]
                print(f"{head['name']}（{head['age']}岁） {household['address']}")
            if not page["pageInfo"]["hasNextPage"]:
                print(f"共 {page['totalCount']} 户独居老人")
                return
            after = page["pageInfo"]["endCursor"]


if __name__ == "__main__":
    main()
