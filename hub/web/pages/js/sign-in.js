// Sign in; change a first password; then go to the person's page (phone page or desk page).
import { postJson } from "./api.js";

const params = new URLSearchParams(location.search);
const signInForm = document.getElementById("sign-in");
const changeForm = document.getElementById("change");
let session = null;

if (params.get("why")) {
  const why = document.getElementById("why");
  why.textContent = params.get("why");
  why.hidden = false;
}

function home(role) {
  const next = params.get("next");
  if (next && next.startsWith("/app/") && !next.startsWith("//")) return next;
  return role === "VILLAGE_CADRE" || role === "GRID_WORKER" ? "/app/cun/" : "/app/desk/";
}

function fail(form, message) {
  form.querySelector(".error").textContent = message;
}

async function call(url, body, csrf) {
  const headers = { "content-type": "application/json" };
  if (csrf) headers["x-csrf-token"] = csrf;
  let response;
  try {
    response = await fetch(url, { method: "POST", headers, body: JSON.stringify(body), credentials: "same-origin" });
  } catch {
    return { error: "网络不通，请稍后再试" };
  }
  const answer = await response.json().catch(() => ({}));
  return response.ok ? { answer } : { error: answer.errors?.[0]?.message || `服务器答复 ${response.status}` };
}

signInForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  fail(signInForm, "");
  const { username, password } = signInForm.elements;
  const { answer, error } = await call("/app/api/sign-in", { username: username.value, password: password.value });
  password.value = "";
  if (error) return fail(signInForm, error);
  session = answer;
  if (!answer.mustChangePassword) return location.assign(home(answer.role));
  signInForm.hidden = true;
  changeForm.hidden = false;
  changeForm.elements.current.focus();
});

changeForm.addEventListener("submit", async (event) => {
  event.preventDefault();
  fail(changeForm, "");
  const { current, again } = changeForm.elements;
  const fresh = changeForm.elements.new;
  if (fresh.value !== again.value) return fail(changeForm, "两次输入的新密码不一致");
  const { error } = await call("/app/api/password", { current: current.value, new: fresh.value }, session.csrfToken);
  if (error) return fail(changeForm, error);
  location.assign(home(session.role));
});

// Already signed in (and the password changed): straight to the page.
fetch("/app/api/session", { credentials: "same-origin" }).then(async (response) => {
  if (!response.ok) return;
  const body = await response.json();
  if (!body.mustChangePassword && !params.get("why")) location.assign(home(body.role));
});
