"""All templates a hub serves: the shipped files, plus those departments save through the API.

Saved templates live in the database (so every hub process behind a load
balancer sees the same ones), versioned: each save or delete adds a version,
and a change must name the version it read. Only the owner department changes
its templates; shipped files are changed through the repository.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from graphql import GraphQLSchema
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.data.models import Role, SavedTemplate
from hub.forms.templates import Template, parse_template
from hub.yamlfile import CHINESE, DataFileError, Node, loads

if TYPE_CHECKING:
    from hub.access.accounts import Caller

saved = SavedTemplate.__table__


@dataclass
class Problem:
    field: str
    code: str
    message: str
    current_version: int | None = None


def _declared(root: Node, key: str) -> str | None:
    """A top-level string of a definition, if it is one (parse_template reports any mistake)."""
    node = root.get(key) if isinstance(root.value, dict) else None
    return node.value if node is not None and isinstance(node.value, str) else None


class TemplateStore:
    def __init__(
        self, engine: AsyncEngine, files: dict[str, Template], full: GraphQLSchema, departments: dict[str, GraphQLSchema]
    ) -> None:
        self.engine = engine
        self.files = files
        self.full = full
        self.departments = departments
        self._parsed: dict[tuple[str, int], Template] = {}  # saved versions never change: parse each once

    async def all(self) -> dict[str, Template]:
        latest = (
            select(saved.c.template_id, func.max(saved.c.version).label("version")).group_by(saved.c.template_id).subquery()
        )
        stmt = select(saved).join(
            latest, (saved.c.template_id == latest.c.template_id) & (saved.c.version == latest.c.version)
        ).where(saved.c.deleted.is_(False))
        async with self.engine.connect() as connection:
            rows = (await connection.execute(stmt)).all()
        return {**self.files, **{row.template_id: self._parse(row) for row in rows}}

    async def get(self, template_id: str) -> Template | None:
        return self.files.get(template_id) or (await self.all()).get(template_id)

    def shown_to(self, template: Template, caller: Caller) -> bool:
        """A shipped form is for whoever can run it; a saved one is its department's own: its title
        and query say what that department collects, which other departments may not learn."""
        return template.id in self.files or caller.role is Role.ADMIN or caller.department == template.department

    async def all_for(self, caller: Caller) -> dict[str, Template]:
        return {key: template for key, template in (await self.all()).items() if self.shown_to(template, caller)}

    async def get_for(self, template_id: str, caller: Caller) -> Template | None:
        """The template, if the caller may see it at all (whether they may run it is asked apart)."""
        template = await self.get(template_id)
        return template if template is not None and self.shown_to(template, caller) else None

    def _parse(self, row) -> Template:
        key = (row.template_id, row.version)
        if key not in self._parsed:
            template = parse_template(loads(row.definition, f"saved template {row.template_id}", CHINESE), self.full, self.departments)
            self._parsed[key] = replace(template, version=row.version)
        return self._parsed[key]

    async def save(self, caller: Caller, definition: str, version: int | None) -> tuple[Template | None, list[Problem]]:
        try:
            root = loads(definition, "definition", CHINESE)
            # Whose template it is comes first: the query is then checked in the caller's own
            # view, so its answer cannot tell what another department's view holds.
            # (parse_template refuses an id or department that is missing or not a string).
            declared = (_declared(root, "id"), _declared(root, "department"))
            problem = None if None in declared else self._owner_problem(caller, *declared)
            if problem:
                return None, [problem]
            template = parse_template(root, self.full, self.departments)
        except DataFileError as error:
            # "definition:12: …" reads as "第 12 行：…" to whoever typed the YAML
            message = re.sub(r"^definition:(\d+): ", r"definition：第 \1 行：", str(error), count=1)
            return None, [Problem("definition", "INVALID", message)]
        current, problem = await self._check_version(template.id, version, allow_new=True)
        if problem:
            return None, [problem]
        problem = await self._add_version(template.id, current + 1, template.department, definition, caller, deleted=False)
        if problem:
            return None, [problem]
        return replace(template, version=current + 1), []

    async def delete(self, caller: Caller, template_id: str, version: int) -> list[Problem]:
        existing = (await self.all()).get(template_id)
        if existing is None:
            return [Problem("id", "NOT_FOUND", f"id：没有模板 `{template_id}`")]
        problem = self._owner_problem(caller, template_id, existing.department)
        if problem:
            return [problem]
        current, problem = await self._check_version(template_id, version, allow_new=False)
        if problem:
            return [problem]
        problem = await self._add_version(template_id, current + 1, existing.department, "", caller, deleted=True)
        return [problem] if problem else []

    def _owner_problem(self, caller: Caller, template_id: str, department: str) -> Problem | None:
        if template_id in self.files:
            return Problem(
                "id", "FORBIDDEN", f"id：`{template_id}` 是随仓库发布的表样（templates/{template_id}.yaml），请换一个编号"
            )
        if caller.role not in (Role.DEPARTMENT_ANALYST, Role.ADMIN) or caller.department != department:
            return Problem(
                "department", "FORBIDDEN", f"department：只有 {department} 的部门分析员能修改其表样，{caller.org_unit}不能"
            )
        return None

    async def _check_version(self, template_id: str, version: int | None, *, allow_new: bool) -> tuple[int, Problem | None]:
        async with self.engine.connect() as connection:
            current = (
                await connection.execute(select(func.max(saved.c.version)).where(saved.c.template_id == template_id))
            ).scalar_one() or 0
        expected = version or 0
        if current == 0 and not allow_new:
            return 0, Problem("id", "NOT_FOUND", f"id：没有模板 `{template_id}`")
        if expected != current:
            return current, Problem(
                "version",
                "CONFLICT",
                f"version：表样 `{template_id}` 现在是第 {current} 版，不是第 {expected} 版；请重新读取后再改一次",
                current,
            )
        return current, None

    async def _add_version(
        self, template_id: str, version: int, department: str, definition: str, caller: Caller, *, deleted: bool
    ) -> Problem | None:
        # The unique (template_id, version) key turns a race between two savers into a conflict, not a lost update.
        try:
            async with self.engine.begin() as connection:
                await connection.execute(
                    saved.insert().values(
                        template_id=template_id,
                        version=version,
                        department=department,
                        definition=definition,
                        deleted=deleted,
                        saved_by=caller.username,
                        saved_at=dt.datetime.now(dt.UTC),
                    )
                )
        except IntegrityError:
            message = f"version：表样 `{template_id}` 刚被他人修改；请重新读取后再改一次"
            return Problem("version", "CONFLICT", message)
        return None
