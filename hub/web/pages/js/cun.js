// The phone page for village cadres and grid workers: inbox, a task row by row, visits, damage and flood-point reports.
import { HubError, checkPhoto, currentSession, drafts, el, eventChooser, formValues, gql, keepDraft, show, signOut, uploadPhoto } from "./api.js";

const view = document.getElementById("view");
const status = document.getElementById("status");
let me = null;

const STATUS = { NOT_STARTED: "未开始", IN_PROGRESS: "填报中", SUBMITTED: "已报送", SENT_BACK: "已退回", ACCEPTED: "已验收" };
const KEY_CARE = { ELDERLY_ALONE: "独居老人", LEFT_BEHIND_CHILD: "留守儿童", ILLNESS: "重病", DISABILITY: "残疾" };
const CONDITION = { NORMAL: "正常", PONDING: "积水", FLOODED: "被淹", RECEDED: "已退水" };
const REPORT_KIND = { INITIAL: "初报", FOLLOW_UP: "续报", FINAL: "核报" };
const DAMAGE_FIELDS = [
  ["affectedPopulation", "受灾人口（人）"], ["relocatedPopulation", "紧急转移安置（人）"],
  ["reliefNeededPopulation", "需救助（人）"], ["deaths", "死亡（人）"], ["missing", "失踪（人）"],
  ["cropAffectedArea", "农作物受灾面积（公顷）", "0.1"], ["cropDisasterArea", "成灾面积（公顷）", "0.1"],
  ["cropLostArea", "绝收面积（公顷）", "0.1"], ["directLoss", "直接经济损失（万元）", "0.01"],
];

function say(message, kind = "ok") {
  status.textContent = message;
  status.className = `notice ${kind}`;
  status.hidden = !message;
  // On a phone the send button is far below the message: bring a refusal into view.
  if (kind === "error") status.scrollIntoView({ block: "nearest" });
}

function problem(error) {
  return error instanceof HubError ? error.message : "出错了，请稍后再试";
}

