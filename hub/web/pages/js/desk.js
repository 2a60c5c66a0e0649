// The desk page: a town coordinator's review queue, live event board and statistics; an analyst's requests and templates.
import { HubError, currentSession, documentText, el, eventChooser, gql, show, signOut } from "./api.js";
import { subscribe } from "./live.js";

const view = document.getElementById("view");
const status = document.getElementById("status");
let me = null;

const REQUEST_STATUS = {
  FILED: "已发起", ANSWERED_FROM_HUB: "数据中心已答复", NEEDS_GRANT: "待授权", IN_REVIEW: "乡镇审核中",
  APPROVED: "已下发", REJECTED: "不予下发", RETURNED: "已退回修改",
};
const REVIEW = { SUBMITTED: "待审核", PASSED: "已通过", SENT_BACK: "已退回" };
const TASK_STATUS = { NOT_STARTED: "未开始", IN_PROGRESS: "填报中", SUBMITTED: "已报送", SENT_BACK: "已退回", ACCEPTED: "已验收" };
const REPORT_KIND = { INITIAL: "初报", FOLLOW_UP: "续报", FINAL: "核报" };
const ENTITIES = [["VILLAGE", "Region", "村（社区）"], ["HOUSEHOLD", "Household", "户"], ["PERSON", "Person", "人员"], ["ENTERPRISE", "Enterprise", "企业"]];

function say(message, kind = "ok") {
  status.textContent = message;
  status.className = `notice ${kind}`;
  status.hidden = !message;
}

function section(title, ...content) {
  return el("section", { class: "card" }, el("h2", {}, title), ...content);
}

function failure(error) {
  return error instanceof HubError ? error.message : "出错了";
}

function figures(pairs) {
  return el("div", { class: "figures" }, pairs.map(([label, value]) => el("div", { class: "figure" }, el("b", {}, String(value)), label)));
}

// --- a request's villages: progress, accept, send back (the town for its villages, the department for its requests) ---

async function progressPanel(target, requestId) {
  const { dataRequest: request } = await gql("RequestProgress", { id: requestId });
  const p = request.progress;
  const reload = () => progressPanel(target, requestId).catch((e) => say(failure(e), "error"));
  show(target,
    figures([["未开始", p.notStarted], ["填报中", p.inProgress], ["已报送", p.submitted], ["已退回", p.sentBack],
      ["已验收", p.accepted], ["已逾期", p.overdue], ["报送率", `${Math.round(p.reportingRate * 100)}%`]]),
    el("table", { class: "progress", "data-request": request.id },
      el("thead", {}, el("tr", {}, ["村（社区）", "状态", "报送", "退回原因", ""].map((h) => el("th", {}, h)))),
      el("tbody", {}, request.tasks.map((task) => taskRow(task, reload)))));
}

function taskRow(task, reload) {
  const actions = el("td", { class: "actions" });
  const row = el("tr", { "data-task": task.id, "data-village": task.villageName },
    el("td", {}, task.villageName),
    el("td", { class: task.overdue ? "overdue" : "" }, TASK_STATUS[task.status] + (task.overdue ? "（已逾期）" : "")),
    el("td", {}, task.submittedAt ? `${task.submittedAt}（第 ${task.round} 次）` : ""),
    el("td", {}, task.status === "SENT_BACK" ? task.sentBackReason || "" : ""),
    actions);
  if (task.status === "SUBMITTED") {
    actions.append(
      el("button", { type: "button", onclick: async () => {
        try {
          await gql("AcceptTask", { taskId: task.id });
          say(`${task.villageName}：已验收`);
          await reload();
        } catch (error) { say(failure(error), "error"); }
      } }, "验收"),
      el("button", { type: "button", class: "secondary", onclick: () => sendBackForm(task, row, reload).catch((e) => say(failure(e), "error")) }, "退回"));
  }
  return row;
}

