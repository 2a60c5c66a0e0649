// A person's own API tokens: make one (shown once), see and revoke them.
import { currentSession, el, postJson, show } from "./api.js";

const list = document.getElementById("tokens");
const fresh = document.getElementById("fresh");

async function load() {
  const response = await fetch("/app/api/tokens", { credentials: "same-origin" });
  const { tokens } = await response.json();
  show(list, tokens.map((token) => {
    const valid = !token.revoked_at && new Date(token.expires_at) > new Date();
    return el("tr", {},
      el("td", {}, el("code", {}, `${token.prefix}…`)),
      el("td", {}, token.expires_at.slice(0, 10)),
      el("td", {}, token.revoked_at ? "已吊销" : valid ? "有效" : "已过期"),
      el("td", {}, valid ? el("button", { type: "button", class: "secondary", onclick: async () => {
        await postJson("/app/api/tokens/revoke", { prefix: token.prefix });
        await load();
      } }, "吊销") : null));
  }));
}

await currentSession();
document.getElementById("make").addEventListener("click", async () => {
  const password = document.getElementById("password");
  try {
    const made = await postJson("/app/api/tokens", { password: password.value });
    fresh.textContent = `${made.token}（只显示这一次）`;
  } catch (error) {
    fresh.textContent = error.message;
  }
  password.value = "";
  fresh.hidden = false;
  await load();
});
await load();
