"""The write check: may this caller change this field of this record?

One function, called by every mutation for every field it changes. Rows
outside the caller's jurisdiction are not found before this is asked (the
lookups are scoped), so this decides on role and grants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hub.access.policy import Policy
from hub.data.models import Role

if TYPE_CHECKING:
    from hub.access.accounts import Caller


class WriteRefused(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_write(policy: Policy, caller: Caller, type_name: str, field: str) -> None:
    """Raise `WriteRefused` naming the field unless the caller's role may write `type_name.field`."""
    ref = f"{type_name}.{field}"
    department = policy.departments.get(caller.department or "")
    owned = department.writes if department is not None and caller.role is Role.DEPARTMENT_ANALYST else frozenset()
    if ref not in policy.roles[caller.role].writes and ref not in owned:
        who = caller.role.label if caller.department is None else f"{caller.role.label}（{caller.org_unit}）"
        raise WriteRefused(field, f"{field}：{who}无权修改 {ref}")
