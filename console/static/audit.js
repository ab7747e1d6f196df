/* Audit page: filtered, paged records and the chain verification. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, when } = SB;
  const body = document.querySelector("#audit-table tbody");
  const filters = document.getElementById("audit-filters");
  const older = document.getElementById("older");
  const verifyButton = document.getElementById("verify");
  const verdict = document.getElementById("verify-result");
  let before = null;

  function row(record) {
    // data-label names each cell where a phone stacks the row into a card (app.css).
    const cell = (name, attrs, ...children) => el("td", { ...attrs, dataset: { label: name } }, ...children);
    return el("tr", { dataset: { seq: record.seq } },
      cell("#", { class: "num" }, record.seq), cell("Time (UTC)", { class: "nowrap" }, when(record.ts)),
      cell("Actor", null, record.actor), cell("Event", null, el("code", null, record.event)),
      cell("Subject", { class: "subject" }, record.subject || "—"), cell("Data", { class: "data-cell" }, SB.keyValues(record.data)));
  }

  function query() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(filters)) {
      if (!value) continue;
      // datetime-local has no zone; the page shows UTC, so the filter is UTC too.
      params.set(key, key === "since" || key === "until" ? `${value.length === 16 ? value + ":00" : value}Z` : value);
    }
    if (before) params.set("before", before);
    return params;
  }

  async function load({ more = false } = {}) {
    if (!more) before = null;
    try {
      const data = await api(`/api/audit?${query()}`);
      const rows = data.records.map(row);
      if (more) body.append(...rows);
      else body.replaceChildren(...(rows.length ? rows : [el("tr", null, el("td", { colspan: 6, class: "muted" }, "No records match."))]));
      before = data.next_before;
      older.hidden = !before;
    } catch (error) {
      body.replaceChildren(el("tr", null, el("td", { colspan: 6, class: "notice error" }, error.message)));
    }
  }

  verifyButton.addEventListener("click", async () => {
    verifyButton.disabled = true;
    verdict.hidden = false;
    verdict.className = "pill";
    verdict.textContent = "Verifying…";
    try {
      const result = await api("/api/audit/verify");
      verdict.className = `pill ${result.ok ? "ok" : "bad"}`;
      verdict.textContent = result.ok
        ? `Chain OK · ${result.records.toLocaleString("en-US")} records`
        : result.first_bad === null
          ? result.reason
          : `Chain BROKEN at record ${result.first_bad}: ${result.reason}`;
      verdict.title = result.checkpoints ? `head ${result.head}; ${result.checkpoints}` : `head ${result.head}`;
    } catch (error) {
      verdict.className = "pill bad";
      verdict.textContent = error.message;
    } finally {
      verifyButton.disabled = false;
    }
  });
  // Links such as /audit?tool=deliver_file open the page already filtered.
  const initial = new URLSearchParams(location.search);
  for (const input of filters.elements) {
    if (input.name && initial.get(input.name)) input.value = initial.get(input.name);
  }
  filters.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  older.addEventListener("click", () => load({ more: true }));
  load();
});
