"""The one schema's tables, as SQLAlchemy 2 typed models.

Every column carries its Chinese label in `info["label"]`; the GraphQL
descriptions, the SDL and (later) xlsx headers are taken from the GraphQL
types, which repeat these labels next to each field.

Reads on the hot path go through Core `select()` on these tables and hand
`Row` objects to strawberry (plain attribute access, no ORM identity map);
the ORM classes are for writes and for readers of the code.
"""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    false,
    func,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Stable constraint names so Alembic migrations are identical on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


def label(text: str) -> dict:
    return {"label": text}


class LabelledEnum(str, enum.Enum):
    """A string enum whose members carry their Chinese label (for docs and xlsx cells)."""

    label: str

    def __new__(cls, value: str, label: str) -> LabelledEnum:
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member


def _enum(e: type[enum.Enum], name: str) -> Enum:
    # Stored as plain strings (no native PG enum type): adding a value is then a
    # data change, not a type migration.
    return Enum(e, name=name, native_enum=False, length=24, values_callable=lambda x: [m.value for m in x])


class RegionLevel(LabelledEnum):
    CITY = "CITY", "市"
    DISTRICT = "DISTRICT", "县（区）"
    TOWN = "TOWN", "乡镇（街道）"
    VILLAGE = "VILLAGE", "村（社区）"


class HousingSafetyGrade(LabelledEnum):
    A = "A", "A级（安全）"
    B = "B", "B级（基本安全）"
    C = "C", "C级（局部危险）"
    D = "D", "D级（整体危险）"


class Gender(LabelledEnum):
    MALE = "MALE", "男"
    FEMALE = "FEMALE", "女"


class HealthStatus(LabelledEnum):
    HEALTHY = "HEALTHY", "健康"
    CHRONIC = "CHRONIC", "慢性病"
    SERIOUS = "SERIOUS", "大病"
    DISABLED = "DISABLED", "残疾"


class EmploymentStatus(LabelledEnum):
    EMPLOYED = "EMPLOYED", "单位就业"
    FLEXIBLE = "FLEXIBLE", "灵活就业"
    FARMING = "FARMING", "务农"
    UNEMPLOYED = "UNEMPLOYED", "失业"
    STUDENT = "STUDENT", "在校学生"
    RETIRED = "RETIRED", "退休"
    UNABLE = "UNABLE", "无劳动能力"


class KeyCareReason(LabelledEnum):
    ILLNESS = "ILLNESS", "因病"
    DISABILITY = "DISABILITY", "因残"


class ResidenceStatus(LabelledEnum):
    RESIDENT = "RESIDENT", "在册"
    MOVED_OUT = "MOVED_OUT", "迁出"
    DECEASED = "DECEASED", "死亡"


class RiskLevel(LabelledEnum):
    HIGH = "HIGH", "高"
    MEDIUM = "MEDIUM", "中"
    LOW = "LOW", "低"


class FloodPointStatus(LabelledEnum):
    ACTIVE = "ACTIVE", "未整治"
    FIXING = "FIXING", "整治中"
    FIXED = "FIXED", "已整治"


class SiteCondition(LabelledEnum):
    NORMAL = "NORMAL", "正常"
    PONDING = "PONDING", "积水"
    FLOODED = "FLOODED", "内涝（人车难行）"
    RECEDED = "RECEDED", "已退水"


class Versioned:
    """Optimistic concurrency: every update must name the version it read."""

    version: Mapped[int] = mapped_column(Integer, default=1, server_default="1", info=label("版本"))
    updated_at: Mapped[dt.datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), info=label("更新时间")
    )


class Region(Versioned, Base):
    __tablename__ = "regions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(12), unique=True, info=label("统计用区划代码"))
    name: Mapped[str] = mapped_column(String(64), info=label("名称"))
    level: Mapped[RegionLevel] = mapped_column(_enum(RegionLevel, "region_level"), info=label("层级"))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), index=True, info=label("上级区划"))
    # Village/town profile (一村一档)
    population: Mapped[int | None] = mapped_column(Integer, info=label("户籍人口"))
    household_count: Mapped[int | None] = mapped_column(Integer, info=label("户数"))
    area_km2: Mapped[float | None] = mapped_column(Float, info=label("面积（平方公里）"))
    party_secretary: Mapped[str | None] = mapped_column(String(32), info=label("党组织书记"))
    director: Mapped[str | None] = mapped_column(String(32), info=label("村（居）委会主任"))
    phone: Mapped[str | None] = mapped_column(String(20), info=label("联系电话"))
    address: Mapped[str | None] = mapped_column(String(128), info=label("办公地址"))

    __table_args__ = (
        CheckConstraint("length(code) = 12", name="code_length"),
        Index("ix_regions_level_code", "level", "code"),
    )