// Sending back names what to fix: a reason, and the cells (rows and columns) ticked from the village's submission.
async function sendBackForm(task, row, reload) {
  const { villageTask } = await gql("TaskCells", { id: task.id });
  if (row.nextElementSibling?.classList.contains("send-back")) row.nextElementSibling.remove();
  const error = el("p", { class: "error" });
  const form = el("form", { class: "send-back-form" },
    el("p", { class: "meta" }, `退回 ${task.villageName} 的报送：勾选要改的格，写明原因`),
    el("div", { class: "columns" }, villageTask.rows.flatMap((r) => r.cells.map((cell) => el("label", {},
      el("input", { type: "checkbox", value: `${r.entityId}|${cell.key}` }),
      `${r.label} · ${cell.label}：${cell.value ?? "（空）"}${cell.value != null && cell.unit ? ` ${cell.unit}` : ""}`)))),
    el("label", {}, "退回原因", el("input", { name: "reason", required: true, placeholder: "如：沙袋数与仓库台账不符，请核对" })),
    error,
    el("div", { class: "actions" },
      el("button", { type: "submit" }, "确认退回"),
      el("button", { type: "button", class: "secondary", onclick: () => detail.remove() }, "取消")));
  const detail = el("tr", { class: "send-back" }, el("td", { colspan: "5" }, form));
  row.after(detail);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const cells = [...form.querySelectorAll("input[type=checkbox]:checked")].map((box) => {
      const [entityId, key] = box.value.split("|");
      return { entityId, key };
    });
    try {
      await gql("SendBackTask", { taskId: task.id, reason: form.elements.reason.value.trim(), cells });
      say(`${task.villageName}：已退回${cells.length ? `，指出 ${cells.length} 格要改` : ""}`);
      await reload();
    } catch (failed) {
      error.textContent = failure(failed);
    }
  });
}

// A list of requests sent to villages; each opens its villages' progress below it.
function requestTable(requests, columns) {
  return el("table", {},
    el("thead", {}, el("tr", {}, [...columns.map(([header]) => header), "进度"].map((h) => el("th", {}, h)))),
    el("tbody", {}, requests.map((r) => {
      const cells = columns.map(([, value]) => el("td", {}, value(r)));
      const summary = r.progress.total ? `${r.progress.submitted + r.progress.accepted}/${r.progress.total} 已报，逾期 ${r.progress.overdue}` : "—";
      const row = el("tr", { "data-request": r.id }, cells, el("td", {}, summary,
        r.progress.total ? el("button", { type: "button", class: "secondary small", onclick: () => toggle() }, "各村进度") : null));
      const toggle = () => {
        const next = row.nextElementSibling;
        if (next?.classList.contains("villages")) return next.remove();
        const panel = el("td", { colspan: String(columns.length + 1) }, el("p", { class: "meta" }, "读取中…"));
        row.after(el("tr", { class: "villages" }, panel));
        progressPanel(panel, r.id).catch((e) => show(panel, el("p", { class: "error" }, failure(e))));
      };
      return row;
    })));
}

// Requests come a page at a time, the newest first; "显示更早的" adds the next page below what is shown.
async function paged(target, name, render, empty) {
  const shown = [];
  const load = async (after) => {
    const { dataRequests: page } = await gql(name, { after });
    shown.push(...page.nodes);
    shown.sort((a, b) => b.filedAt.localeCompare(a.filedAt)); // the newest filed first
    if (!shown.length) return show(target, el("p", { class: "summary done" }, empty));
    const older = page.pageInfo.hasNextPage
      ? el("button", { type: "button", class: "secondary more", onclick: () => load(page.pageInfo.endCursor).catch((e) => say(failure(e), "error")) },
        `显示更早的（已显示 ${shown.length} 条，共 ${page.totalCount} 条）`)
      : null;
    show(target, render(shown), older);
  };
  await load(null);
}

// --- town coordinator ---

function reviewQueue(target, decided) {
  return paged(target, "ReviewQueue", (requests) => requests.map((request) => {
    const reason = el("input", { name: "reason", placeholder: "理由或修改建议（不予下发、退回时必填）" });
    const decide = (decision) => async () => {
      try {
        await gql("ReviewRequest", { requestId: request.id, decision, reason: reason.value.trim() || null });
        say(`“${request.title}”：${{ APPROVE: "已通过，下发到各村", REJECT: "不予下发", RETURN: "已退回修改" }[decision]}`);
        await Promise.all([reviewQueue(target, decided), decided()]);
      } catch (error) {
        say(failure(error), "error");
      }
    };
    return el("article", { class: "card", "data-request": request.id },
      el("strong", {}, request.title),
      el("span", { class: "meta" }, `${request.departmentName} · 截止 ${request.deadline} · ${request.villageCount} 个村（社区）`),
      el("span", {}, `用途：${request.purpose}`),
      el("span", { class: "meta" }, `依据：${request.legalBasis}`),
      el("span", { class: "meta" }, `栏目：${request.columns.map((c) => c.header).join("、")}`),
      reason,
      el("div", { class: "actions" },
        el("button", { type: "button", onclick: decide("APPROVE") }, "通过"),
        el("button", { type: "button", class: "secondary", onclick: decide("REJECT") }, "不予下发"),
        el("button", { type: "button", class: "secondary", onclick: decide("RETURN") }, "退回修改")));
  }), "没有待审核的填报任务");
}

