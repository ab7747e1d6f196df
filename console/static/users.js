/* Users page (admins): add users, change roles, reset passwords, revoke tokens, deactivate and reactivate. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, when } = SB;
  const me = document.body.dataset.user;
  const body = document.querySelector("#users-table tbody");
  const errorBox = document.getElementById("users-error");
  const secretBox = document.getElementById("secret-box");
  const roles = ["operator", "approver", "admin"];

  function showError(error) {
    errorBox.textContent = error ? `${error.message}.` : "";  // messages may start with a user name: kept as is
    errorBox.hidden = !error;
  }

  function showSecret(text, value) {
    document.getElementById("secret-text").textContent = text;
    document.getElementById("secret-value").textContent = value;
    secretBox.hidden = false;
  }

  document.getElementById("secret-copy").addEventListener("click", () =>
    navigator.clipboard && navigator.clipboard.writeText(document.getElementById("secret-value").textContent));

  /* A button that asks once more before acting: the first click arms it for a few seconds. */
  function guarded(label, armed, action, className = "button small") {
    const button = el("button", { class: className, type: "button" }, label);
    let timer = null;
    button.addEventListener("click", async () => {
      if (!timer) {
        button.textContent = armed;
        timer = setTimeout(() => { button.textContent = label; timer = null; }, 4000);
        return;
      }
      clearTimeout(timer); timer = null;
      button.disabled = true;
      await action();
    });
    return button;
  }

  async function act(call) {
    try { showError(null); await call(); } catch (error) { showError(error); }
    await load();
  }

  const pill = (text, kind = "") => el("span", { class: `pill ${kind}` }, text);

  function row(user) {
    const self = user.name === me;
    const select = el("select", { class: "role", "aria-label": `Role of ${user.name}`, onchange: () => act(() =>
      api(`/api/users/${encodeURIComponent(user.name)}`, { method: "PATCH", body: { role: select.value } })) },
      roles.map((r) => el("option", { value: r, selected: r === user.role }, r)));
    const signIn = [
      user.has_password ? pill(user.must_change_password ? "one-time password" : "password",
        user.must_change_password ? "warn" : "") : null,
      user.has_token ? pill("API token") : null,
      user.telegram_linked ? pill("Telegram") : null,
    ].filter(Boolean);
    const actions = el("div", { class: "actions" },
      self ? null : guarded("Reset password", "Sure? Reset", () => act(async () => {  // yours: Account page
        const data = await api(`/api/users/${encodeURIComponent(user.name)}/password`, { method: "POST" });
        showSecret(`One-time password for ${data.user.name}:`, data.password);
      })),
      user.has_token ? guarded("Revoke token", "Sure? Revoke", () => act(() =>
        api(`/api/users/${encodeURIComponent(user.name)}/token`, { method: "DELETE" }))) : null,
      self ? null : user.active
        ? guarded("Deactivate", "Sure? Deactivate", () => act(() =>
          api(`/api/users/${encodeURIComponent(user.name)}`, { method: "PATCH", body: { active: false } })),
          "button small danger")
        : el("button", { class: "button small", type: "button", onclick: () => act(() =>
          api(`/api/users/${encodeURIComponent(user.name)}`, { method: "PATCH", body: { active: true } })) },
          "Activate"));
    return el("tr", { class: user.active ? null : "inactive", dataset: { name: user.name } },
      el("td", null, el("strong", null, user.name), self ? el("span", { class: "muted small" }, " (you)") : null),
      el("td", null, select),
      el("td", null, user.active ? pill("active", "ok") : pill("deactivated", "bad")),
      el("td", null, signIn.length ? signIn : el("span", { class: "muted" }, "—")),
      el("td", { class: "nowrap" }, when(user.created_at)),
      el("td", null, actions));
  }

  async function load() {
    try {
      const data = await api("/api/users");
      body.replaceChildren(...data.users.map(row));
    } catch (error) {
      body.replaceChildren(el("tr", null, el("td", { colspan: 6, class: "notice error" }, error.message)));
    }
  }

  document.getElementById("add-user").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const name = form.elements.name.value.trim();
    await act(async () => {
      const data = await api("/api/users", { method: "POST", body: { name, role: form.elements.role.value } });
      showSecret(`${data.user.name} (${data.user.role}) can log in with this one-time password:`, data.password);
      form.reset();
    });
  });

  load();
});