class Household(Versioned, Base):
    __tablename__ = "households"

    id: Mapped[int] = mapped_column(primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("所属村（社区）"))
    address: Mapped[str] = mapped_column(String(128), info=label("家庭住址"))
    grid_name: Mapped[str | None] = mapped_column(String(64), info=label("所属网格"))
    phone: Mapped[str | None] = mapped_column(String(20), info=label("联系电话"))
    low_income: Mapped[bool] = mapped_column(default=False, info=label("低保户"))
    extreme_poverty: Mapped[bool] = mapped_column(default=False, info=label("特困户"))
    elderly_alone: Mapped[bool] = mapped_column(default=False, info=label("独居老人户"))
    poverty_monitored: Mapped[bool] = mapped_column(default=False, info=label("防返贫监测户"))
    low_income_since: Mapped[dt.date | None] = mapped_column(Date, info=label("低保认定日期"))
    income_per_person_monthly: Mapped[float | None] = mapped_column(
        Numeric(12, 2, asdecimal=False), info=label("家庭月人均收入（元）")
    )
    subsidy_monthly: Mapped[float | None] = mapped_column(
        Numeric(12, 2, asdecimal=False), info=label("月保障金额（元）")
    )
    housing_safety_grade: Mapped[HousingSafetyGrade | None] = mapped_column(
        _enum(HousingSafetyGrade, "housing_safety_grade"), info=label("住房安全等级")
    )

    __table_args__ = (Index("ix_households_village_low_income", "village_id", "low_income"),)


class Person(Versioned, Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True, info=label("所属户"))
    name: Mapped[str] = mapped_column(String(32), index=True, info=label("姓名"))
    id_number: Mapped[str] = mapped_column(String(18), unique=True, info=label("公民身份号码"))
    # Derived from the ID number at write time (GB 11643), stored for filtering.
    gender: Mapped[Gender] = mapped_column(_enum(Gender, "gender"), info=label("性别"))
    birth_date: Mapped[dt.date] = mapped_column(Date, index=True, info=label("出生日期"))
    ethnicity: Mapped[str] = mapped_column(String(16), default="汉族", info=label("民族"))
    relation_to_head: Mapped[str] = mapped_column(String(16), info=label("与户主关系"))
    phone: Mapped[str | None] = mapped_column(String(20), info=label("联系电话"))
    residence_status: Mapped[ResidenceStatus] = mapped_column(
        _enum(ResidenceStatus, "residence_status"), default=ResidenceStatus.RESIDENT, info=label("人员状态")
    )
    employment_status: Mapped[EmploymentStatus | None] = mapped_column(
        _enum(EmploymentStatus, "employment_status"), info=label("就业状态")
    )
    employer: Mapped[str | None] = mapped_column(String(128), info=label("就业单位"))
    pension_insurance: Mapped[str | None] = mapped_column(String(32), info=label("养老保险参保情况"))
    medical_insurance: Mapped[str | None] = mapped_column(String(32), info=label("医疗保险参保情况"))
    health_status: Mapped[HealthStatus] = mapped_column(
        _enum(HealthStatus, "health_status"), default=HealthStatus.HEALTHY, info=label("健康状况")
    )
    chronic_diseases: Mapped[str | None] = mapped_column(String(128), info=label("慢性病病种"))
    disability_type: Mapped[str | None] = mapped_column(String(16), info=label("残疾类别"))
    disability_grade: Mapped[int | None] = mapped_column(Integer, info=label("残疾等级"))
    key_care_reason: Mapped[KeyCareReason | None] = mapped_column(
        _enum(KeyCareReason, "key_care_reason"), index=True, info=label("重点照顾原因")
    )
    recent_status: Mapped[str | None] = mapped_column(Text, info=label("近期动态"))
    # The day the recent status last changed: the write path sets it whenever recent_status
    # changes, by any path, unless the same write gives it (a visit gives its own day).
    recent_status_date: Mapped[dt.date | None] = mapped_column(Date, info=label("动态更新日期") | {"dates": "recent_status"})

    __table_args__ = (
        CheckConstraint("disability_grade IS NULL OR disability_grade BETWEEN 1 AND 4", name="disability_grade"),
    )


class Enterprise(Versioned, Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True, info=label("统一社会信用代码"))
    name: Mapped[str] = mapped_column(String(128), index=True, info=label("企业名称"))
    legal_representative: Mapped[str] = mapped_column(String(32), info=label("法定代表人"))
    phone: Mapped[str | None] = mapped_column(String(20), info=label("联系电话"))
    address: Mapped[str] = mapped_column(String(128), info=label("企业地址"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("所在村（社区）"))
    industry: Mapped[str] = mapped_column(String(32), info=label("所属行业"))
    employees: Mapped[int] = mapped_column(Integer, default=0, info=label("从业人数"))
    safety_contact: Mapped[str | None] = mapped_column(String(32), info=label("安全联系人"))
    safety_contact_phone: Mapped[str | None] = mapped_column(String(20), info=label("安全联系人电话"))
    flood_risk: Mapped[RiskLevel | None] = mapped_column(_enum(RiskLevel, "risk_level"), info=label("防汛风险等级"))


class FloodPoint(Versioned, Base):
    __tablename__ = "flood_points"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), info=label("易涝点名称"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("所在村（社区）"))
    longitude: Mapped[float] = mapped_column(Float, info=label("经度"))
    latitude: Mapped[float] = mapped_column(Float, info=label("纬度"))
    description: Mapped[str | None] = mapped_column(Text, info=label("情况描述"))
    risk_level: Mapped[RiskLevel] = mapped_column(_enum(RiskLevel, "risk_level"), info=label("风险等级"))
    status: Mapped[FloodPointStatus] = mapped_column(
        _enum(FloodPointStatus, "flood_point_status"), default=FloodPointStatus.ACTIVE, info=label("整治状态")
    )
    responsible_person: Mapped[str] = mapped_column(String(32), info=label("责任人"))
    responsible_phone: Mapped[str] = mapped_column(String(20), info=label("责任人电话"))
    nearby_enterprise_id: Mapped[int | None] = mapped_column(
        ForeignKey("enterprises.id"), index=True, info=label("周边企业")
    )
    # Set by the latest flood-point report of an event (through the write path, so its history keeps each).
    condition: Mapped[SiteCondition | None] = mapped_column(_enum(SiteCondition, "site_condition"), info=label("现场状况"))

    __table_args__ = (
        CheckConstraint("longitude BETWEEN -180 AND 180 AND latitude BETWEEN -90 AND 90", name="coordinates"),
    )


