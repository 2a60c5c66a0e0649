"""The README's examples run as the users they name.

Every ```graphql block and every `curl` command in README.md follows a `<!-- run-as: user … -->`
marker; each runs against the app as each user named there and must answer without errors. The
table of template variables is compared with the shipped templates.
"""

from __future__ import annotations

import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from openpyxl import load_workbook

from hub.forms.templates import load_templates
from tests.conftest import client_as, graphql

README = Path(__file__).resolve().parent.parent / "README.md"
MARKER = re.compile(r"^<!-- run-as: ([\w\- ]+) -->$")
FENCE = re.compile(r"^```(\w*)$")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Example:
    line: int  # where it starts in README.md
    kind: str  # graphql or curl
    text: str
    users: tuple[str, ...]


def examples(text: str) -> list[Example]:
    """The README's GraphQL blocks and curl commands, each with the users of the marker before it."""
    found, users, lines, number = [], (), text.splitlines(), 0
    while number < len(lines):
        line = lines[number]
        if match := MARKER.match(line.strip()):
            users = tuple(match[1].split())
        elif (fence := FENCE.match(line)) and fence[1]:
            end = lines.index("```", number + 1)
            if fence[1] == "graphql":
                found.append(Example(number + 1, "graphql", "\n".join(lines[number + 1:end]), users))
            users, number = (), end
        elif line.lstrip().startswith("curl "):
            command = line.strip()
            while command.endswith("\\"):
                number += 1
                command = command[:-1] + lines[number].strip()
            found.append(Example(number + 1, "curl", command, users))
            users = ()
        elif line.strip() and not line.startswith("    ") and not line.startswith("<!--"):
            users = ()  # a marker belongs to the code right after it (prose in between ends it)
        number += 1
    return found


README_EXAMPLES = examples(README.read_text(encoding="utf-8"))


def test_every_example_names_its_users():
    assert {e.kind for e in README_EXAMPLES} == {"graphql", "curl"}
    unnamed = [f"README.md:{e.line} ({e.kind})" for e in README_EXAMPLES if not e.users]
    assert not unnamed, f"add <!-- run-as: USER --> before: {unnamed}"


@pytest.mark.parametrize(
    "example", [e for e in README_EXAMPLES if e.kind == "graphql"], ids=lambda e: f"line{e.line}"
)
async def test_graphql_examples_run_as_their_users(app, tokens, example: Example):
    for user in example.users:
        async with client_as(app, tokens[user]) as client:
            data = await graphql(client, example.text)  # asserts 200 and no errors
        assert data and all(value is not None for value in data.values()), (user, data)
        # A signed link from the README opens in a browser without a token.
        if link := (data.get("template") or {}).get("downloadLink"):
            async with client_as(app, None) as browser:
                opened = await browser.get(link)
            assert opened.status_code == 200 and opened.headers["content-type"] == XLSX, opened.text


@pytest.mark.parametrize("example", [e for e in README_EXAMPLES if e.kind == "curl"], ids=lambda e: f"line{e.line}")
async def test_curl_examples_run_as_their_users(app, tokens, example: Example):
    words = shlex.split(example.text.replace("$TOKEN", "TOKEN"))
    (url,) = [w for w in words if w.startswith("http://127.0.0.1:8000/")]
    assert words[words.index("-H") + 1] == "Authorization: Bearer TOKEN"
    target = urlsplit(url)
    for user in example.users:
        async with client_as(app, tokens[user]) as client:
            response = await client.get(f"{target.path}?{target.query}")
        assert response.status_code == 200, (user, response.text)
        assert response.headers["content-type"] == XLSX
        assert "filename=" in response.headers["content-disposition"]  # what -J saves it as


def test_the_token_line_uses_the_cli_as_it_prints():
    """`TOKEN=$(hub token issue USER)` works because the command prints only the token on stdout."""
    text = README.read_text(encoding="utf-8")
    assert "    TOKEN=$(.venv/bin/hub token issue minzheng)\n" in text


def test_the_variables_table_matches_the_templates(schemas):
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- template-variables -->", 1)[1].split("\n\n", 2)[1]
    rows = [line.split("|")[1:-1] for line in table.splitlines()[2:]]
    templates = load_templates(schemas.full._schema, {k: s._schema for k, s in schemas.departments.items()})
    assert sorted(cell[0].strip().strip("`") for cell in rows) == sorted(templates)
    for template_id, title, department, variables in rows:
        template = templates[template_id.strip().strip("`")]
        assert title.strip() == template.title
        assert f"(`{template.department}`)" in department
        named = re.findall(r"`([A-Za-z]\w*)`", variables)
        assert named == [v.name for v in template.variables], template.id
        for variable in template.variables:
            if variable.default is not None:  # a variable without one is required
                assert str(variable.default) in variables, (template.id, variable.name)


async def test_a_readme_form_downloads_with_the_readme_token(app, tokens):
    """The file the README's curl saves is a real form of 东星社区."""
    (curl,) = [e for e in README_EXAMPLES if e.kind == "curl" and "/exports/" in e.text]
    url = urlsplit(next(w for w in shlex.split(curl.text) if w.startswith("http")))
    async with client_as(app, tokens[curl.users[0]]) as client:
        response = await client.get(f"{url.path}?{url.query}")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["A2"].value.startswith("填报单位（地区）：东星社区")