function boardRow(village, report) {
  return el("tr", { "data-village": village.code },
    el("td", {}, village.name),
    el("td", {}, report ? `${REPORT_KIND[report.kind]}（${REVIEW[report.reviewStatus]}）` : "未报"),
    el("td", {}, report ? String(report.affectedPopulation) : ""),
    el("td", {}, report ? String(report.relocatedPopulation) : ""),
    el("td", {}, (report?.photos || []).map((photo) => el("img", { class: "thumb", src: photo.thumbnailUrl, alt: "现场照片" }))));
}

async function eventBoard(target) {
  const { events } = await gql("OpenEvents");
  if (!events.nodes.length) return show(target, el("p", { class: "summary done" }, "目前没有进行中的灾害事件"));
  const board = el("div");
  let stop = null;
  let shown = 0; // the latest choice: a slower answer for an earlier one is dropped
  const watch = async (chosen) => {
    const mine = ++shown;
    stop?.();
    const { event } = await gql("EventBoard", { id: chosen.id });
    const query = await documentText("EventUpdates");
    if (mine !== shown) return;
    const state = el("span", { class: "meta" }, "连接中…");
    const body = el("tbody", {}, event.board.map((row) => boardRow(row.village, row.latestReport)));
    show(board,
      el("p", {}, state),
      el("table", { id: "board", "data-event": event.id },
        el("thead", {}, el("tr", {}, ["村（社区）", "最新报告", "受灾人口", "转移安置", "照片"].map((h) => el("th", {}, h)))), body));
    stop = subscribe(query, { eventId: event.id }, (update) => {
      const report = update.damageReport;
      if (!report?.village) return;
      const row = boardRow(report.village, report);
      row.classList.add("fresh");
      const old = body.querySelector(`[data-village="${report.village.code}"]`);
      if (old) old.replaceWith(row); else body.prepend(row);
    }, (s) => { state.textContent = s === "live" ? "● 实时" : "○ 连接中断，正在重连"; });
  };
  const [chooser, newest] = eventChooser(events.nodes, (chosen) => watch(chosen).catch((e) => say(e.message, "error")));
  show(target, chooser, board);
  await watch(newest);
}

async function statistics(target) {
  const { requestStatistics: s } = await gql("TownStatistics", { townCode: me.jurisdictionCode });
  show(target, figures([["收到", s.received], ["待审核", s.inReview], ["通过", s.approved],
    ["不予下发", s.rejected], ["退回", s.returned], ["数据中心答复", s.answeredFromHub]]));
}

function dispatched(target) {
  const columns = [["任务", (r) => r.title], ["部门", (r) => r.departmentName], ["截止", (r) => r.deadline]];
  return paged(target, "Dispatched", (requests) => requestTable(requests, columns), "没有下发到各村的任务");
}

async function coordinator() {
  const queue = el("div");
  const board = el("div");
  const stats = el("div");
  const sent = el("div");
  const refresh = () => Promise.all([statistics(stats), dispatched(sent)]);
  show(view, el("div", { class: "grid" },
    section("待审核的填报任务", queue), section("灾情看板", board), section("统计", stats)),
  el("section", { class: "card", id: "dispatched" }, el("h2", {}, "下发任务的各村进度"), sent));
  await Promise.all([reviewQueue(queue, refresh), eventBoard(board), refresh()].map((p) => p.catch((e) => say(e.message, "error"))));
}

// --- department analyst ---