class FloodPointPhoto(Base):
    """Metadata of a flood point's photo; the bytes live in the attachment store."""

    __tablename__ = "flood_point_photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    flood_point_id: Mapped[int] = mapped_column(ForeignKey("flood_points.id"), index=True, info=label("易涝点"))
    file_name: Mapped[str] = mapped_column(String(128), info=label("文件名"))
    content_type: Mapped[str] = mapped_column(String(64), info=label("文件类型"))
    size_bytes: Mapped[int] = mapped_column(Integer, info=label("文件大小（字节）"))
    sha256: Mapped[str] = mapped_column(String(64), info=label("SHA-256 校验值"))
    storage_key: Mapped[str] = mapped_column(String(256), info=label("存储位置"))
    caption: Mapped[str | None] = mapped_column(String(256), info=label("说明"))
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("拍摄时间"))


# --- Accounts, tokens and the access log -------------------------------------------


class OrgUnitKind(LabelledEnum):
    DEPARTMENT = "DEPARTMENT", "部门"
    TOWN_CENTRE = "TOWN_CENTRE", "乡镇（街道）基层治理协同中心"
    VILLAGE_COMMITTEE = "VILLAGE_COMMITTEE", "村（居）委会"


class Role(LabelledEnum):
    VILLAGE_CADRE = "VILLAGE_CADRE", "村（社区）干部"
    GRID_WORKER = "GRID_WORKER", "网格员"
    TOWN_COORDINATOR = "TOWN_COORDINATOR", "乡镇协同中心工作人员"
    DEPARTMENT_ANALYST = "DEPARTMENT_ANALYST", "部门数据分析人员"
    ADMIN = "ADMIN", "系统管理员"


class OrgUnit(Base):
    __tablename__ = "org_units"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True, info=label("单位名称"))
    kind: Mapped[OrgUnitKind] = mapped_column(_enum(OrgUnitKind, "org_unit_kind"), info=label("单位类别"))
    # The department's key in the policy file (e.g. "minzheng"); None for grassroots units.
    department: Mapped[str | None] = mapped_column(String(32), info=label("部门代码"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), info=label("所在区划"))


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, info=label("用户名"))
    display_name: Mapped[str] = mapped_column(String(64), info=label("姓名"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True, info=label("所属单位"))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"), info=label("角色"))
    jurisdiction_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), info=label("管辖区划"))
    active: Mapped[bool] = mapped_column(default=True, info=label("启用"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), info=label("创建时间"))
    # argon2id (PHC string); None: the person cannot sign in with a password (token only).
    password_hash: Mapped[str | None] = mapped_column(String(255), info=label("密码摘要"))
    # A password someone else set (first password, reset): it must be changed before anything else.
    password_must_change: Mapped[bool] = mapped_column(default=False, server_default=false(), info=label("须修改密码"))


class WebSession(Base):
    """A signed-in browser: only the SHA-256 of the cookie's session id is stored."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True, info=label("会话摘要"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, info=label("用户"))
    csrf_token: Mapped[str] = mapped_column(String(64), info=label("防伪令牌"))
    address: Mapped[str] = mapped_column(String(64), info=label("登录地址"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("登录时间"))
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("最近活动时间"))
    ended_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("退出时间"))


class SignInFailures(Base):
    """Failed sign-ins in a row, per account name (known or not) and per address: the lockout's count."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(128), primary_key=True, info=label("账号或地址"))
    failures: Mapped[int] = mapped_column(Integer, info=label("连续失败次数"))
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("锁定至"))


