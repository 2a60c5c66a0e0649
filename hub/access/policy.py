"""Who may read and write which fields: a data file, validated against the schema at start-up.

The policy (hub/access/policy.yaml, or HUB_POLICY_FILE) lists departments and their
field grants — `Type.field`, a mode (`read` or `masked`) and the purpose or
legal basis — and what each role reads and writes. A mistake in it stops
start-up with an error naming the file and line; changing a grant changes no
code.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from importlib.resources import files
from pathlib import Path

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, is_leaf_type

from hub.access.masking import MASKS, REVEALED_BY
from hub.data.models import Role
from hub.yamlfile import DataFileError, Node, load

# The base-data types grants are about; other types (connections, the access log) follow from them.
BASE_TYPES = (
    "Region", "Household", "Person", "Enterprise", "FloodPoint", "FloodPointPhoto",
    "Event", "DamageReport", "DamagedHouse", "AffectedEnterprise", "HouseCount", "VillageReportStatus", "DamageTotals",
    "FloodPointReport", "Photo",
)

# Not a base-data field: the indicator values (指标值) of the records in the role's jurisdiction, which
# a role granted it fills in the village's tasks (its own indicator grants say who reads them).
INDICATOR_VALUES = "IndicatorValue.value"


class Mode(str, Enum):
    READ = "read"
    MASKED = "masked"


class ReadScope(str, Enum):
    EVERYTHING = "everything"  # the whole schema, the access log included
    BASE_DATA = "base-data"  # every field of the base-data types
    DEPARTMENT = "department"  # the grants of the user's department


@dataclass(frozen=True)
class Grant:
    type_name: str
    field_name: str
    mode: Mode
    purpose: str
    line: int  # where in the policy file, for `hub policy show` and duplicate errors


@dataclass(frozen=True)
class Department:
    key: str
    name: str
    grants: dict[str, Grant]  # "Type.field" -> grant
    writes: frozenset[str] = frozenset()  # "Type.field" the department owns (e.g. low-income approval)


@dataclass(frozen=True)
class RoleRule:
    read: ReadScope
    writes: frozenset[str]  # "Type.field"


@dataclass(frozen=True)
class Policy:
    source: str
    departments: dict[str, Department]
    roles: dict[Role, RoleRule]
    sensitive: frozenset[str]
    base_fields: dict[str, frozenset[str]] = field(repr=False)  # type -> its grantable fields
    # Photos keep their EXIF (GPS, camera, time) only where the policy says so; by default it is stripped.
    keep_photo_exif: bool = False

    def base_visibility(self) -> dict[str, dict[str, Mode]]:
        """Every field of the base-data types, readable in full (grassroots roles)."""
        return {t: dict.fromkeys(fields, Mode.READ) for t, fields in self.base_fields.items()}

    def base_data_writable(self) -> frozenset[str]:
        """Types some base-data role may write: their mutations show in the base-data view."""
        return frozenset(
            ref.partition(".")[0] for rule in self.roles.values() if rule.read is ReadScope.BASE_DATA for ref in rule.writes
        )

    def department_name(self, key: str) -> str:
        """The department's Chinese name (应急管理局 for `yingji`); the key itself if the policy no longer has it."""
        department = self.departments.get(key)
        return department.name if department else key

    def department_visibility(self, key: str) -> dict[str, dict[str, Mode]]:
        """type -> field -> mode, as the department's grants say."""
        department = self.departments[key]
        visible: dict[str, dict[str, Mode]] = {}
        for grant in department.grants.values():
            visible.setdefault(grant.type_name, {})[grant.field_name] = grant.mode
        for ref in department.writes:  # writing needs the version it read (optimistic locking)
            visible[ref.partition(".")[0]]["version"] = Mode.READ
        return visible


def policy_path() -> Path:
    return Path(os.environ.get("HUB_POLICY_FILE") or str(files("hub.access") / "policy.yaml"))


