/* Approvals inbox: requests with their preview and expiry countdown; approve, reject with a reason, or edit. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, json, pct, ago, countdown } = SB;
  const holder = document.getElementById("approvals");
  const filter = document.getElementById("status-filter");
  const me = document.body.dataset.user;
  const isApprover = ["approver", "admin"].includes(document.body.dataset.role);
  const focus = document.getElementById("approvals-page").dataset.focus;
  if (focus) filter.value = "all"; // a linked request may already be decided
  let scrolled = false;

  function preview(p) {
    if (!p || !Object.keys(p).length) return el("div", { class: "preview muted" }, "No preview for this tool.");
    const rows = [
      ["File", p.file_name ? SB.file(p.file_name) : null],
      ["Size", typeof p.file_size === "number" ? SB.size(p.file_size) : null], ["Rows affected", p.rows_affected],
      ["Recipients", p.recipients && p.recipients.length ? p.recipients.join(", ") : null],
      ["Value", typeof p.value === "number" ? p.value.toLocaleString("en-US", { minimumFractionDigits: 2 }) : null],
    ].filter(([, v]) => v !== null && v !== undefined);
    return el("div", { class: "preview" },
      el("div", { class: "preview-summary" }, SB.prose(p.summary || "Dry run")),
      rows.length ? el("dl", null, rows.map(([k, v]) => [el("dt", null, k), el("dd", null, v instanceof Node ? v : String(v))])) : null,
      p.details && Object.keys(p.details).length
        ? el("details", null, el("summary", { class: "small muted" }, "Details"), el("pre", null, json(p.details))) : null);
  }

  function notice(card, kind, text) {
    const box = card.querySelector(".result");
    box.className = `notice ${kind} result`;
    box.textContent = text;
    box.hidden = false;
  }

  async function decide(inside, request, path, body, done) {
    const card = inside.closest(".card");
    card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const result = await api(`/api/approvals/${request.id}/${path}`, { method: "POST", body });
      notice(card, "ok", done(result));
      const decided = (result.approval || {}).status || (path === "edit" ? "superseded" : null);
      if (decided) {
        const badge = card.querySelector(".card-title .status");
        badge.className = `status ${decided}`;
        badge.textContent = decided;
      }
      clearInterval(Number(card.dataset.timer));
      card.querySelector(".countdown").textContent = "";
      card.querySelector(".actions").remove();
      SB.refreshBadge();
    } catch (error) {
      // A four-eyes refusal (403) or an already-decided request (409) is shown as the server words it.
      notice(card, "error", error.message);
      card.querySelectorAll("button").forEach((b) => { b.disabled = false; });
      if (!isApprover || request.blocked) card.querySelector(".approve").disabled = true;
    }
  }

  function card(request) {
    const pending = request.status === "pending";
    const clock = el("span", { class: "countdown" });
    const node = el("article", { class: "card approval", dataset: { id: request.id } },
      el("div", { class: "card-head" },
        el("div", null, el("div", { class: "card-title" }, el("code", null, request.tool), " ",
          el("span", { class: `status ${request.status}` }, request.status)),
          el("div", { class: "meta" }, `${request.id} · requested by `, el("strong", { class: "requester" }, request.requester),
            ` ${ago(request.created_at)} · risk ${request.risk}`,
            request.confidence !== null ? ` · confidence ${pct(request.confidence)}` : "",
            request.parent_id ? ` · edits ${request.parent_id}` : "")),
        pending ? clock : el("div", { class: "meta" }, request.decided_by ? `by ${request.decided_by}` : "",
          request.decision_reason ? `: ${request.decision_reason}` : "")),
      el("div", { class: "grid2" },
        el("div", null, el("div", { class: "field-label" }, "Arguments"), el("pre", { class: "args" }, json(request.args)),
          el("div", { class: "field-label" }, "Why it needs approval"),
          el("ul", { class: "reasons" }, request.reasons.map((r) => el("li", null, r)))),
        el("div", null, el("div", { class: "field-label" }, "Preview (dry run)"), preview(request.preview))),
      pending && request.blocked && isApprover ? el("div", { class: "notice warn blocked" }, request.blocked) : null,
      el("div", { class: "result", hidden: true, role: "status" }),
      pending ? actions(request) : null);
    if (pending) {
      const tick = () => { const c = countdown(request.expires_at); clock.textContent = c.text; clock.classList.toggle("soon", c.soon); };
      tick();
      node.dataset.timer = String(setInterval(tick, 1000));
    }
    return node;
  }

  function actions(request) {
    const mine = request.requester === me;
    const canEdit = isApprover || mine;
    const reason = el("textarea", { rows: 2, maxlength: 2000, placeholder: "Reason (sent back to the requester)", class: "reason" });
    const args = el("textarea", { rows: 6, class: "edit-args" });
    const rejectForm = el("div", { class: "subform", hidden: true }, reason,
      el("div", null, el("button", { type: "button", class: "button danger confirm-reject", onclick: () => {
        if (!reason.value.trim()) { reason.focus(); return; }
        decide(node, request, "reject", { reason: reason.value.trim() }, (r) => r.text || "Rejected.");
      } }, mine && !isApprover ? "Withdraw request" : "Reject request")));
    const editForm = el("div", { class: "subform", hidden: true }, args,
      el("div", null, el("button", { type: "button", class: "button save-edit", onclick: () => {
        let parsed;
        try { parsed = JSON.parse(args.value); } catch (_) { notice(node, "error", "The arguments are not valid JSON."); return; }
        decide(node, request, "edit", { args: parsed }, (r) => `Saved as a new request ${r.id}; it needs approval again.`);
      } }, "Save as new request")));
    const node = el("div", { class: "actions" },
      el("button", { type: "button", class: "button ok approve", disabled: !isApprover || Boolean(request.blocked),
        onclick: () => decide(node, request, "approve", { binding: request.binding },
          (r) => r.text || "Approved.") }, "Approve"),
      el("button", { type: "button", class: "button danger reject", disabled: !(isApprover || mine),
        onclick: () => { rejectForm.hidden = !rejectForm.hidden; if (!rejectForm.hidden) reason.focus(); } },
      mine && !isApprover ? "Withdraw…" : "Reject…"),
      el("button", { type: "button", class: "button edit", disabled: !canEdit,
        onclick: () => { args.value = json(request.args); editForm.hidden = !editForm.hidden; } }, "Edit arguments…"),
      rejectForm, editForm);
    return node;
  }

  async function load() {
    holder.querySelectorAll("[data-timer]").forEach((c) => clearInterval(Number(c.dataset.timer)));
    try {
      const data = await api(`/api/approvals?status=${encodeURIComponent(filter.value)}`);
      holder.replaceChildren(...(data.approvals.length ? data.approvals.map(card)
        : [el("div", { class: "notice" }, filter.value === "pending" ? "Nothing is waiting for approval." : "No requests.")]));
      if (filter.value === "pending") SB.setBadge(data.approvals.length);
      const focused = focus && holder.querySelector(`.card[data-id="${CSS.escape(focus)}"]`);
      if (focused) {
        focused.classList.add("focus");
        if (!scrolled) focused.scrollIntoView({ block: "start" });
        scrolled = true;
      }
    } catch (error) {
      holder.replaceChildren(el("div", { class: "notice error" }, error.message));
    }
  }

  filter.addEventListener("change", load);
  load();
  setInterval(() => { if (!holder.querySelector(".subform:not([hidden])")) load(); }, 20000);
});