class ApiToken(Base):
    """Only the SHA-256 of a token is stored; the token itself is shown once, when issued."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True, info=label("用户"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, info=label("令牌摘要"))
    prefix: Mapped[str] = mapped_column(String(16), info=label("令牌前缀"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), server_default=func.now(), info=label("签发时间"))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("过期时间"))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("吊销时间"))


class AccessLogEntry(Base):
    """Who ran which operation, which sensitive fields it read, and how many rows it returned."""

    __tablename__ = "access_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True, info=label("时间"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, info=label("用户"))
    username: Mapped[str] = mapped_column(String(64), info=label("用户名"))
    org_unit: Mapped[str] = mapped_column(String(64), info=label("单位"))
    request_id: Mapped[str] = mapped_column(String(64), info=label("请求编号"))
    operation_type: Mapped[str] = mapped_column(String(16), info=label("操作类型"))
    operation_name: Mapped[str | None] = mapped_column(String(128), info=label("操作名称"))
    sensitive_fields: Mapped[str] = mapped_column(Text, default="", info=label("读取的敏感字段"))
    row_count: Mapped[int] = mapped_column(Integer, default=0, info=label("返回记录数"))
    outcome: Mapped[str] = mapped_column(String(16), info=label("结果"))


class SavedTemplate(Base):
    """A department's own template, saved through the API. Every save or delete adds a
    version; the newest version of an id is the template (or its deletion)."""

    __tablename__ = "saved_templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    template_id: Mapped[str] = mapped_column(String(64), index=True, info=label("表样编号"))
    version: Mapped[int] = mapped_column(Integer, info=label("版本"))
    department: Mapped[str] = mapped_column(String(32), info=label("所属部门"))
    definition: Mapped[str] = mapped_column(Text, info=label("表样定义（YAML）"))
    deleted: Mapped[bool] = mapped_column(default=False, info=label("已删除"))
    saved_by: Mapped[str] = mapped_column(String(64), info=label("保存人"))
    saved_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("保存时间"))

    __table_args__ = (UniqueConstraint("template_id", "version"),)


class ChangeSource(LabelledEnum):
    API = "API", "接口"
    FILL_SHEET = "FILL_SHEET", "填报表"
    IMPORT = "IMPORT", "导入"
    TASK = "TASK", "填报任务"


class Change(Base):
    """One field of one record changed: written in the same transaction as the change itself."""

    __tablename__ = "changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    entity: Mapped[str] = mapped_column(String(32), info=label("对象类型"))
    record_id: Mapped[int] = mapped_column(Integer, info=label("记录ID"))
    field: Mapped[str] = mapped_column(String(64), info=label("字段"))
    old_value: Mapped[str | None] = mapped_column(Text, info=label("原值"))
    new_value: Mapped[str | None] = mapped_column(Text, info=label("新值"))
    version: Mapped[int] = mapped_column(Integer, info=label("修改后版本"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), info=label("修改人"))
    username: Mapped[str] = mapped_column(String(64), info=label("修改人用户名"))
    org_unit: Mapped[str] = mapped_column(String(64), info=label("修改单位"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("修改时间"))
    source: Mapped[ChangeSource] = mapped_column(_enum(ChangeSource, "change_source"), info=label("来源"))
    request_id: Mapped[str] = mapped_column(String(64), info=label("请求编号"))
    # A task's fill (mutation or fill sheet) names its task and round: a round lists exactly these, never a
    # direct write to the same cell at the same time.
    task_id: Mapped[int | None] = mapped_column(ForeignKey("village_tasks.id"), index=True, info=label("村级任务"))
    task_round: Mapped[int | None] = mapped_column(Integer, info=label("报送轮次"))

    __table_args__ = (Index("ix_changes_entity_record", "entity", "record_id", "id"),)


# --- Events: village damage reports, flood-point reports, photos ---------------------


class EventKind(LabelledEnum):
    TYPHOON = "TYPHOON", "台风"
    RAINSTORM_FLOOD = "RAINSTORM_FLOOD", "暴雨洪涝"
    LANDSLIDE = "LANDSLIDE", "地质灾害"
    OTHER = "OTHER", "其他"


class EventStatus(LabelledEnum):
    OPEN = "OPEN", "进行中"
    CLOSED = "CLOSED", "已结束"


class ReportKind(LabelledEnum):
    """The national natural-disaster statistics rules: one 初报, any number of 续报, one 核报."""

    INITIAL = "INITIAL", "初报"
    FOLLOW_UP = "FOLLOW_UP", "续报"
    FINAL = "FINAL", "核报"


class ReviewStatus(LabelledEnum):
    SUBMITTED = "SUBMITTED", "待审核"
    PASSED = "PASSED", "已通过"
    SENT_BACK = "SENT_BACK", "已退回"


class HouseDamage(LabelledEnum):
    COLLAPSED = "COLLAPSED", "倒塌"
    SEVERE = "SEVERE", "严重损坏"
    GENERAL = "GENERAL", "一般损坏"


class Event(Versioned, Base):
    """A disaster event over a town or a district; while it is open, villages report into it."""

    __tablename__ = "events"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind, "event_kind"), info=label("事件类型"))
    name: Mapped[str] = mapped_column(String(128), info=label("事件名称"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("涉及区划"))
    # The covered region's code range (see Subtree): a caller sees the event when it overlaps their jurisdiction.
    scope_low: Mapped[str] = mapped_column(String(12), info=label("区划代码下限"))
    scope_high: Mapped[str] = mapped_column(String(12), info=label("区划代码上限"))
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus, "event_status"), info=label("状态"))
    started_on: Mapped[dt.date] = mapped_column(Date, info=label("开始日期"))
    ended_on: Mapped[dt.date | None] = mapped_column(Date, info=label("结束日期"))
    opened_by: Mapped[str] = mapped_column(String(64), info=label("发起人"))
    opened_unit: Mapped[str] = mapped_column(String(64), info=label("发起单位"))


class DamageReport(Base):
    """One report of one village for one event. Never changed once written, except its review."""

    __tablename__ = "damage_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), info=label("事件"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), info=label("村（社区）"))
    kind: Mapped[ReportKind] = mapped_column(_enum(ReportKind, "report_kind"), info=label("报告类型"))
    sequence: Mapped[int] = mapped_column(Integer, info=label("第几次报告"))
    affected_population: Mapped[int] = mapped_column(Integer, info=label("受灾人口（人）"))
    relocated_population: Mapped[int] = mapped_column(Integer, info=label("紧急转移安置人口（人）"))
    relief_needed_population: Mapped[int] = mapped_column(Integer, info=label("需紧急生活救助人口（人）"))
    deaths: Mapped[int] = mapped_column(Integer, info=label("因灾死亡人口（人）"))
    missing: Mapped[int] = mapped_column(Integer, info=label("因灾失踪人口（人）"))
    # From the register of damaged houses (damaged_houses): nobody types these.
    collapsed_rooms: Mapped[int] = mapped_column(Integer, info=label("倒塌房屋（间）"))
    severely_damaged_rooms: Mapped[int] = mapped_column(Integer, info=label("严重损坏房屋（间）"))
    generally_damaged_rooms: Mapped[int] = mapped_column(Integer, info=label("一般损坏房屋（间）"))
    crop_affected_area: Mapped[float] = mapped_column(Numeric(12, 1, asdecimal=False), info=label("农作物受灾面积（亩）"))
    crop_disaster_area: Mapped[float] = mapped_column(Numeric(12, 1, asdecimal=False), info=label("农作物成灾面积（亩）"))
    crop_lost_area: Mapped[float] = mapped_column(Numeric(12, 1, asdecimal=False), info=label("农作物绝收面积（亩）"))
    direct_loss: Mapped[float] = mapped_column(Numeric(12, 2, asdecimal=False), info=label("直接经济损失（万元）"))
    notes: Mapped[str | None] = mapped_column(Text, info=label("灾情描述"))
    explanation: Mapped[str | None] = mapped_column(Text, info=label("数据变化说明"))
    reported_by: Mapped[str] = mapped_column(String(64), info=label("填报人"))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("填报时间"))
    review_status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"), info=label("审核状态"))
    review_reason: Mapped[str | None] = mapped_column(String(256), info=label("退回原因"))
    reviewed_by: Mapped[str | None] = mapped_column(String(64), info=label("审核人"))
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("审核时间"))

    __table_args__ = (
        UniqueConstraint("event_id", "village_id", "sequence", name="event_village_sequence"),
        Index("ix_damage_reports_event_village", "event_id", "village_id", "sequence"),
    )


class DamagedHouse(Base):
    """因灾倒塌损坏住房户台账: a household's house, as one report registers it."""

    __tablename__ = "damaged_houses"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("damage_reports.id"), index=True, info=label("灾情报告"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True, info=label("户"))
    damage: Mapped[HouseDamage] = mapped_column(_enum(HouseDamage, "house_damage"), info=label("损坏程度"))
    rooms: Mapped[int] = mapped_column(Integer, info=label("间数"))

    __table_args__ = (UniqueConstraint("report_id", "household_id", name="report_household"),)


