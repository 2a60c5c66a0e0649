"""The pages' GraphQL documents are valid against the checked-in SDL and against every view they run under.

Each `.graphql` file under hub/web/pages/graphql names its views in its first line
(`# views: ROLE[:department] …`). A schema change that breaks a page fails here.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import build_schema, parse, validate

from hub.data.models import Role
from hub.web.pages import GRAPHQL_DIR
from schema.build import Schemas

DOCUMENTS = sorted(GRAPHQL_DIR.glob("*.graphql"))
SDL = Path(__file__).resolve().parents[1] / "schema.graphql"


def views_of(path: Path) -> list[tuple[Role, str | None]]:
    first = path.read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# views: "), f"{path.name}: the first line names the views it runs under"
    views = []
    for view in first.removeprefix("# views: ").split():
        role, _, department = view.partition(":")
        views.append((Role[role], department or None))
    return views


def test_every_page_document_is_listed_and_used() -> None:
    assert len(DOCUMENTS) >= 15
    scripts = "".join(p.read_text(encoding="utf-8") for p in (GRAPHQL_DIR.parent / "js").glob("*.js"))
    unused = [p.stem for p in DOCUMENTS if f'"{p.stem}"' not in scripts]
    assert unused == [], "documents no page loads"


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.stem)
def test_page_document_is_valid_in_the_sdl_and_in_its_views(path: Path, schemas: Schemas) -> None:
    document = parse(path.read_text(encoding="utf-8"))
    assert [e.message for e in validate(build_schema(SDL.read_text(encoding="utf-8")), document)] == []
    for role, department in views_of(path):
        view = schemas.for_caller(role, department)
        assert view is not None, (role, department)
        assert [e.message for e in validate(view._schema, document)] == [], (path.name, role.name, department)
