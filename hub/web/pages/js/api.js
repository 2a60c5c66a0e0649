// Talking to the hub: the session, GraphQL documents loaded from ./graphql/, uploads, and a send queue
// kept in localStorage so that a failed send can be retried without typing again.

const documents = new Map();
let session = null;

export class HubError extends Error {
  constructor(message, code, fields = []) {
    super(message);
    this.code = code;
    this.fields = fields; // [{field, code, message}] from a payload's `errors`
  }
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== false && value != null) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) if (child != null) node.append(child);
  return node;
}

export function show(target, ...children) {
  target.replaceChildren(...children.flat().filter((child) => child != null));
}

export function signInAgain(message) {
  const next = encodeURIComponent(location.pathname + location.hash);
  location.assign(`/app/?next=${next}&why=${encodeURIComponent(message || "")}`);
}

export async function currentSession() {
  const response = await fetch("/app/api/session", { credentials: "same-origin" });
  const body = await response.json();
  // Not signed in (or the first password unchanged): to the sign-in page; this page goes no further.
  if (!response.ok || body.mustChangePassword) {
    signInAgain(response.ok ? "请先修改初始密码" : body.errors?.[0]?.message);
    return new Promise(() => {});
  }
  session = body;
  return body;
}

export async function documentText(name) {
  if (!documents.has(name)) {
    const response = await fetch(`/app/static/graphql/${name}.graphql`);
    if (!response.ok) throw new HubError(`页面文件缺失：${name}`, "PAGE_BROKEN");
    documents.set(name, await response.text());
  }
  return documents.get(name);
}

export async function postJson(url, body) {
  const headers = { "content-type": "application/json" };
  if (session) headers["x-csrf-token"] = session.csrfToken;
  let response;
  try {
    response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
  } catch {
    throw new HubError("网络不通，已保存，稍后可重发", "OFFLINE");
  }
  const answer = await response.json().catch(() => ({}));
  const error = answer.errors?.[0];
  const code = error?.extensions?.code || error?.code;
  if (code === "SESSION_EXPIRED" || code === "UNAUTHENTICATED") signInAgain(code === "SESSION_EXPIRED" ? error.message : "请先登录");
  if (!response.ok && !answer.data) throw new HubError(error?.message || `服务器答复 ${response.status}`, code || "HTTP");
  return answer;
}

// Run a named document; a payload's `errors` (field problems) come back as a HubError with `fields`.
export async function gql(name, variables = {}) {
  const answer = await postJson("/graphql", { query: await documentText(name), variables, operationName: name });
  if (answer.errors?.length) {
    const first = answer.errors[0];
    throw new HubError(first.message, first.extensions?.code || "ERROR");
  }
  for (const payload of Object.values(answer.data)) {
    if (payload && Array.isArray(payload.errors) && payload.errors.length) {
      throw new HubError(payload.errors.map((e) => e.message).join("；"), payload.errors[0].code, payload.errors);
    }
  }
  return answer.data;
}

export async function uploadPhoto(owner, id, file) {
  let response;
  try {
    response = await fetch(`/photos?${owner}=${encodeURIComponent(id)}`, {
      method: "POST", body: file, credentials: "same-origin",
      headers: { "content-type": file.type || "application/octet-stream", "x-csrf-token": session.csrfToken },
    });
  } catch {
    throw new HubError("网络不通，照片未上传，稍后可重发", "OFFLINE");
  }
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new HubError(answer.errors?.[0]?.message || `上传失败（${response.status}）`, answer.errors?.[0]?.code);
  return answer.photo;
}

// A chosen photo is checked here as the hub checks it (a JPEG or PNG by its bytes, within the size and pixel
// limits, decoding whole) before anything is sent: a photo the hub would refuse leaves its report unsent too.
const SIGNATURES = [[0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]];

export async function checkPhoto(file) {
  const { maxBytes, maxPixels, refusals } = session.photoRules;
  const refuse = (code) => new HubError(refusals[code], code);
  if (file.size > maxBytes) throw refuse("FILE_TOO_LARGE");
  const head = new Uint8Array(await file.slice(0, 8).arrayBuffer());
  if (!SIGNATURES.some((signature) => signature.every((byte, i) => head[i] === byte))) throw refuse("UNSUPPORTED_MEDIA_TYPE");
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    throw refuse("CORRUPT_IMAGE");
  }
  const pixels = bitmap.width * bitmap.height;
  bitmap.close();
  if (pixels > maxPixels) throw refuse("IMAGE_TOO_LARGE");
}

// Drafts: what a person typed, kept per form in localStorage until it is sent.
export const drafts = {
  key: (form) => `hub-draft:${session?.username}:${form}`,
  load(form) {
    try { return JSON.parse(localStorage.getItem(this.key(form)) || "null"); } catch { return null; }
  },
  save(form, values) { localStorage.setItem(this.key(form), JSON.stringify(values)); },
  clear(form) { localStorage.removeItem(this.key(form)); },
};

export function formValues(form) {
  const values = {};
  for (const field of form.elements) {
    if (field.name && field.type !== "file" && field.type !== "submit") values[field.name] = field.value;
  }
  return values;
}

// Keep a form's typing as a draft on every change; put back what was kept on load.
export function keepDraft(form, name) {
  const kept = drafts.load(name);
  if (kept) for (const [key, value] of Object.entries(kept)) if (form.elements[key]) form.elements[key].value = value;
  form.addEventListener("input", () => drafts.save(name, formValues(form)));
  return kept != null;
}

export async function signOut() {
  await postJson("/app/api/sign-out", {}).catch(() => null);
  location.assign("/app/");
}

// The open events to choose from, newest first (ids grow), the newest chosen; a single event is only named.
// Returns the control and the newest event; `onChoose` runs when the person picks another.
export function eventChooser(nodes, onChoose) {
  const sorted = [...nodes].sort((a, b) => Number(b.id) - Number(a.id));
  if (sorted.length === 1) return [el("h2", { class: "event-name" }, sorted[0].name), sorted[0]];
  const select = el("select", { name: "event" },
    sorted.map((event) => el("option", { value: event.id }, `${event.name}（${event.startedOn} 起）`)));
  select.addEventListener("change", () => onChoose(sorted.find((event) => event.id === select.value)));
  return [el("label", { class: "event-choice" }, `进行中的灾害事件（${sorted.length} 个）`, select), sorted[0]];
}