class AffectedEnterprise(Base):
    __tablename__ = "affected_enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("damage_reports.id"), index=True, info=label("灾情报告"))
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True, info=label("企业"))
    note: Mapped[str | None] = mapped_column(String(256), info=label("受灾情况"))

    __table_args__ = (UniqueConstraint("report_id", "enterprise_id", name="report_enterprise"),)


class FloodPointReport(Base):
    """What a village saw at a flood point during an event: condition, water depth, a paragraph, photos."""

    __tablename__ = "flood_point_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True, info=label("事件"))
    flood_point_id: Mapped[int] = mapped_column(ForeignKey("flood_points.id"), index=True, info=label("易涝点"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("村（社区）"))
    condition: Mapped[SiteCondition] = mapped_column(_enum(SiteCondition, "site_condition"), info=label("现场状况"))
    water_depth_cm: Mapped[int | None] = mapped_column(Integer, info=label("积水深度（厘米）"))
    text: Mapped[str | None] = mapped_column(Text, info=label("现场情况"))
    reported_by: Mapped[str] = mapped_column(String(64), info=label("填报人"))
    reported_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("填报时间"))


class Photo(Base):
    """A photo of a report. The bytes are in the blob store, once per content: a display size and a thumbnail."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    damage_report_id: Mapped[int | None] = mapped_column(ForeignKey("damage_reports.id"), index=True, info=label("灾情报告"))
    flood_point_report_id: Mapped[int | None] = mapped_column(ForeignKey("flood_point_reports.id"), index=True, info=label("易涝点报告"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("村（社区）"))
    content_type: Mapped[str] = mapped_column(String(32), info=label("文件类型"))
    width: Mapped[int] = mapped_column(Integer, info=label("宽（像素）"))
    height: Mapped[int] = mapped_column(Integer, info=label("高（像素）"))
    size_bytes: Mapped[int] = mapped_column(Integer, info=label("文件大小（字节）"))
    display_key: Mapped[str] = mapped_column(String(80), info=label("显示图存储位置"))
    thumbnail_key: Mapped[str] = mapped_column(String(80), info=label("缩略图存储位置"))
    caption: Mapped[str | None] = mapped_column(String(256), info=label("说明"))
    taken_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("拍摄时间"))
    uploaded_by: Mapped[str] = mapped_column(String(64), info=label("上传人"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("上传时间"))

    __table_args__ = (
        CheckConstraint("(damage_report_id IS NULL) <> (flood_point_report_id IS NULL)", name="one_owner"),
    )


class EventOutbox(Base):
    """Written in the same transaction as what it announces; its increasing id is the live board's cursor."""

    __tablename__ = "event_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), index=True, info=label("事件"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), info=label("村（社区）"))
    damage_report_id: Mapped[int | None] = mapped_column(ForeignKey("damage_reports.id"), info=label("灾情报告"))
    flood_point_report_id: Mapped[int | None] = mapped_column(ForeignKey("flood_point_reports.id"), info=label("易涝点报告"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("时间"))


# --- Indicators (指标库), data requests and village tasks --------------------------


class IndicatorEntity(LabelledEnum):
    VILLAGE = "VILLAGE", "村（社区）"
    HOUSEHOLD = "HOUSEHOLD", "户"
    PERSON = "PERSON", "人员"
    ENTERPRISE = "ENTERPRISE", "企业"
    FLOOD_POINT = "FLOOD_POINT", "易涝点"


class IndicatorType(LabelledEnum):
    INTEGER = "INTEGER", "整数"
    DECIMAL = "DECIMAL", "小数"
    TEXT = "TEXT", "文本"
    DATE = "DATE", "日期"
    BOOLEAN = "BOOLEAN", "是否"
    CHOICE = "CHOICE", "单选"


class Periodicity(LabelledEnum):
    NONE = "NONE", "不分期"
    MONTH = "MONTH", "按月"
    QUARTER = "QUARTER", "按季"
    YEAR = "YEAR", "按年"


class Indicator(Versioned, Base):
    """A piece of data the hub has no column for, defined once; its values live in indicator_values."""

    __tablename__ = "indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True, info=label("指标编码"))
    name: Mapped[str] = mapped_column(String(64), info=label("指标名称"))
    entity: Mapped[IndicatorEntity] = mapped_column(_enum(IndicatorEntity, "indicator_entity"), info=label("描述对象"))
    value_type: Mapped[IndicatorType] = mapped_column(_enum(IndicatorType, "indicator_type"), info=label("数据类型"))
    unit: Mapped[str | None] = mapped_column(String(16), info=label("计量单位"))
    max_length: Mapped[int | None] = mapped_column(Integer, info=label("最大长度"))
    choices: Mapped[str | None] = mapped_column(Text, info=label("可选值（以“|”分隔）"))
    min_value: Mapped[float | None] = mapped_column(Float, info=label("最小值"))
    max_value: Mapped[float | None] = mapped_column(Float, info=label("最大值"))
    pattern: Mapped[str | None] = mapped_column(String(128), info=label("格式（正则表达式）"))
    periodicity: Mapped[Periodicity] = mapped_column(_enum(Periodicity, "periodicity"), info=label("填报周期"))
    owner_department: Mapped[str] = mapped_column(String(32), info=label("所属部门"))
    sensitive: Mapped[bool] = mapped_column(default=False, info=label("敏感指标"))
    legal_basis: Mapped[str] = mapped_column(Text, info=label("采集依据"))


class IndicatorGrant(Base):
    """Another department may read an indicator: in full or masked, for a stated purpose."""

    __tablename__ = "indicator_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), index=True, info=label("指标"))
    department: Mapped[str] = mapped_column(String(32), info=label("部门代码"))
    mode: Mapped[str] = mapped_column(String(8), info=label("方式（read 明文、masked 脱敏）"))
    purpose: Mapped[str] = mapped_column(Text, info=label("用途或依据"))

    __table_args__ = (UniqueConstraint("indicator_id", "department"),)


class IndicatorValue(Versioned, Base):
    """One indicator's value for one record and period ('' when not periodic)."""

    __tablename__ = "indicator_values"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("indicators.id"), info=label("指标"))
    entity_id: Mapped[int] = mapped_column(Integer, info=label("对象记录ID"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("所属村（社区）"))
    period: Mapped[str] = mapped_column(String(8), info=label("期别"))
    value: Mapped[str | None] = mapped_column(Text, info=label("值"))

    __table_args__ = (UniqueConstraint("indicator_id", "entity_id", "period"),)


class RequestStatus(LabelledEnum):
    FILED = "FILED", "已提交"
    ANSWERED_FROM_HUB = "ANSWERED_FROM_HUB", "已由数据中心答复"
    NEEDS_GRANT = "NEEDS_GRANT", "待授权"
    IN_REVIEW = "IN_REVIEW", "乡镇审核中"
    APPROVED = "APPROVED", "已通过"
    REJECTED = "REJECTED", "已退回（不予下发）"
    RETURNED = "RETURNED", "已退回修改"


class TaskStatus(LabelledEnum):
    NOT_STARTED = "NOT_STARTED", "未开始"
    IN_PROGRESS = "IN_PROGRESS", "填报中"
    SUBMITTED = "SUBMITTED", "已报送"
    SENT_BACK = "SENT_BACK", "已退回重填"
    ACCEPTED = "ACCEPTED", "已验收"


class DataRequest(Versioned, Base):
    """A department's data request (填报任务) and what the hub made of it."""

    __tablename__ = "data_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128), info=label("任务名称"))
    purpose: Mapped[str] = mapped_column(Text, info=label("用途"))
    legal_basis: Mapped[str] = mapped_column(Text, info=label("依据"))
    department: Mapped[str] = mapped_column(String(32), index=True, info=label("发起部门"))
    filed_by: Mapped[str] = mapped_column(String(64), info=label("发起人"))
    filed_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("发起时间"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("填报范围"))
    entity: Mapped[IndicatorEntity] = mapped_column(_enum(IndicatorEntity, "indicator_entity"), info=label("填报对象"))
    filters: Mapped[str] = mapped_column(String(256), default="", info=label("筛选条件"))
    columns: Mapped[str] = mapped_column(Text, info=label("所需栏目（JSON）"))
    period: Mapped[str] = mapped_column(String(8), info=label("期别"))
    deadline: Mapped[dt.date] = mapped_column(Date, info=label("截止日期"))
    recurrence: Mapped[Periodicity] = mapped_column(_enum(Periodicity, "periodicity"), info=label("重复周期"))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "request_status"), info=label("状态"))
    template_id: Mapped[str | None] = mapped_column(String(64), info=label("答复表样"))
    hub_cells: Mapped[int] = mapped_column(Integer, default=0, info=label("数据中心答复的单元格数"))
    village_count: Mapped[int] = mapped_column(Integer, default=0, info=label("涉及村（社区）数"))


