"""The committed SDL (schema.graphql) is what the code builds; every field carries a Chinese label."""

from __future__ import annotations

import re
from pathlib import Path

from graphql import GraphQLObjectType, find_breaking_changes
from graphql import build_schema as parse_sdl

from hub.settings import Settings
from schema.build import build_schema

SDL_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"
CJK = re.compile(r"[\u4e00-\u9fff]")


def test_committed_sdl_matches_the_code():
    built = build_schema(Settings.from_env()).as_str() + "\n"
    committed = SDL_FILE.read_text(encoding="utf-8")
    if committed != built:
        breaking = find_breaking_changes(parse_sdl(committed), parse_sdl(built))
        raise AssertionError(
            "schema.graphql is out of date: run `hub export-schema` and commit it."
            + "".join(f"\n  breaking: {change.description}" for change in breaking)
        )


def test_every_field_and_argument_has_a_chinese_description():
    schema = build_schema(Settings.from_env())._schema
    missing = []
    for type_ in schema.type_map.values():
        if type_.name.startswith("__") or not isinstance(type_, GraphQLObjectType):
            continue
        for field_name, field in type_.fields.items():
            if not CJK.search(field.description or ""):
                missing.append(f"{type_.name}.{field_name}")
            missing += [
                f"{type_.name}.{field_name}({arg})" for arg, a in field.args.items() if not CJK.search(a.description or "")
            ]
    assert missing == []
