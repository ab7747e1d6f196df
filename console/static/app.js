/* Switchboard console: shared helpers (API calls with the CSRF header, DOM building, the inbox badge).
   format.js adds how values and tables read; chart.js draws report charts. */
"use strict";

const SB = (() => {
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  class ApiError extends Error {
    constructor(status, problem) {
      super((problem && problem.detail) || `HTTP ${status}`);
      this.status = status;
      this.problem = problem || {};
    }
  }

  async function api(path, { method = "GET", body } = {}) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = csrf();
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const response = await fetch(path, {
      method, headers, credentials: "same-origin", body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) { window.location.href = "/login?next=" + encodeURIComponent(location.pathname); }
    const type = response.headers.get("content-type") || "";
    const data = type.includes("json") ? await response.json() : await response.text();
    if (!response.ok) throw new ApiError(response.status, typeof data === "object" ? data : { detail: String(data) });
    return data;
  }

  /* el("div", {class: "x", onclick: fn}, child, "text") — children may be nodes, strings, arrays or null. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (value === true) node.setAttribute(key, "");
      else node.setAttribute(key, String(value));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  const json = (value) => JSON.stringify(value, null, 2);
  const pct = (value) => (typeof value === "number" ? `${Math.round(value * 100)} %` : "—");

  /* API times are UTC; SQLite hands some back without a zone, which means UTC too. */
  function parse(iso) {
    return new Date(/(Z|[+-]\d\d:\d\d)$/.test(iso) ? iso : iso + "Z");
  }

  function when(iso) {
    if (!iso) return "—";
    return parse(iso).toISOString().replace("T", " ").slice(0, 19);
  }

  function ago(iso) {
    const date = parse(iso);
    const seconds = Math.max(0, Math.round((Date.now() - date.getTime()) / 1000));
    if (seconds < 60) return "just now";
    if (seconds < 3600) return `${Math.floor(seconds / 60)} min ago`;
    if (seconds < 86400) return `${Math.floor(seconds / 3600)} h ago`;
    return `${Math.floor(seconds / 86400)} d ago`;
  }

  function countdown(iso) {
    const left = Math.round((parse(iso).getTime() - Date.now()) / 1000);
    if (left <= 0) return { text: "expired", soon: true };
    const h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    const text = `expires in ${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
    return { text, soon: left < 3600 };
  }

  function setBadge(count) {
    const badge = document.getElementById("pending-badge");
    if (!badge) return;
    badge.textContent = String(count);
    badge.hidden = !count;
  }

  async function refreshBadge() {
    try { setBadge((await api("/api/approvals/count")).pending); } catch (_) { /* the next poll retries */ }
  }

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.getElementById("menu-toggle");
    if (toggle) toggle.addEventListener("click", () => {
      const open = document.getElementById("sidebar").classList.toggle("open");
      toggle.setAttribute("aria-expanded", String(open));
    });
    if (document.getElementById("pending-badge")) setInterval(refreshBadge, 15000);
  });

  return { api, el, append, json, pct, parse, when, ago, countdown, setBadge, refreshBadge, ApiError, csrf };
})();