class RequestReview(Versioned, Base):
    """A request's review at one target town (基层治理协同中心)."""

    __tablename__ = "request_reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True, info=label("填报任务"))
    town_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("乡镇（街道）"))
    status: Mapped[RequestStatus] = mapped_column(_enum(RequestStatus, "request_status"), info=label("审核状态"))
    reason: Mapped[str | None] = mapped_column(Text, info=label("理由或建议"))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("data_requests.id"), info=label("与之重复的任务"))
    hub_cells: Mapped[int] = mapped_column(Integer, default=0, info=label("本镇由数据中心答复的单元格数"))

    __table_args__ = (UniqueConstraint("request_id", "town_id"),)


class VillageTask(Versioned, Base):
    """An approved request in one village's inbox."""

    __tablename__ = "village_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True, info=label("填报任务"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True, info=label("村（社区）"))
    status: Mapped[TaskStatus] = mapped_column(_enum(TaskStatus, "task_status"), info=label("状态"))
    round: Mapped[int] = mapped_column(Integer, default=0, info=label("报送次数"))
    submitted_at: Mapped[dt.date | None] = mapped_column(Date, info=label("报送日期"))
    sent_back_reason: Mapped[str | None] = mapped_column(Text, info=label("退回原因"))
    cells: Mapped[int] = mapped_column(Integer, default=0, info=label("需填报的单元格数"))

    __table_args__ = (UniqueConstraint("request_id", "village_id"),)


