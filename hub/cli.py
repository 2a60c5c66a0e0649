"""The `hub` command line."""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import getpass
import logging
import re
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub import logs
from hub.access import accounts, passwords
from hub.data import migrate
from hub.data.database import create_engine, is_sqlite
from hub.data.models import Base, OrgUnitKind, Region, Role, User
from hub.settings import Settings
from hub.web import graphiql

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


async def seed(engine: AsyncEngine, scale: int, reset: bool = False, data_dir: Path | None = None) -> dict[str, int]:
    from hub.data.blobs import blob_store
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
        counts = await seed_demo(engine, scale=scale, progress=report, photos=blob_store(data_dir) if data_dir else None)
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


async def _prepare_demo(settings: Settings) -> str | None:
    """Seed the embedded database if it is empty; then, and only then, issue the demo's admin token.

    Every start issuing one left a new live admin token behind each time; later starts say how to
    get one instead."""
    from hub.access.accounts import issue_token

    engine = create_engine(settings)
    try:
        if not is_sqlite(settings.database_url):
            raise SystemExit("--demo seeds the embedded SQLite database; unset HUB_DATABASE_URL or run `hub demo-data`")
        if not await _has_schema(engine) or not await _region_count(engine):
            await seed(engine, scale=_default_scale(), data_dir=settings.data_dir)
            return await issue_token(engine, "admin", days=7)
        await migrate.upgrade(engine)
        return None
    finally:
        await engine.dispose()


def _default_scale() -> int:
    from hub.demo import DEFAULT_SCALE

    return DEFAULT_SCALE


def print_demo_sign_in(token: str | None) -> None:
    """The admin token issued when the demo was seeded, or, on later starts, how to get one."""
    if token is None:
        console.print(
            "Demo sign-in: `hub token issue admin` (or any demo user) prints a token; paste "
            '{"Authorization": "Bearer <token>"} into GraphiQL\'s Headers tab.',
            highlight=False, markup=False,
        )
        return
    console.print("Demo sign-in: paste into GraphiQL's Headers tab (admin, valid 7 days; shown this once, on seeding; "
                  "later, or for other demo users: `hub token issue USERNAME`):", markup=False)
    console.print(f'  {{"Authorization": "Bearer {token}"}}', highlight=False, soft_wrap=True)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> None:
    import uvicorn

    from hub.web.app import create_app

    schemas = _schemas(settings)  # a bad policy file stops here, with its file and line
    if args.demo:
        token = asyncio.run(_prepare_demo(settings))
        install_assets(settings)
        print_demo_sign_in(token)
        from hub.demo.accounts import FIRST_PASSWORD

        console.print(f"Demo people: sign in at http://{args.host}:{args.port}/app/ as any demo user "
                      f"(first password {FIRST_PASSWORD}, changed at the first sign-in).", highlight=False, markup=False)
    if args.workers < 1:
        raise SystemExit(f"--workers must be at least 1, got {args.workers}")
    logging.getLogger("hub").info("GraphiQL: http://%s:%s/graphql", args.host, args.port)  # a log line: JSON when asked
    logging.getLogger("hub").info("Pages for people: http://%s:%s/app/", args.host, args.port)
    # keep hub.logs' handlers (log_config=None): HUB_LOG_FORMAT=json applies to uvicorn's lines too;
    # no `server: uvicorn` header: the hub does not tell strangers what it runs on
    options = dict(host=args.host, port=args.port, log_level="info", access_log=False, log_config=None, server_header=False)
    if args.workers == 1:
        uvicorn.run(create_app(settings, schemas=schemas), **options)
    else:  # each worker process builds its own app from the same environment
        uvicorn.run("hub.web.app:app_from_env", factory=True, workers=args.workers, **options)


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> None:
    async def run() -> None:
        engine = create_engine(settings)
        try:
            await migrate.upgrade(engine, args.revision)
            console.print(f"database at revision {await migrate.current_revision(engine)}")
        finally:
            await engine.dispose()

    asyncio.run(run())


