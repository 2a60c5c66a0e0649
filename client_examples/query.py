"""Query the hub from Python with nothing but the standard library.

    export HUB_TOKEN=$(.venv/bin/hub token issue minzheng)   # 民政局: low-income households
    python client_examples/query.py [http://127.0.0.1:8000/graphql]

Prints the low-income households of 东星社区 (a village code under 西天尾镇),
walking every page with the cursor. The token is read from HUB_TOKEN, never from
the command line (where other users of the machine could read it).
"""

from __future__ import annotations

import json
import os
import sys
import urllib.error
import urllib.request

URL = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000/graphql"

QUERY = """
query LowIncome($region: String!, $after: String) {
  households(regionCode: $region, lowIncome: true, first: 50, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    nodes { address subsidyMonthly head { name idNumber age } members { name relationToHead } }
  }
}
"""


def token() -> str:
    value = os.environ.get("HUB_TOKEN", "").strip()
    if not value:
        raise SystemExit("HUB_TOKEN is not set: export HUB_TOKEN=$(.venv/bin/hub token issue minzheng) first (未设置 HUB_TOKEN)")
    return value


def graphql(query: str, variables: dict) -> dict:
    request = urllib.request.Request(
        URL,
        data=json.dumps({"query": query, "variables": variables}).encode(),
        headers={
            "Content-Type": "application/json",
            "Accept": "application/graphql-response+json",
            "Authorization": f"Bearer {token()}",
        },
    )
    try:
        with urllib.request.urlopen(request) as response:
            body = json.load(response)
    except urllib.error.HTTPError as error:  # 400: the query itself is wrong; 401: the token
        body = json.load(error)
    if "errors" in body:
        raise SystemExit("; ".join(e["message"] for e in body["errors"]))
    return body["data"]


def main() -> None:
    village = graphql('{ regions(nameContains: "东星社区") { nodes { code } } }', {})["regions"]["nodes"][0]["code"]
    after = None
    while True:
        page = graphql(QUERY, {"region": village, "after": after})["households"]
        for household in page["nodes"]:
            head = household["head"]
            print(f"{head['name']}（{head['age']}岁） {household['address']}  保障金 {household['subsidyMonthly']} 元/月  "
                  f"{len(household['members'])} 人")
        if not page["pageInfo"]["hasNextPage"]:
            print(f"共 {page['totalCount']} 户")
            return
        after = page["pageInfo"]["endCursor"]


if __name__ == "__main__":
    main()
