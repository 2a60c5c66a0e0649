"""The pages in a real browser: 东星社区's cadre on a phone, 西天尾镇's coordinator at a desk.

Playwright drives Debian's /usr/bin/chromium (no browser download); without them the test is
skipped, unless HUB_REQUIRE_BROWSER=1 (CI). Screenshots of each step go to var/artifacts/pages/
(the path is printed); look at them when the pages change.
"""

from __future__ import annotations

import io
import re
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from openpyxl import load_workbook
from PIL import Image
from sqlalchemy import func, select

from hub.access import passwords
from hub.data.models import DamageReport, Photo
from hub.demo.accounts import FIRST_PASSWORD
from tests.conftest import graphql
from tests.test_events import OPEN
from tests.test_graphiql_offline import (
    CHROMIUM,
    CHROMIUM_ARGS,
    LOOPBACK_HOSTS,
    _browser_or_skip,
)
from tests.test_queries import region_code
from tests.test_requests import FILE, REVIEW, request_input

pytestmark = pytest.mark.timeout(240)
ARTIFACTS = Path("var/artifacts/pages").resolve()
CADRE_PASSWORD = "Shequ-baosong-88"
COORDINATOR_PASSWORD = "Zhen-xietong-66"
ANALYST_PASSWORD = "Fangxun-fenxi-77"
GRID_PASSWORD = "Wangge-zoufang-55"
TEMPLATE_TITLE = "易涝点清单"  # one of 应急管理局's shipped templates (templates/yilao-qingdan.yaml)
TASKS = "query($id: ID!) { dataRequest(id: $id) { tasks { id villageName } } }"
ROWS = "query($id: ID!) { villageTask(id: $id) { rows { entityId } } }"
SET_VALUES = "mutation($values: [IndicatorValueInput!]!, $period: String) { setIndicatorValues(values: $values, period: $period) { errors { message } } }"


async def _api(base: str, token: str, query: str, variables: dict) -> dict:
    async with httpx.AsyncClient(base_url=base, headers={"authorization": f"Bearer {token}"}, timeout=30) as client:
        return await graphql(client, query, variables)


async def _prepare(base: str, tokens: dict[str, str], client) -> dict:
    """Through the API: a task approved for the town's villages, a second request pending, an open event."""
    town = await region_code(client, "西天尾镇")
    stem = f"p{time.monotonic_ns()}"
    columns = [{"path": "name"}, {"define": {"key": f"pages_sandbags_{stem}", "label": "沙袋（袋）", "entity": "VILLAGE", "type": "INTEGER",
                                             "unit": "袋", "minValue": 0, "periodicity": "MONTH", "legalBasis": "《防汛条例》第十五条"}}]
    filed = await _api(base, tokens["yingji"], FILE, {"input": request_input(town, columns, title=f"防汛沙袋储备{stem[-4:]}")})
    task_request = filed["fileRequest"]["request"]
    assert (await _api(base, tokens["xitianwei"], REVIEW, {"id": task_request["id"], "d": "APPROVE"}))["reviewRequest"]["errors"] == []
    tasks = (await _api(base, tokens["yingji"], TASKS, {"id": task_request["id"]}))["dataRequest"]["tasks"]
    own_task = next(t["id"] for t in tasks if t["villageName"] == "东星社区")
    # Last month's count, kept in the hub: the page offers it (沿用上期).
    village = (await _api(base, tokens["dongxing"], ROWS, {"id": own_task}))["villageTask"]["rows"][0]["entityId"]
    last_month = [{"key": f"pages_sandbags_{stem}", "entityId": village, "value": "90", "version": 0}]
    assert (await _api(base, tokens["dongxing"], SET_VALUES, {"values": last_month, "period": "2026-10"}))["setIndicatorValues"]["errors"] == []
    columns = [{"path": "name"}, {"define": {"key": f"pages_pumps_{stem}", "label": "抽水泵（台）", "entity": "VILLAGE", "type": "INTEGER",
                                             "unit": "台", "minValue": 0, "legalBasis": "《防汛条例》第十五条"}}]
    pending = await _api(base, tokens["yingji"], FILE, {"input": request_input(town, columns, title=f"抽水泵储备{stem[-4:]}")})
    # Two open events: the pages choose the newest first.
    older = await _api(base, tokens["xitianwei"], OPEN, {"r": town, "input": {"kind": "RAINSTORM_FLOOD", "name": f"暴雨演练{stem[-4:]}", "startedOn": "2026-11-14"}})
    event = await _api(base, tokens["xitianwei"], OPEN, {"r": town, "input": {"kind": "TYPHOON", "name": f"台风演练{stem[-4:]}", "startedOn": "2026-11-15"}})
    return {
        "own_task": own_task,
        "task_request": task_request["id"],
        "other_task": next(t["id"] for t in tasks if t["villageName"] != "东星社区"),
        "pending_title": f"抽水泵储备{stem[-4:]}",
        "pending_id": pending["fileRequest"]["request"]["id"],
        "event": event["openEvent"]["event"]["id"],
        "older_event": older["openEvent"]["event"]["id"],
    }


