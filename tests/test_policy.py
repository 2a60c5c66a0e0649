"""The policy file is validated at start-up: every mistake stops the hub, naming the file and line."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hub.access.policy import load_policy, policy_path
from hub.settings import Settings
from hub.yamlfile import DataFileError
from schema.build import Schemas, build_schema

ROLES = """\
roles:
  ADMIN: {read: everything}
  TOWN_COORDINATOR: {read: base-data}
  VILLAGE_CADRE: {read: base-data, writes: [Person.phone]}
  GRID_WORKER: {read: base-data}
  DEPARTMENT_ANALYST: {read: department}
"""


@pytest.fixture(scope="module")
def full_schema():
    return build_schema(Settings.from_env())._schema


def write(tmp_path: Path, departments: str, *, roles: str = ROLES, sensitive: str = "sensitive: [Person.idNumber]\n") -> Path:
    path = tmp_path / "policy.yaml"
    path.write_text(sensitive + roles + "departments:\n" + textwrap.indent(textwrap.dedent(departments), "  "), encoding="utf-8")
    return path


GOOD = """\
weijian:
  name: 卫健委
  grants:
    - fields: [Person.name, Person.healthStatus]
      mode: read
      purpose: 慢性病患者健康管理
"""


def test_the_shipped_policy_is_valid(full_schema):
    policy = load_policy(full_schema, policy_path())
    assert {"minzheng", "weijian", "renshe", "yingji", "zhujian", "canlian", "shichang", "nongye"} <= set(policy.departments)


def test_a_minimal_policy_loads(tmp_path, full_schema):
    policy = load_policy(full_schema, write(tmp_path, GOOD))
    assert set(policy.departments["weijian"].grants) == {"Person.name", "Person.healthStatus"}


@pytest.mark.parametrize(
    ("departments", "line", "message"),
    [
        (GOOD.replace("Person.name", "Persn.name"), 12, "department weijian: grant: unknown type `Persn` in `Persn.name` (types: Region, Household, Person, Enterprise, FloodPoint, FloodPointPhoto, Event, DamageReport, DamagedHouse, AffectedEnterprise, HouseCount, VillageReportStatus, DamageTotals, FloodPointReport, Photo)"),
        (GOOD.replace("Person.name", "Person.nmae"), 12, "department weijian: grant: `Person` has no field `nmae`"),
        (GOOD.replace("Person.name", "Person.household"), 12, "department weijian: grant: `Person.household` is a relation; it is visible when its type has granted fields, grant those instead"),
        (GOOD.replace("mode: read", "mode: hidden"), 13, "department weijian: grant: unknown mode `hidden` (expected read or masked)"),
        (GOOD.replace("      purpose: 慢性病患者健康管理\n", ""), 12, "department weijian: grant has no purpose: give its purpose or legal basis"),
        (GOOD.replace("mode: read", "mode: masked"), 12, "department weijian: grant: `Person.name` cannot be masked (maskable: Enterprise.phone, Enterprise.safetyContactPhone, FloodPoint.responsiblePhone, Household.phone, Person.idNumber, Person.phone, Region.phone)"),
        (GOOD.replace("[Person.name, Person.healthStatus]", "[Person.name, Person.name]"), 12, "department weijian: grant: `Person.name` is already granted at line 12"),
        (GOOD.replace("  name: 卫健委\n", ""), 10, "department weijian: missing `name`"),
        (GOOD.replace("      mode: read\n", "      mode: read\n      scope: all\n"), 14, "department weijian: grant: unknown key `scope` (expected one of fields, mode, purpose)"),
    ],
)
def test_mistakes_name_file_and_line(tmp_path, full_schema, departments, line, message):
    path = write(tmp_path, departments)
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value) == f"{path}:{line}: {message}"


def test_role_mistakes(tmp_path, full_schema):
    path = write(tmp_path, GOOD, roles=ROLES.replace("GRID_WORKER", "GRID_WALKER"))
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value) == (
        f"{path}:6: unknown role `GRID_WALKER` (roles: VILLAGE_CADRE, GRID_WORKER, TOWN_COORDINATOR, DEPARTMENT_ANALYST, ADMIN)"
    )
    path = write(tmp_path, GOOD, roles=ROLES.replace("{read: department}", "{read: some}"))
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value) == f"{path}:7: role DEPARTMENT_ANALYST: read must be one of everything, base-data, department, got `some`"
    path = write(tmp_path, GOOD, roles=ROLES.replace("  GRID_WORKER: {read: base-data}\n", ""))
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value) == f"{path}:1: roles: no rule for GRID_WORKER"


def test_broken_yaml(tmp_path, full_schema):
    path = write(tmp_path, GOOD + "  - [unclosed\n")
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value).startswith(f"{path}:")
    assert "not valid YAML" in str(error.value)


def test_start_up_stops_on_a_bad_policy(tmp_path, monkeypatch):
    path = write(tmp_path, GOOD.replace("mode: read", "mode: hidden"))
    monkeypatch.setenv("HUB_POLICY_FILE", str(path))
    with pytest.raises(DataFileError) as error:
        Schemas(Settings.from_env())
    assert str(error.value) == f"{path}:13: department weijian: grant: unknown mode `hidden` (expected read or masked)"


def test_policy_commands(tmp_path, capsys):
    from hub.cli import main

    main(["policy", "check"])
    assert "valid — 9 departments" in capsys.readouterr().err
    main(["policy", "show", "weijian"])
    shown = capsys.readouterr().out
    assert "Person.idNumber" in shown and "masked" in shown and "Person.employer" not in shown
    with pytest.raises(SystemExit) as error:
        main(["policy", "show", "nope"])
    assert str(error.value).startswith("no department `nope` in ")


def test_export_schema_for_a_department(tmp_path, schemas):
    from hub.cli import main

    target = tmp_path / "weijian.graphql"
    main(["export-schema", "--department", "weijian", "-o", str(target)])
    sdl = target.read_text(encoding="utf-8")
    assert sdl == schemas.departments["weijian"].as_str() + "\n"
    assert "employer" not in sdl and "idNumber" in sdl and "type Enterprise" not in sdl


def test_a_department_writes_only_what_it_reads(tmp_path, full_schema):
    path = write(tmp_path, GOOD + "  writes:\n    - fields: [Person.employer]\n      purpose: 就业登记\n")
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value) == f"{path}:16: department weijian: writes: `Person.employer` must also be granted `read` to write it"
    policy = load_policy(full_schema, write(tmp_path, GOOD + "  writes:\n    - fields: [Person.healthStatus]\n      purpose: 健康随访\n"))
    assert policy.departments["weijian"].writes == {"Person.healthStatus"}


MASKED_ID = """\
    - fields: [Person.idNumber]
      mode: masked
      purpose: 核对身份
