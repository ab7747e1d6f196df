/* Runs page: filter by status and name, show a run's steps and result, retry failed runs. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, when, table } = SB;
  const body = document.querySelector("#runs-table tbody");
  const detail = document.getElementById("run-detail");
  const split = detail.parentElement;
  const filters = document.getElementById("run-filters");
  let selected = null;

  const LIVE = new Set(["running", "pending"]);
  let refresh = null;
  // A run still working shows a spinner, and the list refreshes itself until nothing is left running.
  const status = (s) => el("span", { class: `status ${s}` },
    LIVE.has(s) ? el("span", { class: "spinner small", "aria-hidden": "true" }) : null, s.replace("_", " "));
  const ms = (v) => (typeof v === "number" ? `${v.toLocaleString("en-US")} ms` : "—");

  function row(run) {
    return el("tr", { class: `clickable${run.id === selected ? " selected" : ""}`, dataset: { id: run.id },
      onclick: () => show(run.id) },
      el("td", { class: "num" }, run.id), el("td", null, run.name), el("td", null, status(run.status)),
      el("td", { class: "num" }, `${run.attempt}/${run.max_attempts}`), el("td", null, run.actor),
      el("td", { class: "nowrap" }, when(run.created_at)), el("td", { class: "num nowrap" }, ms(run.duration_ms)));
  }

  async function load() {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(filters)) if (value) params.set(key, value);
    try {
      const data = await api(`/api/runs?${params}`);
      body.replaceChildren(...(data.runs.length ? data.runs.map(row)
        : [el("tr", null, el("td", { colspan: 7, class: "muted" }, "No runs match."))]));
      clearTimeout(refresh);
      if (data.runs.some((run) => LIVE.has(run.status))) refresh = setTimeout(load, 3000);
    } catch (error) {
      body.replaceChildren(el("tr", null, el("td", { colspan: 7, class: "notice error" }, error.message)));
    }
  }

  function stepsTable(steps) {
    if (!steps.length) return null;
    return [el("h3", null, "Steps"), SB.frame(el("table", { class: "data" },
      el("thead", null, el("tr", null, ["#", "Step", "Status", "Duration", "Error"].map((h) => el("th", null, h)))),
      el("tbody", null, steps.map((s) => el("tr", null, el("td", { class: "num" }, s.id), el("td", null, s.name),
        el("td", null, status(s.status)), el("td", { class: "num" }, ms(s.duration_ms)), el("td", null, s.error || ""))))))];
  }

  async function show(id) {
    selected = id;
    body.querySelectorAll("tr").forEach((tr) => tr.classList.toggle("selected", tr.dataset.id === String(id)));
    const data = await api(`/api/runs/${id}`);
    const run = data.run;
    const result = el("div", { class: "result", hidden: true, role: "status" });
    const retry = ["failed", "dead_lettered"].includes(run.status) && run.pipeline_run_id === null
      ? el("button", { type: "button", class: "button primary", id: "retry", onclick: async (event) => {
        event.target.disabled = true;
        try {
          const out = await api(`/api/runs/${id}/retry`, { method: "POST" });
          result.className = "notice ok result";
          result.textContent = out.summary;
          load();
        } catch (error) {
          result.className = "notice error result";
          result.textContent = error.message;
          event.target.disabled = false;
        }
        result.hidden = false;
      } }, "Retry") : null;
    detail.replaceChildren();
    SB.append(detail, [
      el("h2", null, `Run ${run.id} · ${run.name} `, status(run.status)),
      el("div", { class: "meta" }, `${run.kind} · attempt ${run.attempt}/${run.max_attempts} · by ${run.actor} · ${when(run.created_at)}`),
      run.summary ? el("p", null, SB.prose(run.summary)) : null,
      run.error ? el("div", { class: "notice error" }, run.error) : null,
      el("div", { class: "field-label" }, "Inputs"), SB.keyValues(run.inputs),
      stepsTable(data.steps),
      data.retries.length ? el("p", { class: "small" }, "Retried as ", data.retries.map((r, i) => [i ? ", " : "",
        el("a", { href: "#", onclick: (e) => { e.preventDefault(); show(r.id); } }, `run ${r.id}`), ` (${r.status})`])) : null,
      data.table ? table(data.table, { maxRows: 20 }) : null,
      data.chart_url ? SB.chart(data.chart_url) : null,
      el("div", { class: "actions" }, retry), result]);
    detail.hidden = false;
    split.classList.add("open");
  }

  filters.addEventListener("submit", (event) => { event.preventDefault(); load(); });
  load();
});