def load_policy(schema: GraphQLSchema, path: Path | None = None) -> Policy:
    path = path or policy_path()
    root = load(path)
    # `x-…` keys hold YAML anchors shared by several grants.
    extras = {key for key in root.mapping("the policy") if key.startswith("x-")}
    root.only_keys({"sensitive", "roles", "departments", "photos", *extras}, "the policy")
    base_fields = _grantable_fields(schema)
    known = {f"{t}.{f}" for t, fields in base_fields.items() for f in fields}

    def field_ref(node: Node, what: str) -> tuple[str, str]:
        ref = node.text(what)
        type_name, _, field_name = ref.partition(".")
        if type_name not in base_fields:
            raise node.error(f"{what}: unknown type `{type_name}` in `{ref}` (types: {', '.join(BASE_TYPES)})")
        if ref not in known:
            object_type = schema.get_type(type_name)
            if isinstance(object_type, GraphQLObjectType) and field_name in object_type.fields:
                raise node.error(
                    f"{what}: `{ref}` is a relation; it is visible when its type has granted fields, grant those instead"
                )
            raise node.error(f"{what}: `{type_name}` has no field `{field_name}`")
        return type_name, field_name

    sensitive = frozenset(
        ".".join(field_ref(n, "sensitive field")) for n in root.require("sensitive", "the policy").sequence("sensitive")
    )

    roles: dict[Role, RoleRule] = {}
    for name, node in root.require("roles", "the policy").mapping("roles").items():
        if name not in Role.__members__:
            raise node.error(f"unknown role `{name}` (roles: {', '.join(Role.__members__)})")
        node.only_keys({"read", "writes"}, f"role {name}")
        read_node = node.require("read", f"role {name}")
        try:
            read = ReadScope(read_node.text(f"role {name}: read"))
        except ValueError:
            raise read_node.error(
                f"role {name}: read must be one of {', '.join(s.value for s in ReadScope)}, got `{read_node.value}`"
            ) from None
        writes = node.get("writes")
        roles[Role[name]] = RoleRule(
            read,
            frozenset(
                INDICATOR_VALUES if w.value == INDICATOR_VALUES else ".".join(field_ref(w, f"role {name}: writes"))
                for w in (writes.sequence("writes") if writes else [])
            ),
        )
    missing = [r.name for r in Role if r not in roles]
    if missing:
        raise root.error(f"roles: no rule for {', '.join(missing)}")

    departments: dict[str, Department] = {}
    for key, node in root.require("departments", "the policy").mapping("departments").items():
        node.only_keys({"name", "grants", "writes"}, f"department {key}")
        name = node.require("name", f"department {key}").text(f"department {key}: name")
        grants: dict[str, Grant] = {}
        for grant_node in node.require("grants", f"department {key}").sequence(f"department {key}: grants"):
            what = f"department {key}: grant"
            grant_node.only_keys({"fields", "mode", "purpose"}, what)
            purpose_node = grant_node.get("purpose")
            if purpose_node is None:
                raise grant_node.error(f"{what} has no purpose: give its purpose or legal basis")
            purpose = purpose_node.text(f"{what}: purpose")
            mode_node = grant_node.require("mode", what)
            try:
                mode = Mode(mode_node.value)
            except ValueError:
                raise mode_node.error(f"{what}: unknown mode `{mode_node.value}` (expected read or masked)") from None
            for field_node in grant_node.require("fields", what).sequence(f"{what}: fields"):
                type_name, field_name = field_ref(field_node, what)
                ref = f"{type_name}.{field_name}"
                if mode is Mode.MASKED and ref not in MASKS:
                    raise field_node.error(
                        f"{what}: `{ref}` cannot be masked (maskable: {', '.join(sorted(MASKS))})"
                    )
                if ref in grants:
                    raise field_node.error(f"{what}: `{ref}` is already granted at line {grants[ref].line}")
                grants[ref] = Grant(type_name, field_name, mode, purpose, field_node.line)
        _refuse_rebuildable_masks(path, key, grants)
        writes: set[str] = set()
        for write_node in node.get("writes").sequence(f"department {key}: writes") if node.get("writes") else []:
            what = f"department {key}: writes"
            write_node.only_keys({"fields", "purpose"}, what)
            write_node.require("purpose", what).text(f"{what}: purpose")
            for field_node in write_node.require("fields", what).sequence(f"{what}: fields"):
                ref = ".".join(field_ref(field_node, what))
                if grants.get(ref) is None or grants[ref].mode is not Mode.READ:
                    raise field_node.error(f"{what}: `{ref}` must also be granted `read` to write it")
                writes.add(ref)
        departments[key] = Department(key, name, grants, frozenset(writes))

    return Policy(str(path), departments, roles, sensitive, base_fields, _keep_photo_exif(root.get("photos")))


def _keep_photo_exif(node: Node | None) -> bool:
    """`photos: {keep_exif: true, purpose: …}`: uploaded photos keep their EXIF, GPS included."""
    if node is None:
        return False
    node.only_keys({"keep_exif", "purpose"}, "photos")
    keep = node.require("keep_exif", "photos")
    if not isinstance(keep.value, bool):
        raise keep.error(f"photos: keep_exif must be true or false, got `{keep.value}`")
    if keep.value:
        node.require("purpose", "photos: keeping EXIF (GPS) needs its purpose or legal basis").text("photos: purpose")
    return keep.value


def _refuse_rebuildable_masks(path: Path, key: str, grants: dict[str, Grant]) -> None:
    for ref, masked in grants.items():
        if masked.mode is not Mode.MASKED:
            continue
        for other, why in REVEALED_BY.get(ref, {}).items():
            shown = grants.get(other)
            if shown is not None and shown.mode is Mode.READ:
                raise DataFileError(
                    f"{path}:{shown.line}: department {key}: grant: `{other}` in full rebuilds `{ref}`, "
                    f"granted masked at line {masked.line} ({why})"
                )


def _grantable_fields(schema: GraphQLSchema) -> dict[str, frozenset[str]]:
    """Leaf fields (scalars and enums, computed or stored) of the base-data types."""
    grantable = {}
    for type_name in BASE_TYPES:
        object_type = schema.get_type(type_name)
        assert isinstance(object_type, GraphQLObjectType), type_name
        grantable[type_name] = frozenset(
            name for name, f in object_type.fields.items() if is_leaf_type(get_named_type(f.type))
        )
    return grantable


def describe(policy: Policy, key: str) -> Iterable[tuple[str, str, str, str]]:
    """(field, mode, purpose, line) for `hub policy show`."""
    department = policy.departments.get(key)
    if department is None:
        raise DataFileError(f"no department `{key}` in {policy.source} (departments: {', '.join(policy.departments)})")
    for ref, grant in sorted(department.grants.items()):
        yield ref, grant.mode.value, grant.purpose, str(grant.line)
