/* Chat page: thread list, history, streamed replies (SSE over fetch), tables, charts, confirmations, approvals. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api, el, table, json, pct } = SB;
  const chat = document.getElementById("chat");
  const list = document.getElementById("messages");
  const welcome = document.getElementById("welcome");
  const form = document.getElementById("composer");
  const input = document.getElementById("input");
  const sendButton = document.getElementById("send");
  const isApprover = ["approver", "admin"].includes(document.body.dataset.role);
  let thread = chat.dataset.thread;
  let isNew = chat.dataset.new === "true";
  let lastId = 0;
  let busy = false;
  let pollTimer = null;
  const waiting = new Map(); // approval id -> its "waiting for approval" element

  const scroll = () => { list.scrollTop = list.scrollHeight; };

  function assistant(label, ...children) {
    return el("div", { class: "msg assistant" }, el("span", { class: "avatar", "aria-hidden": "true" }, "S"),
      el("div", { class: "content" }, label ? el("div", { class: "label" }, label) : null,
        el("div", { class: "bubble" }, children)));
  }

  function userMessage(text) {
    return el("div", { class: "msg user" }, el("div", { class: "bubble text" }, text));
  }

  // Only a reply whose call has run may say so; before that the same drawer previews the call.
  const DRAWER = { answer: "What I ran", started: "What I ran", confirm: "What I would run", waiting: "What I would run" };

  function ranDetails(decision, kind) {
    if (!decision || !decision.tool) return null;
    return el("details", { class: "ran", dataset: { kind: kind || "answer" } }, el("summary", null, DRAWER[kind] || "Details"),
      el("dl", null,
        el("dt", null, "Tool"), el("dd", null, el("code", null, decision.tool)),
        el("dt", null, "Arguments"), el("dd", null, el("pre", null, json(decision.args))),
        el("dt", null, "Confidence"), el("dd", null, pct(decision.confidence)),
        el("dt", null, "Policy"), el("dd", null, decision.action),
        el("dt", null, "Backend"), el("dd", null, decision.backend || "—"),
        decision.reasons && decision.reasons.length ? [el("dt", null, "Why"), el("dd", null, decision.reasons.join("; "))] : null));
  }

  function waitingBox(approvalId) {
    const box = el("div", { class: "waiting", dataset: { approval: approvalId } },
      el("span", { class: "spinner", "aria-hidden": "true" }),
      el("span", { class: "waiting-text" }, "Waiting for approval"), " · ", el("code", null, approvalId),
      isApprover ? [" · ", el("a", { href: "/approvals" }, "open the inbox")] : null);
    waiting.set(approvalId, box);
    return box;
  }

  // A flow started in the background: the same box, keyed by its run, until the run's outcome is posted.
  function runningBox(runId) {
    const box = el("div", { class: "waiting", dataset: { run: String(runId) } },
      el("span", { class: "spinner", "aria-hidden": "true" }),
      el("span", { class: "waiting-text" }, "Running"), " · ", el("a", { href: `/runs?run=${runId}` }, `run ${runId}`));
    waiting.set(`run:${runId}`, box);
    return box;
  }

  function resolveWaiting(key, ran, doneText) {
    const box = waiting.get(key);
    if (!box) return;
    waiting.delete(key);
    box.classList.add(ran ? "done" : "bad");
    box.querySelector(".spinner").remove();
    box.querySelector(".waiting-text").textContent = ran ? doneText : "Not run";
  }

  function quickButtons(labels) {
    if (!labels || !labels.length) return null;
    return el("div", { class: "quick" }, labels.map((label) =>
      el("button", { type: "button", class: "button small quick-answer", onclick: () => sendText(label) }, label)));
  }

  function media(item) {
    return [
      item.table ? table(item.table) : null,
      item.chart_url ? SB.chart(item.chart_url) : null,
    ];
  }

  function replyMessage(reply) {
    const node = assistant(null,
      el("div", { class: "text" }, SB.prose(reply.reply)), media(reply),
      reply.notes && reply.notes.length ? el("ul", { class: "notes" }, reply.notes.map((n) => el("li", null, n))) : null,
      reply.kind === "waiting" && reply.approval_id ? waitingBox(reply.approval_id) : null,
      reply.kind === "started" && reply.run_id ? runningBox(reply.run_id) : null,
      quickButtons(reply.buttons), ranDetails(reply.decision, reply.kind));
    if (reply.kind === "error") node.classList.add("error");
    return node;
  }

  function outcomeMessage(message) {
    const outcome = message.outcome;
    if (outcome.approval_id) {
      resolveWaiting(outcome.approval_id, outcome.run_id !== null, "Approved and run");
      return assistant("Approval update", el("div", { class: "text" }, SB.prose(message.text)), media(outcome));
    }
    resolveWaiting(`run:${outcome.run_id}`, outcome.ok !== false, "Finished");
    return assistant("Run update", el("div", { class: "text" }, SB.prose(message.text)), media(outcome));
  }

  function render(message) {
    lastId = Math.max(lastId, message.id);
    if (message.role === "user") return userMessage(message.text);
    if (message.reply) return replyMessage(message.reply);
    if (message.outcome) return outcomeMessage(message);
    return assistant(null, el("div", { class: "text" }, SB.prose(message.text)));
  }

  // Shown from the moment a message is sent until the reply's first words arrive (a turn may take seconds).
  function typingIndicator() {
    const started = Date.now();
    const elapsed = el("span", { class: "elapsed" });
    const node = el("div", { class: "typing-indicator", role: "status", dataset: { started: String(started) } },
      el("span", { class: "dots", "aria-hidden": "true" }, el("span"), el("span"), el("span")),
      el("span", { class: "typing-text" }, "Working on it"), elapsed);
    const timer = setInterval(() => {
      const seconds = Math.round((Date.now() - started) / 1000);
      if (!node.isConnected) clearInterval(timer);
      else if (seconds >= 2) elapsed.textContent = ` · ${seconds} s`;
    }, 1000);
    return node;
  }

  // A turn that exports a file sends the rows written so far; shown once the wait is noticeable.
  function showRows(indicator, rows) {
    if (Date.now() - Number(indicator.dataset.started) < 1000) return;
    indicator.querySelector(".typing-text").textContent = `Exporting · ${rows.toLocaleString("en-US")} rows written`;
  }

  function disableQuickAnswers() {
    list.querySelectorAll(".quick-answer").forEach((b) => { b.disabled = true; });
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    if (waiting.size) pollTimer = setTimeout(poll, 2000);
  }

  async function catchUp({ renderAll }) {
    const data = await api(`/api/threads/${thread}/messages?after=${lastId}`);
    for (const message of data.messages) {
      // Messages this tab just streamed are already on screen; approval updates may arrive any time.
      if (renderAll || message.outcome) list.append(render(message));
      lastId = Math.max(lastId, message.id);
    }
    if (data.messages.length) scroll();
  }

  async function poll() {
    if (!busy) {
      try { await catchUp({ renderAll: true }); } catch (_) { /* try again on the next tick */ }
    }
    schedulePoll();
  }

  async function loadHistory() {
    if (isNew) { welcome.hidden = false; return; }
    const data = await api(`/api/threads/${thread}/messages`);
    data.messages.forEach((m) => list.append(render(m)));
    const last = list.lastElementChild;
    list.querySelectorAll(".quick-answer").forEach((b) => { if (!last.contains(b)) b.disabled = true; });
    welcome.hidden = data.messages.length > 0;
    scroll();
    schedulePoll();
  }

  async function loadThreads() {
    const ul = document.getElementById("threads");
    try {
      const data = await api("/api/threads");
      ul.replaceChildren(...(data.threads.length ? data.threads.map((t) => el("li", null,
        el("a", { href: `/chat/${t.thread_id}`, class: t.thread_id === thread ? "active" : null, title: t.title }, t.title)))
        : [el("li", { class: "muted small" }, "No threads yet")]));
    } catch (_) {
      ul.replaceChildren(el("li", { class: "muted small" }, "Could not load threads"));
    }
  }

  function parseEvents(buffer, onEvent) {
    const parts = buffer.split("\n\n");
    const rest = parts.pop();
    for (const part of parts) {
      let name = "message", data = "";
      for (const line of part.split("\n")) {
        if (line.startsWith("event: ")) name = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      onEvent(name, data ? JSON.parse(data) : null);
    }
    return rest;
  }

  async function sendText(text) {
    text = text.trim();
    if (!text || busy) return;
    busy = true;
    sendButton.disabled = true;
    disableQuickAnswers();
    welcome.hidden = true;
    if (isNew) { history.replaceState(null, "", `/chat/${thread}`); isNew = false; }
    list.append(userMessage(text));
    const live = el("div", { class: "text typing" });
    const indicator = typingIndicator();
    const shell = assistant(null, indicator, live);
    list.append(shell);
    scroll();
    let final = null;
    try {
      const response = await fetch(`/api/threads/${thread}/messages/stream`, {
        method: "POST", credentials: "same-origin", body: JSON.stringify({ text }),
        headers: { "Content-Type": "application/json", Accept: "text/event-stream", "X-CSRF-Token": SB.csrf() },
      });
      if (!response.ok) {
        const problem = await response.json().catch(() => ({}));
        throw new SB.ApiError(response.status, problem);
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), (name, data) => {
          if (name === "progress") showRows(indicator, data.rows);
          if (name === "delta") { indicator.remove(); live.textContent += data.text; scroll(); }
          if (name === "done") final = data;
          if (name === "error") throw new Error(data.detail);
        });
      }
      if (final) shell.replaceWith(replyMessage(final));
      else { shell.remove(); await catchUp({ renderAll: true }); } // cut off: the thread has the full reply
    } catch (error) {
      indicator.remove();
      live.classList.remove("typing");
      live.textContent = error.message || "Something went wrong.";
      shell.classList.add("error");
    } finally {
      busy = false;
      sendButton.disabled = false;
      scroll();
    }
    try { await catchUp({ renderAll: false }); } catch (_) { /* the poll catches up later */ }
    loadThreads();
    SB.refreshBadge();
    schedulePoll();
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    input.style.height = "auto";
    sendText(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) { event.preventDefault(); form.requestSubmit(); }
  });
  input.addEventListener("input", () => {
    input.style.height = "auto";
    input.style.height = Math.min(input.scrollHeight, 200) + "px";
  });
  document.querySelectorAll("[data-say]").forEach((chip) => chip.addEventListener("click", () => sendText(chip.dataset.say)));

  loadThreads();
  loadHistory().catch((error) => list.append(assistant(null, el("div", { class: "text" }, error.message))));
  input.focus();
});