// A send that failed stays as a draft; the retry button sends the same values again.
function sendButton(label, send) {
  const button = el("button", { type: "submit" }, label);
  const form = () => button.form;
  button.addEventListener("click", async (event) => {
    event.preventDefault();
    if (!form().reportValidity()) return;
    button.disabled = true;
    say("正在发送…", "busy");
    try {
      await send(form());
      button.textContent = label;
    } catch (error) {
      say(problem(error), "error");
      button.textContent = `重新${label}`;
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

async function inbox() {
  const { inbox } = await gql("Inbox");
  show(view,
    el("h2", {}, "待报送"),
    el("p", { class: inbox.tasks.length ? "summary" : "summary done" }, inbox.message),
    el("ul", { class: "list" }, inbox.tasks.map((task) => el("li", {},
      el("a", { href: `#task/${task.id}`, class: "item" },
        el("strong", {}, task.title),
        el("span", { class: task.overdue ? "due overdue" : "due" }, `截止 ${task.deadline}${task.overdue ? "（已逾期）" : ""}`),
        el("span", { class: "meta" }, `${task.departmentName} · ${task.period} · ${STATUS[task.status]}`),
        task.sentBackReason ? el("span", { class: "error" }, `退回原因：${task.sentBackReason}`) : null)))));
}

// The cells a send-back named (its latest round, while the task is sent back): marked for the cadre to fix.
function flaggedCells(task) {
  if (task.status !== "SENT_BACK") return new Set();
  const last = task.rounds.filter((round) => round.sentBackAt).at(-1);
  return new Set((last?.sentBackCells || []).map((cell) => `${cell.entityId}|${cell.key}`));
}

function cellLabel(cell) {
  return cell.unit && !cell.label.includes(`（${cell.unit}）`) ? `${cell.label}（${cell.unit}）` : cell.label;
}

// One open cell: its input, the last period's value offered (a button puts it in), the hub's refusal under it.
function cellField(row, cell, editable, flagged) {
  const input = el("input", {
    name: `${row.entityId}|${cell.key}|${cell.version}`, value: cell.value ?? "", inputmode: "decimal", disabled: !editable,
  });
  const offer = cell.lastPeriodValue != null && editable
    ? el("button", {
      type: "button", class: "secondary small", title: `上期填的是 ${cell.lastPeriodValue}`,
      onclick: () => { input.value = cell.lastPeriodValue; input.dispatchEvent(new Event("input", { bubbles: true })); },
    }, `沿用上期（${cell.lastPeriodValue}）`)
    : null;
  return el("label", { class: flagged ? "cell flagged" : "cell", "data-cell": `${row.entityId}|${cell.key}` },
    cellLabel(cell) + (flagged ? "（退回要求修改）" : ""),
    el("span", { class: "with-offer" }, input, offer),
    el("span", { class: "field-error", "data-field": `${row.entityId}|${cell.key}` }));
}

// The base columns: what the hub holds, filled in, read-only.
function baseCells(row) {
  if (!row.base.length) return null;
  return el("dl", { class: "base" }, row.base.flatMap((cell) => [
    el("dt", {}, cell.header), el("dd", { class: cell.granted ? "" : "meta" }, cell.value ?? "—")]));
}

async function task(id) {
  const { villageTask: task } = await gql("Task", { id });
  if (!task) {
    show(view, el("p", { class: "notice error" }, "找不到这项任务：它不属于您的村（社区），或已不存在"), el("a", { href: "#inbox" }, "返回待报送"));
    return;
  }
  const editable = task.status !== "SUBMITTED" && task.status !== "ACCEPTED";
  const flagged = flaggedCells(task);
  const form = el("form", { class: "card" });
  const draftName = `task-${task.id}`;
  for (const row of task.rows) {
    form.append(el("fieldset", {},
      el("legend", {}, row.label),
      baseCells(row),
      row.cells.map((cell) => cellField(row, cell, editable, flagged.has(`${row.entityId}|${cell.key}`)))));
  }
  if (editable) {
    keepDraft(form, draftName);
    form.append(
      sendButton("保存", async () => save(task, form, draftName)),
      // Who may not hand it in (a grid worker) saves only, and is told why in the hub's words.
      task.submitRefusal
        ? el("p", { class: "notice", id: "no-submit" }, task.submitRefusal.message.replace(/^[^：]*：/, ""))
        : sendButton("报送", async () => {
          await save(task, form, draftName);
          await gql("SubmitTask", { taskId: task.id });
          say(`已报送：${task.title}`);
          location.hash = "#inbox";
        }));
  }
  show(view,
    el("a", { href: "#inbox", class: "back" }, "← 待报送"),
    el("h2", {}, task.title),
    el("p", { class: "meta" }, `${task.villageName} · ${task.departmentName} · 截止 ${task.deadline} · ${STATUS[task.status]}`),
    el("p", {}, task.purpose),
    task.status === "SENT_BACK" && task.sentBackReason
      ? el("p", { class: "notice error", id: "sent-back" }, `退回原因：${task.sentBackReason}${flagged.size ? `（标出的 ${flagged.size} 格要改）` : ""}`)
      : null,
    editable ? el("a", { href: task.fillSheetPath, class: "download", download: true }, "下载填报表（Excel）") : null,
    form);
}

async function save(task, form, draftName) {
  for (const span of form.querySelectorAll(".field-error")) span.textContent = "";
  const values = Object.entries(formValues(form)).map(([name, value]) => {
    const [entityId, key, version] = name.split("|");
    return { entityId, key, version: Number(version), value: value.trim() === "" ? null : value.trim() };
  });
  try {
    const { fillTask } = await gql("FillTask", { taskId: task.id, values });
    for (const saved of fillTask.values) {
      const input = [...form.elements].find((f) => f.name?.startsWith(`${saved.entityId}|${saved.indicator.key}|`));
      if (input) input.name = `${saved.entityId}|${saved.indicator.key}|${saved.version}`;
    }
    drafts.clear(draftName);
    say("已保存");
  } catch (error) {
    // A refusal names its value by position (values[0].value): shown under that cell.
    for (const field of error.fields || []) {
      const sent = values[Number(/^values\[(\d+)\]/.exec(field.field)?.[1])];
      const span = sent && form.querySelector(`.field-error[data-field="${sent.entityId}|${sent.key}"]`);
      if (span) span.textContent = field.message.replace(/^[^：]*：/, ""); // the cell names itself
    }
    throw error;
  }
}

async function visits() {
  const { persons } = await gql("KeyCarePersons", { region: me.jurisdictionCode });
  show(view,
    el("h2", {}, "走访重点照顾对象"),
    persons.nodes.length ? null : el("p", { class: "summary done" }, "本村（社区）没有重点照顾对象"),
    el("ul", { class: "list" }, persons.nodes.map((person) => el("li", {}, visitForm(person)))));
}

function visitForm(person) {
  const form = el("form", { class: "card" },
    el("strong", {}, `${person.name}（${person.age} 岁，${KEY_CARE[person.keyCareReason] || "重点照顾"}）`),
    el("span", { class: "meta" }, person.household.address),
    el("span", { class: "meta" }, person.recentStatus ? `上次（${person.recentStatusDate || "日期不详"}）：${person.recentStatus}` : "尚无走访记录"),
    el("label", {}, "这次走访所见", el("textarea", { name: "recentStatus", rows: "2", required: true })));
  keepDraft(form, `visit-${person.id}`);
  form.append(sendButton("记录走访", async () => {
    const { recordVisit } = await gql("RecordVisit", {
      id: person.id, version: person.version, visit: { recentStatus: form.elements.recentStatus.value.trim() },
    });
    person.version = recordVisit.person.version;
    drafts.clear(`visit-${person.id}`);
    say(`已记录对 ${person.name} 的走访`);
    form.replaceWith(visitForm({ ...person, ...recordVisit.person }));
  }));
  return form;
}

async function eventPage() {
  const { events } = await gql("OpenEvents");
  if (!events.nodes.length) {
    show(view, el("h2", {}, "灾情报送"), el("p", { class: "summary done" }, "目前没有进行中的灾害事件"));
    return;
  }
  const { floodPoints } = await gql("FloodPoints", { region: me.jurisdictionCode });
  const forms = el("div");
  // The village's damage report is the committee's (the policy lets only the cadre write it); a grid worker reports flood points.
  const reportOn = async (event) => show(forms,
    me.role === "VILLAGE_CADRE" ? await damageForm(event) : el("p", { class: "summary", id: "damage-by-cadre" }, "本村灾情由村（社区）干部报送；网格员报送易涝点现场情况"),
    floodPoints.nodes.length ? el("h3", {}, "易涝点现场情况") : null,
    floodPoints.nodes.map((point) => floodForm(event, point)));
  const [chooser, newest] = eventChooser(events.nodes, (event) => reportOn(event).catch((error) => say(problem(error), "error")));
  show(view, chooser, forms);
  await reportOn(newest);
}

function photoInput() {
  return el("label", { class: "photo" }, "现场照片（可拍照）",
    el("input", { type: "file", name: "photo", accept: "image/*", capture: "environment" }));
}

// The chosen photo is checked before the report goes: a photo that is not one leaves nothing sent.
async function checkChosenPhoto(form) {
  const file = form.elements.photo.files[0];
  if (file) await checkPhoto(file);
}

// The report goes first, then its photo: if the upload fails on the way, the report is kept and only the photo is sent again.
async function sendPhoto(form, owner, id, draftName) {
  const file = form.elements.photo.files[0];
  if (!file) return;
  await uploadPhoto(owner, id, file);
  form.elements.photo.value = "";
  drafts.clear(draftName);
}

// A report is sent once (its id kept with the draft), then its photo: after a failed upload, a retry
// sends only the photo. `create` sends the form's values and answers the new report's id.
async function sendReport(form, draftName, photoOwner, create) {
  await checkChosenPhoto(form);
  let reportId = drafts.load(`${draftName}-sent`);
  if (!reportId) {
    reportId = await create(formValues(form));
    drafts.save(`${draftName}-sent`, reportId);
  }
  await sendPhoto(form, photoOwner, reportId, draftName);
  drafts.clear(`${draftName}-sent`);
  drafts.clear(draftName);
}

// The kinds this village may report next, as the hub counts its reports of the event: 初报 first, then 续报 or 核报.
async function nextKinds(event) {
  const { event: found } = await gql("ReportKinds", { id: event.id });
  return found?.board.find((row) => row.village?.code === me.jurisdictionCode)?.nextKinds ?? [];
}

async function damageForm(event) {
  const draftName = `damage-${event.id}`;
  const kinds = await nextKinds(event);
  if (!drafts.load(`${draftName}-sent`) && !kinds.length) {  // a report sent whose photo is not: still its form
    return el("div", { class: "card", id: "damage" }, el("h3", {}, "本村灾情"),
      el("p", { class: "summary done" }, "本事件已报核报，不能再报；如需更正，请乡镇退回核报"));
  }
  const kind = el("select", { name: "kind" }, kinds.map((value) => el("option", { value }, REPORT_KIND[value])));
  const form = el("form", { class: "card", id: "damage" },
    el("h3", {}, "本村灾情"),
    el("label", {}, "报告类别", kind),
    DAMAGE_FIELDS.map(([name, label, step]) => el("label", {}, label,
      el("input", { name, type: "number", min: "0", step: step || "1", value: "0", required: true, inputmode: step ? "decimal" : "numeric" }))),
    el("label", {}, "情况说明", el("textarea", { name: "notes", rows: "2" })),
    photoInput());
  keepDraft(form, draftName);
  if (!kinds.includes(kind.value)) kind.value = kinds[0]; // a draft's kind the village has since reported
  form.append(sendButton("报送灾情", async () => {
    await sendReport(form, draftName, "damageReport", async (values) => {
      const input = { kind: values.kind, notes: values.notes.trim() || null };
      for (const [name, , step] of DAMAGE_FIELDS) input[name] = step ? Number.parseFloat(values[name]) : Number.parseInt(values[name], 10);
      const { submitDamageReport } = await gql("SubmitDamageReport", { eventId: event.id, villageCode: me.jurisdictionCode, input });
      return submitDamageReport.damageReport.id;
    });
    form.replaceWith(await damageForm(event)); // the next report's kinds: 续报 after the 初报
    say("灾情已报送，等待乡镇审核");
  }));
  return form;
}

function floodForm(event, point) {
  const draftName = `flood-${event.id}-${point.id}`;
  const form = el("form", { class: "card" },
    el("strong", {}, point.name),
    el("label", {}, "现场情况", el("select", { name: "condition" }, Object.entries(CONDITION).map(([value, label]) => el("option", { value }, label)))),
    el("label", {}, "水深（厘米）", el("input", { name: "waterDepthCm", type: "number", min: "0", inputmode: "numeric" })),
    el("label", {}, "说明", el("input", { name: "text" })),
    photoInput());
  keepDraft(form, draftName);
  form.append(sendButton("报送易涝点", async () => {
    await sendReport(form, draftName, "floodPointReport", async (values) => {
      const input = { condition: values.condition, waterDepthCm: values.waterDepthCm === "" ? null : Number(values.waterDepthCm), text: values.text.trim() || null };
      const { reportFloodPoint } = await gql("ReportFloodPoint", { eventId: event.id, floodPointId: point.id, input });
      return reportFloodPoint.floodPointReport.id;
    });
    form.reset();
    say(`${point.name}：已报送`);
  }));
  return form;
}

async function route() {
  const [page, id] = location.hash.slice(1).split("/");
  for (const link of document.querySelectorAll(".tabs a")) link.classList.toggle("active", link.hash === `#${page || "inbox"}`);
  try {
    if (page === "task") await task(id);
    else if (page === "visits") await visits();
    else if (page === "event") await eventPage();
    else await inbox();
  } catch (error) {
    show(view, el("p", { class: "notice error" }, problem(error)));
  }
}

me = await currentSession();
document.getElementById("who").textContent = `${me.displayName} · ${me.orgUnit}`;
document.getElementById("sign-out").addEventListener("click", signOut);
window.addEventListener("hashchange", route);
await route();