async function newRequest(target, filed) {
  const { __schema } = await gql("ViewFields");
  const types = new Map(__schema.types.map((t) => [t.name, t]));
  const leafKinds = new Set(["SCALAR", "ENUM"]);
  const columns = el("div", { class: "columns" });
  const entity = el("select", { name: "entity" }, ENTITIES.filter(([, type]) => types.has(type)).map(([value, , label]) => el("option", { value }, label)));
  const fill = () => {
    const type = types.get(ENTITIES.find(([value]) => value === entity.value)[1]);
    show(columns, (type.fields || [])
      .filter((f) => f.description && !f.args.length && leafKinds.has(f.type.kind === "NON_NULL" ? f.type.ofType.kind : f.type.kind) && f.name !== "id" && f.name !== "version")
      .map((f) => el("label", {}, el("input", { type: "checkbox", value: f.description }), f.description)));
  };
  entity.addEventListener("change", fill);
  fill();
  const form = el("form", {},
    el("label", {}, "任务名称", el("input", { name: "title", required: true })),
    el("label", {}, "用途", el("input", { name: "purpose", required: true })),
    el("label", {}, "依据", el("input", { name: "legalBasis", required: true })),
    el("label", {}, "区划代码（发往的乡镇或村）", el("input", { name: "regionCode", required: true, inputmode: "numeric" })),
    el("label", {}, "期别", el("input", { name: "period", required: true, placeholder: "2026-11" })),
    el("label", {}, "截止日期", el("input", { name: "deadline", type: "date", required: true })),
    el("label", {}, "对象", entity),
    el("p", { class: "meta" }, "栏目（按本部门可见的字段选择）"), columns,
    el("p", { class: "error" }),
    el("button", { type: "submit" }, "发起"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = Object.fromEntries(["title", "purpose", "legalBasis", "regionCode", "period", "deadline"].map((k) => [k, form.elements[k].value.trim()]));
    const chosen = [...columns.querySelectorAll("input:checked")].map((box) => ({ label: box.value }));
    try {
      const { fileRequest } = await gql("FileRequest", { input: { ...values, entity: entity.value, columns: chosen } });
      say(`已发起：${fileRequest.request.title}（${REQUEST_STATUS[fileRequest.request.status]}）`);
      form.reset();
      fill();
      await filed();
    } catch (error) {
      form.querySelector(".error").textContent = failure(error);
    }
  });
  show(target, form);
}

function myRequests(target) {
  const columns = [["任务", (r) => r.title], ["状态", (r) => REQUEST_STATUS[r.status]], ["截止", (r) => r.deadline]];
  return paged(target, "MyRequests", (requests) => requestTable(requests, columns), "本部门还没有发起填报任务");
}

async function templates(target) {
  const { templates } = await gql("Templates");
  if (!templates.length) return show(target, el("p", { class: "summary done" }, "没有本部门可用的表样"));
  show(target, el("ul", { class: "list" }, templates.map(templateItem)));
}

// A signed link is good for minutes: it is asked for when the button is pressed, with the template's variables.
function templateItem(template) {
  const error = el("span", { class: "error" });
  const form = el("form", { class: "item", "data-template": template.id },
    el("strong", {}, template.title), template.description ? el("span", { class: "meta" }, template.description) : null,
    template.variables.map((v) => el("label", {}, v.label,
      el("input", { name: v.name, value: v.default ?? "", required: v.required && v.default == null }))),
    error,
    el("button", { type: "submit" }, "下载 xlsx"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const variables = Object.fromEntries(template.variables.map((v) => [v.name, form.elements[v.name].value.trim() || null]));
    try {
      const { template: found } = await gql("TemplateLink", { id: template.id, variables });
      el("a", { href: found.downloadLink, download: `${template.title}.xlsx` }).click();
    } catch (failed) {
      error.textContent = failure(failed);
    }
  });
  return el("li", {}, form);
}

async function analyst() {
  const form = el("div");
  const requests = el("div");
  const list = el("div");
  show(view, el("div", { class: "grid" }, section("发起填报任务", form), section("我的填报任务", requests), section("我的表样", list)));
  await Promise.all([newRequest(form, () => myRequests(requests)), myRequests(requests), templates(list)].map((p) => p.catch((e) => say(e.message, "error"))));
}

me = await currentSession();
document.getElementById("who").textContent = `${me.displayName} · ${me.orgUnit}`;
document.getElementById("sign-out").addEventListener("click", signOut);
if (me.role === "TOWN_COORDINATOR") await coordinator();
else if (me.role === "DEPARTMENT_ANALYST") await analyst();
else if (me.role === "VILLAGE_CADRE" || me.role === "GRID_WORKER") location.assign("/app/cun/");
else show(view, el("p", { class: "notice" }, "这个工作台供乡镇协同中心和部门使用；管理员请用命令行和 GraphiQL（/graphql）。"));