async def _count(engine, model) -> int:
    async with engine.connect() as connection:
        return await connection.scalar(select(func.count()).select_from(model.__table__))


def _jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (90, 140, 200)).save(buffer, "JPEG")
    return buffer.getvalue()


async def _sign_in(page, base: str, username: str, password: str) -> None:
    await page.goto(f"{base}/app/")
    await page.fill("input[name=username]", username)
    await page.fill("input[name=password]", password)
    await page.click("#sign-in button")


async def _sign_in_first_time(page, base: str, username: str, new_password: str) -> None:
    await _sign_in(page, base, username, FIRST_PASSWORD)
    await page.fill("#change input[name=current]", FIRST_PASSWORD)
    await page.fill("#change input[name=new]", new_password)
    await page.fill("#change input[name=again]", new_password)


async def test_cadre_reports_and_the_coordinator_sees_it_live(live_server, tokens, engine, client, tmp_path):
    _browser_or_skip()
    from playwright.async_api import async_playwright, expect

    base = live_server.rstrip("/")
    for username in ("dongxing", "xitianwei"):
        await passwords.set_password(engine, username, FIRST_PASSWORD, must_change=True)
    await passwords.set_password(engine, "dongxing-wangge", GRID_PASSWORD, must_change=False)
    setup = await _prepare(base, tokens, client)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots in {ARTIFACTS}")
    not_an_image = tmp_path / "现场.jpg"
    not_an_image.write_bytes(b"this is not a picture")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(_jpeg())
    errors: list[str] = []

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            phone = await browser.new_context(
                viewport={"width": 360, "height": 640}, is_mobile=True, has_touch=True, locale="zh-CN", accept_downloads=True)
            desk = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
            for context in (phone, desk):
                await context.route("**/*", lambda route, request: route.continue_() if urlsplit(request.url).hostname in LOOPBACK_HOSTS else route.abort())
            cadre, coordinator = await phone.new_page(), await desk.new_page()
            for page in (cadre, coordinator):
                page.on("pageerror", lambda error: errors.append(str(error)))

            async def shot(page, name: str) -> None:
                await page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)

            # A wrong password first: the same message as for an unknown user.
            await _sign_in(cadre, base, "dongxing", "wrong-password")
            await expect(cadre.locator("#sign-in .error")).to_have_text("用户名或密码不正确")
            await shot(cadre, "01-cadre-wrong-password")

            await _sign_in_first_time(cadre, base, "dongxing", CADRE_PASSWORD)
            await shot(cadre, "02-cadre-change-first-password")
            await cadre.click("#change button")
            await expect(cadre).to_have_url(f"{base}/app/cun/")
            task_link = cadre.locator(f"a[href='#task/{setup['own_task']}']")
            await expect(task_link).to_be_visible()
            await expect(cadre.locator(".summary")).to_contain_text("需要报送")
            await expect(task_link).to_contain_text("应急管理局")  # the unit's name, not its key
            await shot(cadre, "03-cadre-inbox")

            # Another village's task, by its URL: not found, nothing shown.
            await cadre.goto(f"{base}/app/cun/#task/{setup['other_task']}")
            await expect(cadre.locator(".notice.error")).to_have_text("找不到这项任务：它不属于您的村（社区），或已不存在")
            await shot(cadre, "04-cadre-other-village-task")

            await cadre.goto(f"{base}/app/cun/#inbox")
            await cadre.locator(f"a[href='#task/{setup['own_task']}']").click()
            base_cells = cadre.locator("#view form fieldset dl.base").first  # the base column, from the hub, read-only
            await expect(base_cells).to_contain_text("名称")
            await expect(base_cells).to_contain_text("东星社区")
            async with cadre.expect_download() as downloading:  # the task's fill sheet, with the cookie session
                await cadre.get_by_role("link", name="下载填报表（Excel）").click()
            sheet = tmp_path / "fill-sheet.xlsx"
            await (await downloading.value).save_as(sheet)
            assert "东星社区" in [c.value for row in load_workbook(sheet).active.iter_rows() for c in row]
            cell = cadre.locator("#view form input").first  # the open column
            await cell.fill("-5")
            await cadre.get_by_role("button", name="保存").click()
            await expect(cadre.locator("#view .field-error").first).to_contain_text("超出范围")  # under its cell
            await shot(cadre, "05-cadre-task-invalid")
            await cadre.get_by_role("button", name="沿用上期（90）").click()  # last month's value, offered
            await expect(cell).to_have_value("90")
            await cell.fill("120")
            await cadre.reload()  # the draft survives a reload
            await expect(cadre.locator("#view form input").first).to_have_value("120")
            await cadre.get_by_role("button", name="报送").click()
            await expect(cadre.locator("#status")).to_contain_text("已报送")
            await shot(cadre, "06-cadre-task-submitted")

            # The coordinator signs in on a desk and watches the board.
            await _sign_in_first_time(coordinator, base, "xitianwei", COORDINATOR_PASSWORD)
            await coordinator.click("#change button")
            await expect(coordinator).to_have_url(f"{base}/app/desk/")
            await expect(coordinator.locator("#board")).to_be_visible()
            await expect(coordinator.get_by_text("● 实时")).to_be_visible()
            chooser = coordinator.locator("select[name=event]")
            await expect(chooser).to_have_value(setup["event"])  # the newest is chosen, and listed first
            assert (await chooser.locator("option").first.get_attribute("value")) == setup["event"]
            await expect(coordinator.locator(f"#board[data-event='{setup['event']}']")).to_be_visible()
            await chooser.select_option(setup["older_event"])
            await expect(coordinator.locator(f"#board[data-event='{setup['older_event']}']")).to_be_visible()
            await chooser.select_option(setup["event"])  # and back: the board follows the newest again, live
            await expect(coordinator.locator(f"#board[data-event='{setup['event']}']")).to_be_visible()
            await expect(coordinator.get_by_text("● 实时")).to_be_visible()
            await shot(coordinator, "07-coordinator-desk")

            # Dispatched requests come 30 at a time, the newest first; the rest on asking.
            requests = coordinator.locator("#dispatched tr[data-request]")
            await expect(requests).to_have_count(30)
            older = coordinator.locator("#dispatched").get_by_role("button", name=re.compile("^显示更早的"))
            total = int(re.search(r"共 (\d+) 条", await older.inner_text()).group(1))
            await expect(older).to_have_text(f"显示更早的（已显示 30 条，共 {total} 条）")
            await older.click()
            await expect(requests).to_have_count(total)
            await expect(older).to_have_count(0)

            # The village's progress: 已报送; the coordinator sends it back naming the cell, with a reason.
            dispatched = coordinator.locator(f"#dispatched tr[data-request='{setup['task_request']}']")
            await dispatched.get_by_role("button", name="各村进度").click()
            village = coordinator.locator(f"table.progress tr[data-task='{setup['own_task']}']")
            await expect(village).to_contain_text("已报送")
            await expect(coordinator.locator("#dispatched .figure", has_text="已报送").first).to_contain_text("1")
            await village.get_by_role("button", name="退回").click()
            send_back = coordinator.locator("tr.send-back form")
            await send_back.get_by_label("东星社区 · 沙袋（袋）：120 袋").check()
            await send_back.get_by_label("退回原因").fill("沙袋数与仓库台账不符，请核对")
            await shot(coordinator, "08-coordinator-sends-back")
            await send_back.get_by_role("button", name="确认退回").click()
            await expect(village).to_contain_text("已退回")
            await expect(village).to_contain_text("沙袋数与仓库台账不符，请核对")

            # The village's grid worker may help fill the task but not hand it in; they record a visit.
            grid = await (await browser.new_context(viewport={"width": 360, "height": 640}, is_mobile=True, locale="zh-CN")).new_page()
            grid.on("pageerror", lambda error: errors.append(str(error)))
            await _sign_in(grid, base, "dongxing-wangge", GRID_PASSWORD)
            await expect(grid).to_have_url(f"{base}/app/cun/")
            await grid.locator(f"a[href='#task/{setup['own_task']}']").click()
            await expect(grid.locator("#no-submit")).to_have_text("网格员可以填写，但不能报送村级任务，由村（社区）干部报送")
            await expect(grid.get_by_role("button", name="保存")).to_be_visible()
            await expect(grid.get_by_role("button", name="报送")).to_have_count(0)
            await shot(grid, "09a-grid-worker-task")
            await grid.get_by_role("link", name="走访").click()
            visit = grid.locator("#view form").first
            await visit.get_by_label("这次走访所见").fill("身体尚好，家中备有三天口粮")
            await visit.get_by_role("button", name="记录走访").click()
            await expect(grid.locator("#status")).to_contain_text("已记录对")
            await expect(grid.locator("#view form").first).to_contain_text("身体尚好，家中备有三天口粮")
            await shot(grid, "09b-grid-worker-visit")
            await grid.get_by_role("link", name="灾情").click()
            await expect(grid.locator("#damage-by-cadre")).to_have_text("本村灾情由村（社区）干部报送；网格员报送易涝点现场情况")

            # The cadre sees the reason and the named cell, corrects it and hands it in again.
            await cadre.reload()  # on #inbox since handing in: read afresh
            await expect(cadre.locator(f"a[href='#task/{setup['own_task']}']")).to_contain_text("退回原因：沙袋数与仓库台账不符，请核对")
            await cadre.locator(f"a[href='#task/{setup['own_task']}']").click()
            await expect(cadre.locator("#sent-back")).to_have_text("退回原因：沙袋数与仓库台账不符，请核对（标出的 1 格要改）")
            flagged = cadre.locator("label.flagged")
            await expect(flagged).to_contain_text("沙袋（袋）（退回要求修改）")
            await shot(cadre, "09-cadre-sent-back")
            await flagged.locator("input").fill("100")
            await cadre.get_by_role("button", name="报送").click()
            await expect(cadre.locator("#status")).to_contain_text("已报送")

            # Handed in again: accepted.
            await dispatched.get_by_role("button", name="各村进度").click()  # closes the panel
            await dispatched.get_by_role("button", name="各村进度").click()  # and opens it read afresh
            await expect(village).to_contain_text("（第 2 次）")
            await village.get_by_role("button", name="验收").click()
            await expect(village).to_contain_text("已验收")
            await expect(village.get_by_role("button")).to_have_count(0)
            await shot(coordinator, "10-coordinator-accepted")

            # The cadre reports damage; a file that is not an image is refused, then a photo is sent on retry.
            await cadre.goto(f"{base}/app/cun/#event")
            await expect(cadre.locator("#damage")).to_be_visible()
            await expect(cadre.locator("select[name=event]")).to_have_value(setup["event"])
            kinds = cadre.locator("#damage select[name=kind] option")
            await expect(kinds).to_have_text(["初报"])  # nothing reported yet in this event: 初报 only
            reports, photos = await _count(engine, DamageReport), await _count(engine, Photo)
            await cadre.locator("#damage input[name=affectedPopulation]").fill("35")
            await cadre.locator("#damage input[name=relocatedPopulation]").fill("12")
            async with cadre.expect_file_chooser() as chooser:
                await cadre.locator("#damage input[type=file]").click()
            await (await chooser.value).set_files(not_an_image)
            await cadre.get_by_role("button", name="报送灾情").click()
            await expect(cadre.locator("#status.error")).to_have_text("只收 JPEG 或 PNG 照片：这个文件不是（按文件内容判断，与文件名无关）")
            await shot(cadre, "11-cadre-photo-not-an-image")
            assert (await _count(engine, DamageReport), await _count(engine, Photo)) == (reports, photos)  # nothing written
            async with cadre.expect_file_chooser() as chooser:
                await cadre.locator("#damage input[type=file]").click()
            await (await chooser.value).set_files(photo)
            await cadre.get_by_role("button", name="重新报送灾情").click()
            await expect(cadre.locator("#status")).to_have_text("灾情已报送，等待乡镇审核")
            await expect(kinds).to_have_text(["续报", "核报"])  # after the 初报, as the hub counts it
            await shot(cadre, "12-cadre-damage-reported")
            assert (await _count(engine, DamageReport), await _count(engine, Photo)) == (reports + 1, photos + 1)

            row = coordinator.locator("#board tr[data-village]", has_text="东星社区")
            await expect(row).to_contain_text("初报（待审核）", timeout=15_000)
            await expect(row).to_contain_text("35")
            await expect(row.locator("img.thumb")).to_have_count(1)
            await shot(coordinator, "13-coordinator-board-live")

            request = coordinator.locator(f"article[data-request='{setup['pending_id']}']")
            await request.get_by_role("button", name="通过").click()
            await expect(coordinator.locator("#status")).to_contain_text("已通过")
            await expect(request).to_have_count(0)
            await expect(coordinator.locator(".figure", has_text="待审核")).to_contain_text("0")
            await shot(coordinator, "14-coordinator-approved")

            await cadre.get_by_role("button", name="退出").click()
            await expect(cadre).to_have_url(f"{base}/app/")
            await cadre.goto(f"{base}/app/cun/")
            await expect(cadre.locator("#why")).to_have_text("请先登录")
            await shot(cadre, "15-cadre-signed-out")
        finally:
            await browser.close()
    assert errors == []