class Transition(Base):
    """Every state change of a request, a town's review or a village task: who, when, why."""

    __tablename__ = "request_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("data_requests.id"), index=True, info=label("填报任务"))
    review_id: Mapped[int | None] = mapped_column(ForeignKey("request_reviews.id"), info=label("乡镇审核"))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("village_tasks.id"), index=True, info=label("村级任务"))
    from_status: Mapped[str | None] = mapped_column(String(24), info=label("原状态"))
    to_status: Mapped[str] = mapped_column(String(24), info=label("新状态"))
    username: Mapped[str] = mapped_column(String(64), info=label("操作人"))
    org_unit: Mapped[str] = mapped_column(String(64), info=label("操作单位"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("时间"))
    reason: Mapped[str | None] = mapped_column(Text, info=label("理由"))
    # A send-back's named cells, [{"entityId": …, "key": …}] (JSON): what the village is to correct.
    named_cells: Mapped[str | None] = mapped_column(Text, info=label("退回时指出的行和栏目"))


# --- Document centre (资料文档中心): files, their versions, grants to read them, who read them ---


class DocumentCategory(LabelledEnum):
    WORK_LEDGER = "WORK_LEDGER", "工作台账"
    MEETING_MINUTES = "MEETING_MINUTES", "会议纪要"
    INSPECTION = "INSPECTION", "检查材料"
    POLICY = "POLICY", "政策文件"
    PHOTO = "PHOTO", "照片"
    OTHER = "OTHER", "其他"


class DocumentKind(LabelledEnum):
    PDF = "PDF", "PDF 文件"
    XLSX = "XLSX", "Excel 工作簿（xlsx）"
    DOCX = "DOCX", "Word 文档（docx）"
    JPEG = "JPEG", "JPEG 图片"
    PNG = "PNG", "PNG 图片"


class GrantMode(LabelledEnum):
    VIEW = "VIEW", "仅在线查看"
    DOWNLOAD = "DOWNLOAD", "在线查看和下载"


class Document(Versioned, Base):
    """An uploaded document of one unit; its files are in document_versions, newest = latest_number."""

    __tablename__ = "documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(128), info=label("标题"))
    category: Mapped[DocumentCategory] = mapped_column(_enum(DocumentCategory, "document_category"), info=label("类别"))
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), info=label("涉及区划"))
    year: Mapped[int] = mapped_column(Integer, info=label("年度"))
    tags: Mapped[str] = mapped_column(String(256), default="", info=label("标签"))
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), info=label("所属单位"))
    latest_number: Mapped[int] = mapped_column(Integer, info=label("最新版本号"))
    created_by: Mapped[str] = mapped_column(String(64), info=label("上传人"))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("上传时间"))
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), info=label("撤回时间"))

    __table_args__ = (Index("ix_documents_owner_category_year", "owner_unit_id", "category", "year"),)