"""


@pytest.mark.parametrize(
    ("extra", "line", "message"),
    [
        (
            MASKED_ID + "    - fields: [Person.birthDate]\n      mode: read\n      purpose: 年龄段统计\n",
            18,
            "department weijian: grant: `Person.birthDate` in full rebuilds `Person.idNumber`, granted masked at line 15 "
            "(the mask hides exactly the birth date; grant Person.age instead)",
        ),
        (
            # the revealing grant comes first: still named at its own line
            "    - fields: [Household.phone]\n      mode: read\n      purpose: 联系\n"
            "    - fields: [Person.phone]\n      mode: masked\n      purpose: 联系\n",
            15,
            "department weijian: grant: `Household.phone` in full rebuilds `Person.phone`, granted masked at line 18 "
            "(a household's phone is one of its members' phones)",
        ),
    ],
)
def test_a_masked_field_cannot_be_rebuilt_from_other_grants(tmp_path, full_schema, extra, line, message):
    path = write(tmp_path, GOOD + extra)
    with pytest.raises(DataFileError) as error:
        load_policy(full_schema, path)
    assert str(error.value) == f"{path}:{line}: {message}"


def test_a_mask_beside_what_does_not_rebuild_it_loads(tmp_path, full_schema):
    extra = MASKED_ID + "    - fields: [Person.age, Person.gender, Household.phone]\n      mode: read\n      purpose: 年龄段统计\n"
    extra += "    - fields: [Person.phone]\n      mode: masked\n      purpose: 联系\n".replace("Person.phone", "Region.phone")
    policy = load_policy(full_schema, write(tmp_path, GOOD + extra))
    assert policy.departments["weijian"].grants["Person.idNumber"].mode.value == "masked"