async def test_analyst_files_a_request_by_chinese_labels_and_downloads_a_template(live_server, engine, client, tmp_path):
    """应急管理局's analyst at a desk: files a request by the labels of their own view, follows it, downloads a template."""
    _browser_or_skip()
    from playwright.async_api import async_playwright, expect

    base = live_server.rstrip("/")
    await passwords.set_password(engine, "yingji", ANALYST_PASSWORD, must_change=False)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    title = f"村级人口核对{time.monotonic_ns() % 10_000}"
    errors: list[str] = []

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            desk = await browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN", accept_downloads=True)
            await desk.route("**/*", lambda route, request: route.continue_() if urlsplit(request.url).hostname in LOOPBACK_HOSTS else route.abort())
            analyst = await desk.new_page()
            analyst.on("pageerror", lambda error: errors.append(str(error)))

            await _sign_in(analyst, base, "yingji", ANALYST_PASSWORD)
            await expect(analyst).to_have_url(f"{base}/app/desk/")
            await expect(analyst.locator("#who")).to_have_text("吴国栋 · 应急管理局")
            await expect(analyst.locator("section", has_text="我的填报任务").locator("tr[data-request]").first).to_be_visible()
            await analyst.screenshot(path=ARTIFACTS / "16-analyst-desk.png", full_page=True)

            form = analyst.locator("section", has_text="发起填报任务")
            await form.get_by_label("任务名称").fill(title)
            await form.get_by_label("用途").fill("核对各村人口，安排防汛转移")
            await form.get_by_label("依据").fill("《防汛条例》第十五条")
            await form.get_by_label("区划代码（发往的乡镇或村）").fill(await region_code(client, "西天尾镇"))
            await form.get_by_label("期别").fill("2026-11")
            await form.get_by_label("截止日期").fill("2026-11-30")
            await form.get_by_label("对象").select_option("VILLAGE")
            for label in ("名称", "户籍人口", "户数"):  # the Chinese labels of the analyst's own view
                await form.get_by_label(label, exact=True).check()
            await form.get_by_role("button", name="发起").click()
            await expect(analyst.locator("#status")).to_contain_text(f"已发起：{title}")
            mine = analyst.locator("section", has_text="我的填报任务").locator("tr", has_text=title)
            await expect(mine).to_contain_text("数据中心已答复")  # the hub holds these columns: answered at once
            await analyst.screenshot(path=ARTIFACTS / "17-analyst-filed.png", full_page=True)

            template = analyst.locator("section", has_text="我的表样").locator("li", has_text=TEMPLATE_TITLE)
            await expect(template.get_by_label("乡镇（街道）统计用区划代码")).to_have_value("350304100000")  # its default
            async with analyst.expect_download() as downloading:
                await template.get_by_role("button", name="下载 xlsx").click()
            download = await downloading.value
            saved = tmp_path / "download.xlsx"
            await download.save_as(saved)
            assert download.suggested_filename.endswith(".xlsx")
            assert load_workbook(saved).active["A1"].value == TEMPLATE_TITLE
            await analyst.screenshot(path=ARTIFACTS / "18-analyst-templates.png", full_page=True)
        finally:
            await browser.close()
    assert errors == []