class DocumentVersion(Base):
    """One uploaded file of a document, kept as sent (blob_key) with what the viewer shows (preview_key)."""

    __tablename__ = "document_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), info=label("文档"))
    number: Mapped[int] = mapped_column(Integer, info=label("版本号"))
    kind: Mapped[DocumentKind] = mapped_column(_enum(DocumentKind, "document_kind"), info=label("文件类型"))
    file_name: Mapped[str] = mapped_column(String(128), info=label("文件名"))
    size_bytes: Mapped[int] = mapped_column(Integer, info=label("文件大小（字节）"))
    page_count: Mapped[int] = mapped_column(Integer, info=label("页数（工作表数）"))
    blob_key: Mapped[str] = mapped_column(String(80), info=label("原文件存储位置"))
    preview_key: Mapped[str | None] = mapped_column(String(80), info=label("预览存储位置"))
    uploaded_by: Mapped[str] = mapped_column(String(64), info=label("上传人"))
    uploaded_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("上传时间"))

    __table_args__ = (UniqueConstraint("document_id", "number"),)


class DocumentGrant(Base):
    """A unit lets another unit (or one user) read one of its documents, or a set (category + year, within a region)."""

    __tablename__ = "document_grants"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True, info=label("授权单位"))
    document_id: Mapped[int | None] = mapped_column(ForeignKey("documents.id"), index=True, info=label("文档"))
    category: Mapped[DocumentCategory | None] = mapped_column(_enum(DocumentCategory, "document_category"), info=label("类别"))
    year: Mapped[int | None] = mapped_column(Integer, info=label("年度"))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"), info=label("区划"))
    grantee_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"), index=True, info=label("被授权单位"))
    grantee_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True, info=label("被授权人"))
    valid_from: Mapped[dt.date] = mapped_column(Date, info=label("生效日期"))
    valid_until: Mapped[dt.date] = mapped_column(Date, info=label("截止日期"))
    purpose: Mapped[str] = mapped_column(String(256), info=label("用途"))
    mode: Mapped[GrantMode] = mapped_column(_enum(GrantMode, "grant_mode"), info=label("方式"))
    granted_by: Mapped[str] = mapped_column(String(64), info=label("授权人"))
    granted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("授权时间"))
    revoked_on: Mapped[dt.date | None] = mapped_column(Date, info=label("撤销日期"))
    revoked_by: Mapped[str | None] = mapped_column(String(64), info=label("撤销人"))

    __table_args__ = (
        CheckConstraint("(document_id IS NULL) <> (category IS NULL)", name="one_subject"),
        CheckConstraint("(grantee_unit_id IS NULL) <> (grantee_user_id IS NULL)", name="one_grantee"),
        CheckConstraint("valid_until >= valid_from", name="period"),
    )


class DocumentAccess(Base):
    """Every view and download of a document: who, their unit, when, which version, which pages or sheet."""

    __tablename__ = "document_access"

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id"), info=label("文档"))
    version_number: Mapped[int] = mapped_column(Integer, info=label("版本号"))
    grant_id: Mapped[int | None] = mapped_column(ForeignKey("document_grants.id"), info=label("依据的授权"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), info=label("用户"))
    username: Mapped[str] = mapped_column(String(64), info=label("用户名"))
    display_name: Mapped[str] = mapped_column(String(64), info=label("姓名"))
    org_unit: Mapped[str] = mapped_column(String(64), info=label("单位"))
    action: Mapped[str] = mapped_column(String(16), info=label("操作（VIEW 查看、DOWNLOAD 下载）"))
    part: Mapped[str] = mapped_column(String(128), info=label("查看内容（页、工作表）"))
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), info=label("时间"))

    __table_args__ = (Index("ix_document_access_document_id", "document_id", "id"),)