def cmd_backup(args: argparse.Namespace, settings: Settings) -> None:
    from hub.data.backup import BackupError, backup

    try:
        manifest = backup(settings.database_url, settings.data_dir, Path(args.file))
    except BackupError as error:
        raise SystemExit(str(error)) from None
    size = manifest["members"]["hub.sqlite3"]["bytes"]
    console.print(f"backed up {size} bytes of database (revision {manifest['revision']}) to {args.file}", highlight=False, soft_wrap=True)


def cmd_restore(args: argparse.Namespace, settings: Settings) -> None:
    from hub.data.backup import BackupError, restore

    try:
        manifest = restore(Path(args.file), settings.database_url, settings.data_dir)
    except BackupError as error:
        raise SystemExit(str(error)) from None
    console.print(f"restored the backup of {manifest['created']} (revision {manifest['revision']}) into {settings.data_dir}", soft_wrap=True,
                  highlight=False)


def cmd_demo_data(args: argparse.Namespace, settings: Settings) -> None:
    if args.scale < 1:
        raise SystemExit(f"--scale must be at least 1, got {args.scale}")

    async def run() -> None:
        engine = create_engine(settings)
        try:
            await seed(engine, args.scale, reset=args.reset, data_dir=settings.data_dir)
        finally:
            await engine.dispose()

    asyncio.run(run())


def _schemas(settings: Settings):
    from hub.yamlfile import DataFileError
    from schema.build import Schemas

    try:
        return Schemas(settings)
    except DataFileError as error:
        raise SystemExit(str(error)) from None


def cmd_export_schema(args: argparse.Namespace, settings: Settings) -> None:
    if args.department is None:
        from schema.build import build_schema

        schema = build_schema(settings)
    else:
        schemas = _schemas(settings)
        if args.department not in schemas.departments:
            raise SystemExit(f"no department `{args.department}` in {schemas.policy.source} (departments: {', '.join(schemas.departments)})")
        schema = schemas.departments[args.department]
    sdl = schema.as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(sdl)
    else:
        Path(args.output).write_text(sdl, encoding="utf-8")
        console.print(f"wrote {args.output}")


def cmd_policy_check(args: argparse.Namespace, settings: Settings) -> None:
    schemas = _schemas(settings)
    policy = schemas.policy
    grants = sum(len(d.grants) for d in policy.departments.values())
    console.print(f"{policy.source}: valid — {len(policy.departments)} departments, {grants} field grants, {len(policy.roles)} roles")


def cmd_policy_show(args: argparse.Namespace, settings: Settings) -> None:
    from rich.table import Table

    from hub.access.policy import describe
    from hub.yamlfile import DataFileError

    policy = _schemas(settings).policy
    try:
        rows = list(describe(policy, args.department))
    except DataFileError as error:
        raise SystemExit(str(error)) from None
    table = Table(title=f"{policy.departments[args.department].name} ({args.department})")
    # Field names, modes and lines are never cut; a narrow terminal wraps the purpose instead.
    longest = max((len(row[0]) for row in rows), default=5)
    table.add_column("field", no_wrap=True, min_width=longest)
    table.add_column("mode", no_wrap=True, min_width=6)
    table.add_column("purpose / legal basis", overflow="fold", ratio=1)
    table.add_column("line", no_wrap=True, min_width=4)
    for row in rows:
        table.add_row(*row)
    Console().print(table)


