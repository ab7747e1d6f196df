/* Account page: change your password (required after a one-time password) and keep your API token. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api } = SB;
  const page = document.getElementById("account-page");
  const first = page.dataset.first === "true";
  const byId = (id) => document.getElementById(id);
  const say = (box, text) => { box.textContent = text; box.hidden = !text; };
  const sentence = (error) => error.message.charAt(0).toUpperCase() + error.message.slice(1) + ".";

  if (sessionStorage.getItem("sb-password-changed")) {  // set just before the reload that picks up the new session
    sessionStorage.removeItem("sb-password-changed");
    say(byId("password-done"), "Your password is changed.");
  }

  byId("password-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    say(byId("password-error"), "");
    const current = byId("current-password").value, fresh = byId("new-password").value;
    if (fresh !== byId("repeat-password").value) {
      say(byId("password-error"), "The two new passwords are not the same.");
      return;
    }
    byId("change-password").disabled = true;
    try {
      await api("/api/me/password", { method: "POST", body: { current_password: current, new_password: fresh } });
      // The old session ended with the old password; the response set a new one, with a new CSRF token.
      if (first) { window.location.href = "/chat"; return; }
      sessionStorage.setItem("sb-password-changed", "1");
      window.location.reload();
    } catch (error) {
      say(byId("password-error"), sentence(error));
      byId("change-password").disabled = false;
    }
  });

  const tokenCard = byId("token-card");
  if (!tokenCard) return;
  byId("new-token").addEventListener("click", async () => {
    say(byId("token-error"), "");
    try {
      const data = await api("/api/me/token", { method: "POST" });
      byId("token-value").textContent = data.token;
      byId("token-box").hidden = false;
    } catch (error) { say(byId("token-error"), sentence(error)); }
  });
  byId("revoke-token").addEventListener("click", async () => {
    say(byId("token-error"), "");
    try {
      await api("/api/me/token", { method: "DELETE" });
      byId("token-box").hidden = true;
      say(byId("token-error"), "");
      byId("token-value").textContent = "";
      byId("revoke-token").textContent = "Revoked";
      byId("revoke-token").disabled = true;
    } catch (error) { say(byId("token-error"), sentence(error)); }
  });
  byId("token-copy").addEventListener("click", () =>
    navigator.clipboard && navigator.clipboard.writeText(byId("token-value").textContent));
});
