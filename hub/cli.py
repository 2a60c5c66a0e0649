"""The `hub` command line."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import time
from pathlib import Path

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy import func, inspect, select
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import graphiql, migrate
from hub.db import create_engine, is_sqlite
from hub.models import Base, Region
from hub.settings import Settings

console = Console(stderr=True)


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description:<24}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console
    )


async def _has_schema(engine: AsyncEngine) -> bool:
    async with engine.connect() as connection:
        return await connection.run_sync(lambda c: inspect(c).has_table(Region.__tablename__))


async def _region_count(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return (await connection.execute(select(func.count()).select_from(Region))).scalar_one()


async def seed(engine: AsyncEngine, scale: int, reset: bool = False) -> dict[str, int]:
    from hub.demo import seed_demo

    if reset:
        async with engine.begin() as connection:
            await connection.run_sync(Base.metadata.drop_all)
            await connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")
    await migrate.upgrade(engine)
    if await _region_count(engine):
        raise SystemExit("the database already holds data: use `hub demo-data --reset` to replace it")
    with _progress() as progress:
        tasks: dict[str, int] = {}

        def report(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=done, total=total)

        started = time.perf_counter()
        counts = await seed_demo(engine, scale=scale, progress=report)
    summary = ", ".join(f"{count:,} {table}" for table, count in counts.items())
    console.print(f"demo data: {summary} in {time.perf_counter() - started:.1f} s")
    return counts


def install_assets(settings: Settings) -> None:
    if graphiql.assets_ready(settings.assets_dir):
        return
    console.print(f"installing GraphiQL assets from the npm registry into {settings.assets_dir} …")
    try:
        graphiql.install_assets(settings.assets_dir, log=console.print)
    except graphiql.AssetError as error:
        raise SystemExit(str(error)) from None


async def _prepare_demo(settings: Settings) -> None:
    engine = create_engine(settings)
    try:
        if not is_sqlite(settings.database_url):
            raise SystemExit("--demo seeds the embedded SQLite database; unset HUB_DATABASE_URL or run `hub demo-data`")
        if not await _has_schema(engine) or not await _region_count(engine):
            await seed(engine, scale=_default_scale())
        else:
            await migrate.upgrade(engine)
    finally:
        await engine.dispose()


def _default_scale() -> int:
    from hub.demo import DEFAULT_SCALE

    return DEFAULT_SCALE


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from hub.app import create_app

    if args.demo:
        asyncio.run(_prepare_demo(settings))
        install_assets(settings)
    console.print(f"GraphiQL: http://{args.host}:{args.port}/graphql")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info", access_log=False)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    async def run() -> None:
        engine = create_engine(settings)
        try:
            await migrate.upgrade(engine, args.revision)
            console.print(f"database at revision {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(run())


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> None:
    if args.scale < 1:
        raise SystemExit(f"--scale must be at least 1, got {args.scale}")

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await seed(engine, args.scale, reset=args.reset)
        finally:
            await engine.dispose()

    asyncio.run(run())


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    from schema.build import build_schema

    sdl = build_schema(settings).as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        console.print(f"wrote {args.output}")


def cmd_assets_install(args: argparse.Namespace, settings: Settings) -> None:
    install_assets(settings)
    console.print(f"GraphiQL assets ready in {settings.assets_dir}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="One-table data hub for grassroots reporting")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server (GraphQL API and GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="create and seed the SQLite database if it is empty")
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply Alembic migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=cmd_db_upgrade)

    demo = commands.add_parser("demo-data", help="seed Putian-shaped demo data")
    demo.add_argument("--scale", type=int, default=_default_scale(), help="households per village (average)")
    demo.add_argument("--reset", action="store_true", help="drop all tables first")
    demo.set_defaults(func=cmd_demo_data)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("-o", "--output", default="schema.graphql", help="file to write, or - for stdout")
    export.set_defaults(func=cmd_export_schema)

    assets = commands.add_parser("assets", help="GraphiQL's browser assets")
    assets_commands = assets.add_subparsers(dest="assets_command", required=True)
    assets_install = assets_commands.add_parser("install", help="fetch GraphiQL from the npm registry and verify it")
    assets_install.set_defaults(func=cmd_assets_install)
    return parser


def main(argv: list[str] | None = None) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = build_parser().parse_args(argv)
    args.func(args, Settings.from_env())


if __name__ == "__main__":
    main()