def cmd_import(args: argparse.Namespace, settings: Settings) -> None:
    from dataclasses import replace

    from rich.table import Table

    from hub.access.access_log import AccessLogWriter
    from hub.access.accounts import AccountError, caller_named
    from hub.domain.context import Context
    from hub.legacy.importer import (
        BUILT_IN,
        ImportError_,
        apply_import,
        built_in_mapping,
        check_reads,
        load_mapping,
        note_access,
        plan_import,
        read_rows,
    )
    from hub.yamlfile import DataFileError

    schemas = _schemas(settings)
    try:
        mapping = built_in_mapping(args.mapping) if args.mapping in BUILT_IN else load_mapping(Path(args.mapping))
    except DataFileError as error:
        raise SystemExit(str(error)) from None
    if args.village:
        mapping = replace(mapping, village=args.village)

    async def run() -> None:
        engine = create_engine(settings)
        context, outcome = None, "error"
        try:
            caller = await caller_named(engine, args.as_user)
            context = Context.for_caller(engine, settings, schemas.policy, caller, f"cli-{uuid.uuid4().hex[:12]}")
            note_access(context, mapping, args.mapping, args.apply)
            check_reads(context, mapping)  # as over HTTP: refused from the grants alone, before the file is read
            with _progress() as progress:
                reading = progress.add_task("reading rows", total=None)
                rows, rejected = read_rows(Path(args.file), mapping, lambda n: progress.update(reading, completed=n))
                progress.update(reading, total=len(rows) + len(rejected), completed=len(rows) + len(rejected))
            context.audit["row_count"] = len(rows) + len(rejected)
            plan, village = await plan_import(context, mapping, rows, rejected)
            summary = plan.summary()
            table = Table(title=f"{args.file} → {village.name}（{'applied' if args.apply else 'dry run'}）")
            counts = ("new", "updated", "unchanged", "duplicates", "rejected", "newHouseholds", "updatedHouseholds")
            for key in counts:
                table.add_column(key)
            table.add_row(*(str(summary[k]) for k in counts))
            Console().print(table)
            for skipped in summary["skippedColumns"]:
                Console().print(f"  not imported: {skipped['field']} ({skipped['reason']})", highlight=False)
            for rejected_row in summary["rejectedRows"]:
                Console().print(f"  row {rejected_row['row']}: {rejected_row['reason']}", highlight=False)
            if args.apply:
                with _progress() as progress:
                    writing = progress.add_task("writing", total=None)
                    await apply_import(context, plan, village, lambda done, total: progress.update(writing, completed=done, total=total))
                console.print("applied in one transaction")
            else:
                console.print("dry run: nothing written (add --apply to write)")
            outcome = "ok"
        except AccountError as error:
            raise SystemExit(str(error)) from None
        except ImportError_ as error:
            outcome = "refused"
            raise SystemExit(str(error)) from None
        finally:
            if context is not None:  # an import from the command line is in the access log as one over HTTP is
                await AccessLogWriter(engine).record(caller, context.request_id, context.audit, outcome)
            await engine.dispose()

    asyncio.run(run())


def _column_mapping(text: str):
    from hub.forms.onboarding import ColumnMapping

    column, sep, to = text.partition("=")
    if not sep or not column.strip() or not to.strip():
        raise SystemExit(f"--map {text}：写成 栏=字段路径，如 --map 9=healthStatus、--map 备注=indicator、--map 联系电话=open")
    column = column.strip()
    return ColumnMapping(to.strip(), column=int(column)) if column.isdigit() else ColumnMapping(to.strip(), header=column)


def cmd_template_import(args: argparse.Namespace, settings: Settings) -> None:
    from hub.access.access_log import AccessLogWriter
    from hub.access.accounts import AccountError, caller_named
    from hub.forms.onboarding import FormRefused, onboard
    from hub.forms.template_store import TemplateStore
    from hub.forms.templates import load_templates
    from hub.forms.untrusted_xlsx import SheetRefused

    schemas = _schemas(settings)
    path = Path(args.file)
    template_id = args.id or f"{args.department}-{re.sub(r'[^a-z0-9]+', '-', path.stem.lower()).strip('-') or 'form'}"
    mappings = tuple(_column_mapping(text) for text in args.map or ())
    full, views = schemas.full._schema, {key: view._schema for key, view in schemas.departments.items()}

    async def run() -> None:
        engine = create_engine(settings)
        caller, outcome = None, "error"
        # As over GraphQL (a proposeTemplate mutation): who imported which form, saved or not; no records are read.
        audit = {"operation_type": "mutation" if args.save else "query",
                 "operation_name": f"templateImport {template_id}{'' if args.save else ' dryRun'}"[:128]}
        try:
            caller = await caller_named(engine, args.as_user)
            if caller.department != args.department:
                raise FormRefused("FORBIDDEN", "只有部门的分析员可以导入本部门的表样")
            store = TemplateStore(engine, load_templates(full, views), full, views)
            proposal, template, problems = await onboard(
                store, schemas.policy, caller, path.read_bytes(), template_id, mappings, args.save, args.version
            )
            for line in proposal.report.lines():
                print(line)  # whole lines, never wrapped: the report is read and pasted as it is
            if args.definition:
                Path(args.definition).write_text(proposal.definition, encoding="utf-8")
                console.print(f"建议的表样定义已写入 {args.definition}", highlight=False)
            if problems:
                outcome = "refused"
                raise SystemExit("\n".join(f"[{p.code}] {p.message}" for p in problems))
            if template is None:
                console.print("只生成报告，未保存（加 --save 保存为本部门的表样）", highlight=False)
            else:
                console.print(f"已保存表样 {template.id}（第 {template.version} 版）：/exports/{template.id}.xlsx", highlight=False)
            outcome = "ok"
        except AccountError as error:
            raise SystemExit(str(error)) from None
        except (FormRefused, SheetRefused) as refused:
            outcome = "refused"
            raise SystemExit(f"[{refused.code}] {refused}") from None
        finally:
            if caller is not None:  # an entry point like any other: in the access log as a proposeTemplate over HTTP is
                await AccessLogWriter(engine).record(caller, f"cli-{uuid.uuid4().hex[:12]}", audit, outcome)
            await engine.dispose()

    asyncio.run(run())


