"""The Alembic migrations build exactly the schema the models describe (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.cli import main
from hub.data import migrate
from hub.data.models import Base


async def test_migrated_database_matches_the_models(engine):
    def diff(connection):
        return compare_metadata(MigrationContext.configure(connection, opts={"compare_type": True}), Base.metadata)

    async with engine.connect() as connection:
        assert await connection.run_sync(diff) == []


async def test_database_is_at_head(engine):
    assert await migrate.current_revision(engine) == migrate.head_revision()


def test_export_schema_command_writes_the_committed_sdl(tmp_path):
    target = tmp_path / "schema.graphql"
    main(["export-schema", "-o", str(target)])
    committed = (Path(__file__).resolve().parent.parent / "schema.graphql").read_text(encoding="utf-8")
    assert target.read_text(encoding="utf-8") == committed
