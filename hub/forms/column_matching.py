"""Matching the columns of a department's paper form to the hub's fields by their Chinese labels.

Each column's label is compared, in this order, with the labels of the fields of the rows and
of the records one or two steps away (a household's head, a person's household, a record's village and its town):
the exact label, the synonyms in `synonyms.yaml`, the normalised label (full-width to
half-width, no spaces, no unit in brackets at the end), then close matches scored by difflib.
The rows' record type is the one whose fields the columns name most.

What the uploader's department may not read is never bound. The names and labels of the hub's
fields are its catalogue, not its data: data requests already tell a department "held, not
granted" naming the field (resolvers/requests.py), and this report does the same — but only for
a column whose own header already names that field (its label, a synonym, or the label
normalised). Close matches and suggestions come only from the department's own view, so a
form never learns a hidden field's label that its uploader did not already write; and no answer
here depends on any record, only on the schema and the department's grants.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from graphql import (
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    get_named_type,
    is_leaf_type,
)

from hub.yamlfile import load

# The lists a form's rows can come from, with the record type their label names.
ENTITIES = {
    "households": ("Household", "户", "HOUSEHOLD"),
    "persons": ("Person", "人员", "PERSON"),
    "enterprises": ("Enterprise", "企业", "ENTERPRISE"),
    "floodPoints": ("FloodPoint", "易涝点", "FLOOD_POINT"),
    "regions": ("Region", "村（社区）", "VILLAGE"),
}
ROW_NUMBER_LABELS = {"序号", "编号", "序"}
CLOSE_ENOUGH = 0.72  # difflib ratio: 家庭人口 ~ 家庭人口数 is 0.89, 姓名 ~ 性别 is 0
TIED = 0.03  # two close candidates this near each other are ambiguous
RELATION_WEIGHT = 0.9  # per step: a field one step away counts a little less than the row's own
NOT_SHOWN = ("id", "version")

MATCHED, COMPUTED, AMBIGUOUS, UNMATCHED, NOT_GRANTED = "MATCHED", "COMPUTED", "AMBIGUOUS", "UNMATCHED", "NOT_GRANTED"
OPEN, INDICATOR = "open", "indicator"  # a reviewer's choice for a column instead of a field path
STATUS_LABELS = {MATCHED: "已对应", COMPUTED: "计算栏", AMBIGUOUS: "有歧义", UNMATCHED: "未对应", NOT_GRANTED: "未授权"}


@dataclass(frozen=True)
class Vocabulary:
    synonyms: dict[str, tuple[str, ...]]
    relations: dict[str, tuple[str, ...]]
    open_fields: frozenset[str]
    title_filters: tuple[dict[str, Any], ...]


@cache
def vocabulary(path: Path | None = None) -> Vocabulary:
    root = load(path or Path(__file__).with_name("synonyms.yaml")).plain()
    return Vocabulary(
        {key: tuple(names) for key, names in root["synonyms"].items()},
        {key: tuple(paths) for key, paths in root["relations"].items()},
        frozenset(root["open_fields"]),
        tuple(root["title_filters"]),
    )


_UNIT_AT_END = re.compile(r"\([^()]*\)$")


def normalise(text: str) -> str:
    """家庭人口（人） → 家庭人口; ＩＤ → ID: full-width to half-width, no spaces, no bracketed unit at the end."""
    text = unicodedata.normalize("NFKC", text or "")
    text = re.sub(r"\s+", "", text).rstrip(":*")
    stripped = _UNIT_AT_END.sub("", text)
    return stripped or text


@dataclass(frozen=True)
class Candidate:
    path: tuple[str, ...]  # under each row: ("head", "idNumber")
    type_name: str
    field_name: str
    label: str
    kind: str  # Int, Float, String, Date, an enum's name …
    weight: float
    names: tuple[str, ...]  # normalised label and synonyms
    row_type: str

    @property
    def ref(self) -> str:
        return f"{self.type_name}.{self.field_name}"

    @property
    def dotted(self) -> str:
        return ".".join(self.path)


def candidates(schema: GraphQLSchema, entity: str, words: Vocabulary) -> list[Candidate]:
    """The leaves of the rows and of the related records (synonyms.yaml `relations`), in the order they are preferred."""
    root = schema.query_type.fields.get(entity)
    if root is None:
        return []
    row_type = get_named_type(get_named_type(root.type).fields["nodes"].type)
    found = _leaves(row_type, (), 1.0, row_type.name, None, words)
    for relation in words.relations.get(entity, ()):
        hops = tuple(relation.split("."))
        walked = walk(row_type, hops)
        if walked is not None:
            owner, current = walked
            found += _leaves(current, hops, RELATION_WEIGHT ** len(hops), row_type.name, f"{owner.name}.{hops[-1]}", words)
    return found


def walk(row_type: GraphQLObjectType, hops: tuple[str, ...]) -> tuple[GraphQLObjectType, GraphQLObjectType] | None:
    """Follow single records (no list, no argument) from the row: (the type holding the last hop, the type reached)."""
    owner, current = row_type, row_type
    for hop in hops:
        hop_field = current.fields.get(hop) if isinstance(current, GraphQLObjectType) else None
        inner = hop_field.type.of_type if hop_field and isinstance(hop_field.type, GraphQLNonNull) else getattr(hop_field, "type", None)
        if hop_field is None or hop_field.args or isinstance(inner, GraphQLList):
            return None
        owner, current = current, get_named_type(hop_field.type)
    return (owner, current) if isinstance(current, GraphQLObjectType) else None


def _leaves(
    object_type: GraphQLObjectType, prefix: tuple[str, ...], weight: float, row_type: str, via: str | None, words: Vocabulary
) -> list[Candidate]:
    """`via` is the relation's last step as `Type.relation` (Household.head, Region.parent): synonyms given for
    `Household.head.name` name the head's name only, 乡镇（街道） for `Region.parent.name` a village's town only."""
    leaves = []
    for name, leaf in object_type.fields.items():
        named = get_named_type(leaf.type)
        if name in NOT_SHOWN or leaf.args or not is_leaf_type(named) or isinstance(getattr(leaf.type, "of_type", leaf.type), GraphQLList):
            continue
        path = (*prefix, name)
        names = {normalise(leaf.description or name)}
        names.update(normalise(n) for n in words.synonyms.get(f"{object_type.name}.{name}", ()))
        if via is not None:
            names.update(normalise(n) for n in words.synonyms.get(f"{via}.{name}", ()))
        leaves.append(Candidate(path, object_type.name, name, leaf.description or name, named.name, weight, tuple(sorted(names)), row_type))
    return leaves


@dataclass
class ColumnMatch:
    index: int  # 1-based sheet column
    header: str  # the column's header levels joined with "/"
    label: str  # its own (lowest) header
    status: str
    path: str | None = None
    value: str | None = None  # computed: row_number or age
    field_label: str | None = None
    how: str | None = None  # exact, synonym, normalised, close, computed
    confidence: float = 0.0
    candidates: list[str] = field(default_factory=list)
    open: bool = False  # an open column of the fill sheet
    indicator: bool = False  # becomes a new indicator of a data request (fileRequest)
    masked: bool = False
    ref: str | None = None  # Type.field
    kind: str | None = None

    @property
    def message(self) -> str:
        if self.status == COMPUTED:
            return "由数据中心计算：序号" if self.value == "row_number" else f"由数据中心计算：按{self.field_label}算出周岁年龄"
        if self.status == MATCHED:
            how = {"exact": "名称相同", "synonym": "同义词", "normalised": "规范化后相同", "close": "近似", "reviewed": "审核时指定"}[self.how or "exact"]
            note = "，脱敏显示" if self.masked else ""
            fill = "；填报列（每次走访更新）" if self.open else ""
            return f"对应 {self.path}（{self.field_label}），{how}，置信度 {self.confidence:.2f}{note}{fill}"
        if self.status == AMBIGUOUS:
            return f"可能是 {'、'.join(self.candidates)}，请指定；暂作填报列"
        if self.status == NOT_GRANTED:
            return f"数据中心有此数据（{self.ref}，{self.field_label}），但本部门未获授权读取；暂作填报列，可申请授权"
        if self.how == "reviewed":
            return "审核时指定：作为填报任务的新指标" if self.indicator else "审核时指定：留作填报列"
        return "数据中心没有对应字段：作为填报列，或交给填报任务作为新指标"

    def as_dict(self) -> dict[str, Any]:
        return {
            "column": self.index, "header": self.header, "status": self.status, "path": self.path, "value": self.value,
            "fieldLabel": self.field_label, "how": self.how, "confidence": round(self.confidence, 2),
            "candidates": self.candidates, "open": self.open, "indicator": self.indicator, "message": self.message,
        }


@dataclass
class MatchReport:
    entity: str | None
    columns: list[ColumnMatch]

    def count(self, *statuses: str) -> int:
        return sum(1 for c in self.columns if c.status in statuses)

    @property
    def entity_label(self) -> str:
        return ENTITIES[self.entity][1] if self.entity else "（无法判断）"

    def lines(self) -> list[str]:
        """The report as a reviewer reads it, one line per column."""
        lines = [
            f"每行一条：{self.entity_label}（{self.entity}）；共 {len(self.columns)} 栏：已对应 {self.count(MATCHED)}，"
            f"计算 {self.count(COMPUTED)}，有歧义 {self.count(AMBIGUOUS)}，未授权 {self.count(NOT_GRANTED)}，未对应 {self.count(UNMATCHED)}"
        ]
        for c in self.columns:
            lines.append(f"  {c.index:>2}. {c.header} — {STATUS_LABELS[c.status]}：{c.message}")
        return lines


@dataclass(frozen=True)
class HeaderColumn:
    index: int
    levels: tuple[str, ...]
    unit: str | None = None

    @property
    def label(self) -> str:
        return self.levels[-1] if self.levels else ""


def match_columns(
    columns: list[HeaderColumn], full: GraphQLSchema, view: GraphQLSchema, masked: set[str], words: Vocabulary | None = None
) -> MatchReport:
    """Match every column; `view` is the uploader's department's schema, `masked` its masked `Type.field`s."""
    words = words or vocabulary()
    entity = infer_entity(columns, full, words)
    if entity is None:
        found = [ColumnMatch(c.index, "/".join(c.levels), c.label, UNMATCHED) for c in columns]
    else:
        everything = candidates(full, entity, words)
        visible_paths = {c.path for c in candidates(view, entity, words)}
        found = [_match(c, everything, visible_paths, masked, words) for c in columns]
    for column in found:
        column.indicator = column.status == UNMATCHED  # what the hub lacks, the villages may be asked for
    return MatchReport(entity, found)


def field_at(view: GraphQLSchema, entity: str, path: str, words: Vocabulary | None = None) -> Candidate | None:
    """The leaf at `path` under each row of `entity` in `view` (single records only, as the matcher follows them), if any."""
    words = words or vocabulary()
    root = view.query_type.fields.get(entity)
    hops = tuple(path.split("."))
    if root is None or not all(hops):
        return None
    row_type = get_named_type(get_named_type(root.type).fields["nodes"].type)
    walked = walk(row_type, hops[:-1])
    if walked is None:
        return None
    owner, current = walked
    via = f"{owner.name}.{hops[-2]}" if len(hops) > 1 else None
    return next((c for c in _leaves(current, hops[:-1], 1.0, row_type.name, via, words) if c.field_name == hops[-1]), None)


def reviewed(column: ColumnMatch, to: str, view: GraphQLSchema, entity: str, masked: set[str], words: Vocabulary | None = None) -> ColumnMatch | None:
    """The column as the reviewer maps it: to a field path of `view`, `open` or `indicator`; None: no such field in the view."""
    words = words or vocabulary()
    chosen = ColumnMatch(column.index, column.header, column.label, UNMATCHED, how="reviewed")
    if to in (OPEN, INDICATOR):
        chosen.indicator = to == INDICATOR
        return chosen
    best = field_at(view, entity, to, words)
    return None if best is None else _bind(chosen, best, "reviewed", 1.0, masked, words)


def infer_entity(columns: list[HeaderColumn], full: GraphQLSchema, words: Vocabulary) -> str | None:
    """The list whose fields the columns name most (exact, synonym or normalised), own fields counting more."""
    best, best_score = None, 0.0
    for entity in ENTITIES:
        options = candidates(full, entity, words)
        score = sum(max((c.weight for c in options if _names_of(col) & set(c.names)), default=0) for col in columns)
        if score > best_score:
            best, best_score = entity, score
    return best


def _names_of(column: HeaderColumn) -> set[str]:
    names = {normalise(column.label)}
    if len(column.levels) > 1:
        names.add(normalise(column.levels[-2] + column.label))
    return names


def _match(column: HeaderColumn, everything: list[Candidate], visible: set[tuple[str, ...]], masked: set[str], words: Vocabulary) -> ColumnMatch:
    header = "/".join(column.levels)
    found = ColumnMatch(column.index, header, column.label, UNMATCHED)
    wanted = normalise(column.label)
    if wanted in ROW_NUMBER_LABELS:
        found.status, found.value, found.how, found.confidence = COMPUTED, "row_number", "computed", 1.0
        return found
    # 户主姓名, or 责任人 / 姓名 under a group header: the column's own name first, then with its group's.
    strong = [c for c in everything if wanted in c.names]
    if not strong and len(column.levels) > 1:
        wanted = normalise(column.levels[-2] + column.label)
        strong = [c for c in everything if wanted in c.names]
    seen = [c for c in strong if c.path in visible]
    if not seen and strong:
        best = max(strong, key=lambda c: c.weight)
        birth = next((c for c in everything if c.path == (*best.path[:-1], "birthDate") and c.path in visible), None)
        if best.field_name == "age" and birth is not None:  # 年龄: computed from the birth date the department reads
            found.status, found.path, found.value, found.how, found.confidence = COMPUTED, birth.dotted, "age", "computed", 1.0
            found.field_label, found.ref, found.kind = birth.label, birth.ref, "Int"
            return found
        # Named from the row (Household.head.name): a field may be granted on its own, not through this list.
        found.status, found.ref, found.field_label, found.path = NOT_GRANTED, f"{best.row_type}.{best.dotted}", best.label, best.dotted
        return found
    if seen:
        top = max(c.weight for c in seen)
        best_ones = [c for c in seen if c.weight == top]
        if len(best_ones) > 1:
            found.status, found.candidates = AMBIGUOUS, [f"{c.dotted}（{c.label}）" for c in best_ones]
            return found
        best = best_ones[0]
        how = "exact" if best.label in (column.label, "".join(column.levels[-2:])) else "normalised" if wanted == normalise(best.label) else "synonym"
        return _bind(found, best, how, 1.0 if how != "normalised" else 0.95, masked, words)
    scored = sorted(
        ((max(difflib.SequenceMatcher(None, normalise(column.label), name).ratio() for name in c.names) * c.weight, c) for c in everything if c.path in visible),
        key=lambda pair: -pair[0],
    )
    close = [(score, c) for score, c in scored if score >= CLOSE_ENOUGH]
    if not close:
        return found
    if len(close) > 1 and close[0][0] - close[1][0] < TIED and close[0][1].ref != close[1][1].ref:
        found.status = AMBIGUOUS
        found.candidates = [f"{c.dotted}（{c.label}，{score:.2f}）" for score, c in close if close[0][0] - score < TIED]
        return found
    return _bind(found, close[0][1], "close", close[0][0], masked, words)


def _bind(found: ColumnMatch, best: Candidate, how: str, confidence: float, masked: set[str], words: Vocabulary) -> ColumnMatch:
    found.status, found.path, found.field_label, found.how, found.confidence = MATCHED, best.dotted, best.label, how, confidence
    found.ref, found.kind = best.ref, best.kind
    found.masked = best.ref in masked
    found.open = best.ref in words.open_fields
    return found