def cmd_assets_install(args: argparse.Namespace, settings: Settings) -> None:
    install_assets(settings)
    console.print(f"GraphiQL assets ready in {settings.assets_dir}")


T = TypeVar("T")


def _accounts(settings: Settings, action: Callable[[AsyncEngine], Awaitable[T]]) -> T:
    """Run an accounts action on a migrated database; turn its errors into a one-line exit."""

    async def run() -> T:
        engine = create_engine(settings)
        try:
            async with engine.connect() as connection:
                migrated = await connection.run_sync(lambda c: inspect(c).has_table(User.__tablename__))
            if not migrated:
                raise accounts.AccountError("the database has no accounts tables: run `hub db upgrade` first")
            return await action(engine)
        finally:
            await engine.dispose()

    try:
        return asyncio.run(run())
    except accounts.AccountError as error:
        raise SystemExit(str(error)) from None
    except (DBAPIError, OSError) as error:
        first_line = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise SystemExit(f"database error: {first_line}") from None


def _parsed(parse: Callable[[str], T], value: str) -> T:
    # Parsed before touching the database, so that a typo fails at once.
    try:
        return parse(value)
    except accounts.AccountError as error:
        raise SystemExit(str(error)) from None


def _when(value: dt.datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M %Z")


def cmd_org_unit_add(args: argparse.Namespace, settings: Settings) -> None:
    kind = _parsed(accounts.parse_org_unit_kind, args.kind)
    _accounts(settings, lambda engine: accounts.add_org_unit(engine, args.name, kind, args.department, args.region))
    console.print(f"added org unit {args.name}")


def cmd_user_add(args: argparse.Namespace, settings: Settings) -> None:
    role = _parsed(accounts.parse_role, args.role)
    _accounts(
        settings,
        lambda engine: accounts.add_user(engine, args.username, args.name, args.unit, role, args.region),
    )
    console.print(f"added user {args.username}; give them a token with `hub token issue {args.username}`")


def cmd_user_list(args: argparse.Namespace, settings: Settings) -> None:
    users = _accounts(settings, accounts.list_users)
    table = Table("username", "name", "org unit", "department", "role", "jurisdiction", "active")
    for user in users:
        table.add_row(
            user["username"],
            user["display_name"],
            user["org_unit"],
            user["department"] or "",
            user["role"].name,
            f"{user['jurisdiction_name']} {user['jurisdiction_code']}",
            "yes" if user["active"] else "no",
        )
    Console().print(table)


def cmd_user_set_password(args: argparse.Namespace, settings: Settings) -> None:
    # Prompted, never an argument: a command line is visible to other users (ps) and kept in shell history.
    first = getpass.getpass(f"new password for {args.username}: ")
    if getpass.getpass("again: ") != first:
        raise SystemExit("the two passwords differ; nothing changed")
    must_change = not args.keep
    _accounts(settings, lambda engine: passwords.set_password(engine, args.username, first, must_change=must_change))
    console.print(f"password set for {args.username}" + ("; it must be changed at the first sign-in" if must_change else ""))


def cmd_token_issue(args: argparse.Namespace, settings: Settings) -> None:
    token = _accounts(settings, lambda engine: accounts.issue_token(engine, args.username, args.days))
    # stdout carries the token alone, so that `TOKEN=$(hub token issue USER)` works.
    sys.stdout.write(token + "\n")
    console.print(
        f"token {token[: accounts.PREFIX_LENGTH]}… for {args.username}, valid for {args.days} days;"
        " it is shown only this once"
    )


def cmd_token_revoke(args: argparse.Namespace, settings: Settings) -> None:
    count = _accounts(
        settings, lambda engine: accounts.revoke_tokens(engine, username=args.user, prefix=args.prefix)
    )
    if args.prefix is not None and count == 0:
        raise SystemExit(f"no unrevoked token has the prefix {args.prefix!r}")
    console.print(f"revoked {count} token{'' if count == 1 else 's'}")


def cmd_token_list(args: argparse.Namespace, settings: Settings) -> None:
    tokens = _accounts(settings, lambda engine: accounts.list_tokens(engine, args.username))
    now = dt.datetime.now(dt.UTC)
    table = Table("prefix", "created", "expires", "status")
    for token in tokens:
        if token["revoked_at"] is not None:
            status = f"revoked {_when(token['revoked_at'])}"
        elif token["expires_at"] <= now:
            status = "expired"
        else:
            status = "valid"
        table.add_row(token["prefix"], _when(token["created_at"]), _when(token["expires_at"]), status)
    Console().print(table)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hub", description="One-table data hub for grassroots reporting")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the HTTP server (GraphQL API and GraphiQL at /graphql)")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--demo", action="store_true", help="create and seed the SQLite database if it is empty")
    serve.add_argument(
        "--workers", type=int, default=1,
        help="processes serving the one port (default 1; on PostgreSQL, one per core: see README's Operating the hub)",
    )
    serve.set_defaults(func=cmd_serve)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", required=True)
    upgrade = db_commands.add_parser("upgrade", help="apply Alembic migrations")
    upgrade.add_argument("revision", nargs="?", default="head")
    upgrade.set_defaults(func=cmd_db_upgrade)

    backup = commands.add_parser("backup", help="copy the SQLite database (and the link key) into FILE, while the hub serves")
    backup.add_argument("file")
    backup.set_defaults(func=cmd_backup)
    restore = commands.add_parser("restore", help="unpack a backup FILE into an empty data folder")
    restore.add_argument("file")
    restore.set_defaults(func=cmd_restore)

    demo = commands.add_parser("demo-data", help="seed Putian-shaped demo data")
    demo.add_argument("--scale", type=int, default=_default_scale(), help="households per village (average)")
    demo.add_argument("--reset", action="store_true", help="drop all tables first")
    demo.set_defaults(func=cmd_demo_data)

    export = commands.add_parser("export-schema", help="write the GraphQL SDL")
    export.add_argument("-o", "--output", default="schema.graphql", help="file to write, or - for stdout")
    export.add_argument("--department", help="write this department's view (its granted fields only)")
    export.set_defaults(func=cmd_export_schema)

    policy = commands.add_parser("policy", help="the department grants file")
    policy_commands = policy.add_subparsers(dest="policy_command", required=True)
    policy_commands.add_parser("check", help="validate the policy against the schema").set_defaults(func=cmd_policy_check)
    show = policy_commands.add_parser("show", help="list a department's fields, modes and purposes")
    show.add_argument("department")
    show.set_defaults(func=cmd_policy_show)

    importing = commands.add_parser("import", help="import a legacy ledger (xlsx): dry run unless --apply")
    importing.add_argument("file")
    importing.add_argument(
        "--mapping", default="person",
        help="`person` (one row per person, the default), `household` (one row per household), or a mapping YAML file",
    )
    importing.add_argument("--village", help="region code where new households go (overrides the mapping)")
    importing.add_argument("--as", dest="as_user", required=True, help="import with this user's permissions")
    importing.add_argument("--apply", action="store_true", help="write the changes (in one transaction)")
    importing.set_defaults(func=cmd_import)

    template = commands.add_parser("template", help="templates (表样)")
    template_commands = template.add_subparsers(dest="template_command", required=True)
    onboard = template_commands.add_parser("import", help="read a department's blank form (xlsx) and print how its columns match the hub")
    onboard.add_argument("file")
    onboard.add_argument("--department", required=True, help="the department whose form it is (its grants bound the match)")
    onboard.add_argument("--id", help="the new template's id (default: DEPARTMENT-FILENAME)")
    onboard.add_argument("--as", dest="as_user", required=True, help="the department's analyst importing it (in the access log)")
    onboard.add_argument("--map", action="append", metavar="COLUMN=PATH",
                         help="the reviewer's mapping of a column (number or header) to a field path, open or indicator; repeatable")
    onboard.add_argument("--definition", help="write the proposed template (YAML) to this file")
    onboard.add_argument("--save", action="store_true", help="save the proposed template as the department's own")
    onboard.add_argument("--version", type=int, help="with --save, replacing a saved template: the version it replaces")
    onboard.set_defaults(func=cmd_template_import)

    assets = commands.add_parser("assets", help="GraphiQL's browser assets")
    assets_commands = assets.add_subparsers(dest="assets_command", required=True)
    assets_install = assets_commands.add_parser("install", help="fetch GraphiQL from the npm registry and verify it")
    assets_install.set_defaults(func=cmd_assets_install)

    org_unit = commands.add_parser("org-unit", help="org units: departments, town centres, village committees")
    org_unit_commands = org_unit.add_subparsers(dest="org_unit_command", required=True)
    org_unit_add = org_unit_commands.add_parser("add", help="add an org unit")
    org_unit_add.add_argument("name", help="单位名称")
    org_unit_add.add_argument("--kind", required=True, help=f"one of {', '.join(k.name for k in OrgUnitKind)}")
    org_unit_add.add_argument("--department", help="the department's key in the policy file, e.g. minzheng")
    org_unit_add.add_argument("--region", help="the unit's region code (12 digits)")
    org_unit_add.set_defaults(func=cmd_org_unit_add)

    user = commands.add_parser("user", help="user accounts")
    user_commands = user.add_subparsers(dest="user_command", required=True)
    user_add = user_commands.add_parser("add", help="add a user")
    user_add.add_argument("username", help="2 to 64 of a-z, 0-9, '.', '_' and '-'")
    user_add.add_argument("--name", required=True, help="姓名")
    user_add.add_argument("--unit", required=True, help="单位名称 (an existing org unit)")
    user_add.add_argument("--role", required=True, help=f"one of {', '.join(r.name for r in Role)}")
    user_add.add_argument("--region", required=True, help="the jurisdiction's region code (12 digits)")
    user_add.set_defaults(func=cmd_user_add)
    user_list = user_commands.add_parser("list", help="list users")
    user_list.set_defaults(func=cmd_user_list)
    user_password = user_commands.add_parser("set-password", help="set a user's password (prompted twice, never on the command line)")
    user_password.add_argument("username")
    user_password.add_argument("--keep", action="store_true", help="the user need not change it at the first sign-in")
    user_password.set_defaults(func=cmd_user_set_password)

    token = commands.add_parser("token", help="API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    token_issue = token_commands.add_parser("issue", help="issue a token and print it (only the token) on stdout")
    token_issue.add_argument("username")
    token_issue.add_argument("--days", type=int, default=90, help="validity in days (default 90)")
    token_issue.set_defaults(func=cmd_token_issue)
    token_revoke = token_commands.add_parser("revoke", help="revoke a user's tokens, or one token by its prefix")
    revoke_target = token_revoke.add_mutually_exclusive_group(required=True)
    revoke_target.add_argument("--user", help="revoke all of this user's tokens")
    revoke_target.add_argument("--prefix", help="revoke the token starting with these 12 characters")
    token_revoke.set_defaults(func=cmd_token_revoke)
    token_list = token_commands.add_parser("list", help="list a user's tokens (prefixes, never the tokens)")
    token_list.add_argument("username")
    token_list.set_defaults(func=cmd_token_list)
    return parser


def main(argv: list[str] | None = None) -> None:
    logs.configure()
    args = build_parser().parse_args(argv)
    args.func(args, Settings.from_env())


if __name__ == "__main__":
    main()
