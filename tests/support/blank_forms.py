"""Blank paper forms (表样) as county departments draw them, built in code so a diff shows what changed.

A form is its title, a subtitle line, its columns (each a list of header levels, top-down: equal
neighbours merge across, a shorter column merges down), an optional units row （元） and row of
column numbers, a few empty bordered rows, an optional 合计 row and the footer lines.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
SIGNATURE = "填报单位（盖章）：                填报人：            审核人：            填报日期：    年  月  日"


@dataclass
class Col:
    levels: tuple[str, ...]
    width: float
    unit: str | None = None  # shown in the units row, e.g. （元）


@dataclass
class BlankForm:
    title: str
    columns: list[Col]
    subtitle: str | None = "填报单位（盖章）：                              年    月    日"
    numbering: bool = False  # a row of column numbers under the header: 甲 1 2 3 …
    empty_rows: int = 5
    total_row: bool = False
    footer: list[str] = field(default_factory=lambda: [SIGNATURE])
    paper: int = 9  # 9 A4, 8 A3
    orientation: str = "landscape"
    title_font: tuple[str, float] = ("方正小标宋简体", 18)
    header_font: tuple[str, float] = ("黑体", 11)

    @property
    def levels(self) -> int:
        return max(len(c.levels) for c in self.columns)


def build(form: BlankForm) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = form.title[:31]
    width = len(form.columns)
    last = get_column_letter(width)
    center = Alignment(horizontal="center", vertical="center", wrap_text=True)

    sheet["A1"] = form.title
    sheet["A1"].font = Font(name=form.title_font[0], size=form.title_font[1], bold=True)
    sheet["A1"].alignment = center
    sheet.merge_cells(f"A1:{last}1")
    sheet.row_dimensions[1].height = 36
    row = 2
    if form.subtitle:
        sheet["A2"] = form.subtitle
        sheet.merge_cells(f"A2:{last}2")
        row = 3
    top = row
    for level in range(form.levels):  # header rows: texts, then merges
        for index, column in enumerate(form.columns, 1):
            cell = sheet.cell(top + level, index)
            cell.border, cell.alignment = BOX, center
            cell.font = Font(name=form.header_font[0], size=form.header_font[1], bold=True)
            if level < len(column.levels) and (index == 1 or form.columns[index - 2].levels[: level + 1] != column.levels[: level + 1]):
                cell.value = column.levels[level]
        sheet.row_dimensions[top + level].height = 30
    for index, column in enumerate(form.columns, 1):
        depth = len(column.levels)
        if depth < form.levels:
            sheet.merge_cells(start_row=top + depth - 1, start_column=index, end_row=top + form.levels - 1, end_column=index)
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    for level in range(form.levels - 1):
        start = 1
        while start <= width:
            end = start
            key = form.columns[start - 1].levels[: level + 1]
            if len(form.columns[start - 1].levels) > level + 1:
                while end < width and len(form.columns[end].levels) > level + 1 and form.columns[end].levels[: level + 1] == key:
                    end += 1
            if end > start:
                sheet.merge_cells(start_row=top + level, start_column=start, end_row=top + level, end_column=end)
            start = end + 1
    row = top + form.levels
    if any(c.unit for c in form.columns):
        for index, column in enumerate(form.columns, 1):
            cell = sheet.cell(row, index, column.unit)
            cell.border, cell.alignment = BOX, center
        row += 1
    if form.numbering:
        for index in range(1, width + 1):
            cell = sheet.cell(row, index, "甲" if index == 1 else index - 1)
            cell.border, cell.alignment = BOX, center
        row += 1
    header_bottom = row - 1
    for _ in range(form.empty_rows):
        for index in range(1, width + 1):
            cell = sheet.cell(row, index)
            cell.border = BOX
            cell.font = Font(name="宋体", size=10)
        row += 1
    if form.total_row:
        sheet.cell(row, 1, "合计").border = BOX
        for index in range(2, width + 1):
            sheet.cell(row, index).border = BOX
        row += 1
    for text in form.footer:
        sheet.cell(row, 1, text)
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)
        row += 1
    sheet.page_setup.paperSize = form.paper
    sheet.page_setup.orientation = form.orientation
    sheet.print_title_rows = f"{top}:{header_bottom}"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def from_template(template) -> BlankForm:
    """The blank of a shipped template: its title, header levels and widths, a 合计 row if it sums."""
    return BlankForm(
        title=template.title,
        columns=[Col(tuple(c.headers), c.width or 8.43) for c in template.columns],
        total_row=bool(template.subtotals),
        paper=9 if template.paper == "A4" else 8,
        orientation=template.orientation,
    )


# --- five county forms, each with the fields the hub should find in it ---------------------------
# An expected path of None: the hub has no such field (an open column, or a new indicator).

DIBAO = BlankForm(
    title="荔城区城乡居民最低生活保障对象花名册",
    columns=[
        Col(("序号",), 5),
        Col(("村（社区）",), 12),
        Col(("户主姓名",), 9),
        Col(("性别",), 5),
        Col(("身份证号码",), 20),
        Col(("家庭住址",), 24),
        Col(("保障情况", "保障人口"), 8, "（人）"),
        Col(("保障情况", "家庭月人均收入"), 10, "（元）"),
        Col(("保障情况", "月保障金"), 10, "（元）"),
        Col(("保障情况", "纳入保障时间"), 11),
        Col(("联系方式",), 13),
        Col(("备注",), 10),
    ],
    total_row=True,
)
DIBAO_EXPECTED = {
    "序号": "row_number", "村（社区）": "village.name", "户主姓名": "head.name", "性别": "head.gender",
    "身份证号码": "head.idNumber", "家庭住址": "address", "保障情况/保障人口": "memberCount",
    "保障情况/家庭月人均收入": "incomePerPersonMonthly", "保障情况/月保障金": "subsidyMonthly",
    "保障情况/纳入保障时间": "lowIncomeSince", "联系方式": "phone", "备注": None,
}

TEKUN = BlankForm(
    title="特困人员救助供养对象花名册",
    columns=[
        Col(("序号",), 5),
        Col(("村（社区）",), 12),
        Col(("供养对象基本情况", "姓名"), 9),
        Col(("供养对象基本情况", "性别"), 5),
        Col(("供养对象基本情况", "出生日期"), 11),
        Col(("供养对象基本情况", "年龄"), 5),
        Col(("供养对象基本情况", "公民身份号码"), 20),
        Col(("供养情况", "供养方式"), 9),
        Col(("供养情况", "生活自理能力"), 9),
        Col(("供养情况", "月供养金额"), 10, "（元）"),
        Col(("联系电话",), 13),
        Col(("备注",), 10),
    ],
    numbering=True,
    total_row=True,
    paper=8,
)
TEKUN_EXPECTED = {
    "序号": "row_number", "村（社区）": "household.village.name", "供养对象基本情况/姓名": "name",
    "供养对象基本情况/性别": "gender", "供养对象基本情况/出生日期": "birthDate", "供养对象基本情况/年龄": "age",
    "供养对象基本情况/公民身份号码": "idNumber", "供养情况/供养方式": None, "供养情况/生活自理能力": None,
    "供养情况/月供养金额": "household.subsidyMonthly", "联系电话": "phone", "备注": None,
}

CANJI = BlankForm(
    title="困难残疾人生活补贴和重度残疾人护理补贴发放花名册",
    columns=[
        Col(("序号",), 5),
        Col(("残疾人基本情况", "姓名"), 9),
        Col(("残疾人基本情况", "性别"), 5),
        Col(("残疾人基本情况", "出生年月"), 10),
        Col(("残疾人基本情况", "身份证号"), 20),
        Col(("残疾人基本情况", "残疾类别"), 8),
        Col(("残疾人基本情况", "残疾等级"), 8),
        Col(("是否低保",), 6),
        Col(("补贴标准", "生活补贴"), 9, "（元/月）"),
        Col(("补贴标准", "护理补贴"), 9, "（元/月）"),
        Col(("家庭住址",), 22),
        Col(("联系电话",), 13),
        Col(("领取人签名",), 10),
    ],
    total_row=True,
)
CANJI_EXPECTED = {
    "序号": "row_number", "残疾人基本情况/姓名": "name", "残疾人基本情况/性别": "gender",
    "残疾人基本情况/出生年月": "birthDate", "残疾人基本情况/身份证号": "idNumber",
    "残疾人基本情况/残疾类别": "disabilityType", "残疾人基本情况/残疾等级": "disabilityGrade",
    "是否低保": "household.lowIncome", "补贴标准/生活补贴": None, "补贴标准/护理补贴": None,
    "家庭住址": "household.address", "联系电话": "phone", "领取人签名": None,
}

GAOLING = BlankForm(
    title="八十周岁以上高龄老人高龄津贴发放花名册",
    columns=[
        Col(("序号",), 5),
        Col(("乡镇（街道）",), 10),
        Col(("村（社区）",), 12),
        Col(("老人姓名",), 9),
        Col(("性别",), 5),
        Col(("出生年月",), 10),
        Col(("年龄",), 5),
        Col(("身份证号码",), 20),
        Col(("津贴标准",), 9, "（元/月）"),
        Col(("联系电话",), 13),
        Col(("备注",), 10),
    ],
    subtitle="填报单位：                     统计时间：    年  月",
    total_row=False,
    orientation="portrait",
)
GAOLING_EXPECTED = {
    "序号": "row_number", "乡镇（街道）": "household.village.parent.name", "村（社区）": "household.village.name", "老人姓名": "name",
    "性别": "gender", "出生年月": "birthDate", "年龄": "age", "身份证号码": "idNumber", "津贴标准": None,
    "联系电话": "phone", "备注": None,
}

FANGXUN = BlankForm(
    title="防汛防台重点部位及责任人一览表",
    columns=[
        Col(("序号",), 5),
        Col(("乡镇（街道）",), 10),
        Col(("村（社区）",), 12),
        Col(("重点部位名称",), 22),
        Col(("风险等级",), 8),
        Col(("责任人", "姓名"), 9),
        Col(("责任人", "联系电话"), 13),
        Col(("整治状态",), 9),
        Col(("转移避险场所",), 16),
        Col(("备注",), 10),
    ],
    footer=["注：1. 风险等级分高、中、低三级；2. 责任人须24小时保持通讯畅通。", SIGNATURE],
    paper=8,
)
FANGXUN_EXPECTED = {
    "序号": "row_number", "乡镇（街道）": "village.parent.name", "村（社区）": "village.name", "重点部位名称": "name",
    "风险等级": "riskLevel", "责任人/姓名": "responsiblePerson", "责任人/联系电话": "responsiblePhone",
    "整治状态": "status", "转移避险场所": None, "备注": None,
}

# (name, department uploading it, the form, the expected mapping, the list its rows come from)
COUNTY_FORMS = [
    ("dibao", "minzheng", DIBAO, DIBAO_EXPECTED, "households"),
    ("tekun", "minzheng", TEKUN, TEKUN_EXPECTED, "persons"),
    ("canji", "canlian", CANJI, CANJI_EXPECTED, "persons"),
    ("gaoling", "minzheng", GAOLING, GAOLING_EXPECTED, "persons"),
    ("fangxun", "yingji", FANGXUN, FANGXUN_EXPECTED, "floodPoints"),
]
