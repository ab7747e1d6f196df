/* How values read in the console, in one place: column names, ids, sizes, hashes, file names, result tables. */
"use strict";

(() => {
  const { el } = SB;

  // Abbreviations and units inside snake_case names; every other word is lower case, the first one capitalised.
  const WORDS = {
    pct: "%", id: "ID", ids: "IDs", sha256: "SHA-256", sha1: "SHA-1", md5: "MD5", ms: "(ms)", url: "URL",
    csv: "CSV", json: "JSON", api: "API", sku: "SKU", skus: "SKUs", sftp: "SFTP", utc: "UTC", http: "HTTP",
    smtp: "SMTP", ok: "OK", vat: "VAT", eta: "ETA", qty: "Qty",
  };
  // Whole names that read better replaced; sizes are shown formatted, so their unit leaves the name.
  const NAMES = { bytes: "Size", size_bytes: "Size", file_size: "Size", "size (bytes)": "Size", seq: "#" };
  const SIZE = new Set(["bytes", "size", "size_bytes", "file_size", "size (bytes)"]);
  const HASH = /^(sha256|sha1|md5|hash|checksum|digest)$|_(sha256|hash)$/;
  const HEX = /^[0-9a-f]{32,128}$/i;
  const FILE = /^[^\s@]+\.[A-Za-z0-9]{1,6}$/; // no spaces (nor an e-mail address), ends in an extension
  const KEY_COLUMNS = new Set(["field", "key", "setting", "property"]);
  const SHORT_HASH = 12;

  function label(name) {
    const raw = String(name).trim();
    const named = NAMES[raw.toLowerCase()];
    if (named) return named;
    const words = raw.split(/[_\s]+/).filter(Boolean).map((word) => {
      const lower = word.toLowerCase();
      return lower in WORDS ? { text: WORDS[lower], fixed: true } : { text: lower, fixed: false };
    });
    if (!words.length) return raw;
    if (!words[0].fixed) words[0].text = words[0].text.charAt(0).toUpperCase() + words[0].text.slice(1);
    return words.map((w) => w.text).join(" ");
  }

  function kindOf(name) {
    const n = String(name).trim().toLowerCase();
    if (n === "id" || n === "#" || n === "seq" || /[_ ]id$/.test(n)) return "id";
    if (SIZE.has(n)) return "size";
    if (HASH.test(n)) return "hash";
    return "plain";
  }

  /* "78 KB" with the exact count in the tooltip: the console's one way of showing a size. */
  function size(bytes) {
    if (typeof bytes !== "number" || !Number.isFinite(bytes)) return el("span", null, "—");
    const exact = `${bytes.toLocaleString("en-US")} bytes`;
    if (Math.abs(bytes) < 1024) return el("span", { class: "size", title: exact }, exact);
    const units = ["KB", "MB", "GB", "TB"];
    let value = bytes / 1024, unit = 0;
    while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    const shown = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : String(Math.round(value));
    return el("span", { class: "size", title: exact }, `${shown} ${units[unit]}`);
  }

  // A file name inside a sentence: word characters, dots and dashes, ending in an extension that starts with a letter.
  const NAME_IN_TEXT = /(\b\w[\w.-]*\.[A-Za-z][A-Za-z0-9]{0,5}\b)/;

  /* Text with every "12,345 bytes" shown in the size format (one screen never mixes two) and file names kept whole. */
  function prose(text) {
    const parts = String(text ?? "").split(/(\b\d[\d,]* bytes\b)/);
    return parts.map((part, i) => (i % 2 ? size(Number(part.replace(/[^\d]/g, "")))
      : part.split(NAME_IN_TEXT).map((piece, j) => (j % 2 ? file(piece) : piece))));
  }

  async function copy(button, text) {
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = "Copied";
    } catch (_) {
      button.textContent = "Select";
    }
    setTimeout(() => { button.textContent = "Copy"; }, 1500);
  }

  function hash(value) {
    const full = String(value);
    return el("span", { class: "hash" },
      el("code", { title: full }, full.length > SHORT_HASH ? `${full.slice(0, SHORT_HASH)}…` : full),
      el("button", { type: "button", class: "copy", title: "Copy the full value", "aria-label": "Copy the full value",
        onclick: (event) => copy(event.currentTarget, full) }, "Copy"));
  }

  /* A file name never breaks inside itself; a path may break only after a "/". */
  function file(value) {
    const segments = String(value).split("/");
    return el("span", { class: "file", title: value },
      segments.map((segment, i) => [i ? ["/", el("wbr")] : null, el("span", { class: "seg" }, segment)]));
  }

  function number(value) {
    return Number.isInteger(value) ? value.toLocaleString("en-US")
      : value.toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
  }

  /* One value as a node and the classes of its cell. */
  function value(v, kind = "plain") {
    if (v === null || v === undefined || v === "") return { node: "—", cls: "empty" };
    if (kind === "id") return { node: String(v), cls: typeof v === "number" ? "num id" : "id" };
    if (kind === "size" && typeof v === "number") return { node: size(v), cls: "num" };
    if (typeof v === "number") return { node: number(v), cls: "num" };
    if (typeof v === "boolean") return { node: v ? "yes" : "no", cls: null };
    if (typeof v === "object") return { node: JSON.stringify(v), cls: "mono" };
    const text = String(v);
    if (kind === "hash" || HEX.test(text)) return { node: hash(text), cls: "hash-cell" };
    if (FILE.test(text)) return { node: file(text), cls: "file-cell" };
    return { node: text, cls: null };
  }

  /* A wide table scrolls inside its frame; a fade and a "scroll" label show there is more to the right. */
  function watchScroll(frame) {
    const wrap = frame.querySelector(".table-wrap");
    let cue = frame.querySelector(".scroll-cue");
    if (!wrap) return frame;
    if (!cue) {
      cue = el("div", { class: "scroll-cue", "aria-hidden": "true", hidden: true }, el("span", null, "scroll →"));
      frame.append(cue);
    }
    const update = () => {
      const more = wrap.scrollWidth - wrap.clientWidth > 1;
      const atEnd = wrap.scrollLeft + wrap.clientWidth >= wrap.scrollWidth - 1;
      cue.hidden = !more || atEnd;
      frame.classList.toggle("scrolled", wrap.scrollLeft > 0);
    };
    wrap.addEventListener("scroll", update, { passive: true });
    const observer = new ResizeObserver(update);
    observer.observe(wrap);
    if (wrap.firstElementChild) observer.observe(wrap.firstElementChild);
    update();
    return frame;
  }

  function frame(tableNode) {
    return watchScroll(el("div", { class: "table-frame" }, el("div", { class: "table-wrap" }, tableNode)));
  }

  function keyValueRows(rows) {
    return rows.map(([key, v]) => {
      const shown = value(v, kindOf(key));
      return el("tr", null, el("th", { scope: "row", class: "key" }, label(key)),
        el("td", { class: shown.cls && shown.cls.replace(/\bnum\b/, "numval") }, shown.node));
    });
  }

  function table(data, { maxRows = 50 } = {}) {
    if (!data || !data.columns) return null;
    const rows = data.rows || [];
    const shownRows = rows.slice(0, maxRows);
    const keyValue = data.columns.length === 2 && KEY_COLUMNS.has(String(data.columns[0]).toLowerCase())
      && rows.every((row) => typeof row[0] === "string");
    const kinds = data.columns.map(kindOf);
    // Right-aligned only when the whole column is numbers, so a mixed column never pushes numbers off screen.
    const numeric = data.columns.map((_, i) => shownRows.length > 0
      && shownRows.every((row) => row[i] === null || typeof row[i] === "number"));
    const head = keyValue ? null : el("thead", null, el("tr", null, data.columns.map((c, i) =>
      el("th", { class: numeric[i] ? "num" : null, title: c }, label(c)))));
    const body = keyValue ? keyValueRows(shownRows) : shownRows.map((row) => el("tr", null, row.map((v, i) => {
      const shown = value(v, kinds[i]);
      const cls = numeric[i] || !shown.cls ? shown.cls : shown.cls.replace(/\bnum\b/, "numval");
      return el("td", { class: cls }, shown.node);
    })));
    return el("div", { class: "result-table" },
      data.title ? el("div", { class: "label" }, data.title) : null,
      frame(el("table", { class: keyValue ? "data kv-table" : "data" }, head, el("tbody", null, body))),
      rows.length > maxRows ? el("div", { class: "more" }, `… ${rows.length - maxRows} more rows`) : null);
  }

  const LONG = 300; // characters of one value shown before "…" (the whole value is in its tooltip)

  function scalar(key, v) {
    if (typeof v === "string" && v.length > LONG && !HEX.test(v)) return el("span", { title: v }, `${v.slice(0, LONG)}…`);
    return value(v, kindOf(key)).node;
  }

  /* A record's data as a key/value list: nested objects indent, lists of plain values join with commas. */
  function keyValues(data, depth = 0) {
    const entries = data && typeof data === "object" && !Array.isArray(data) ? Object.entries(data) : [];
    if (!entries.length) return el("span", { class: "muted" }, Array.isArray(data) && data.length ? JSON.stringify(data) : "—");
    return el("dl", { class: "kv" }, entries.map(([key, v]) => {
      let shown;
      if (v && typeof v === "object" && !Array.isArray(v) && depth < 2) shown = keyValues(v, depth + 1);
      else if (Array.isArray(v) && v.every((item) => item === null || typeof item !== "object")) {
        shown = v.length ? v.map((item) => (item === null ? "—" : String(item))).join(", ") : "—";
      } else if (v && typeof v === "object") shown = scalar(key, JSON.stringify(v));
      else shown = scalar(key, v);
      return [el("dt", { title: key }, label(key)), el("dd", null, shown)];
    }));
  }

  Object.assign(SB, { label, kindOf, size, prose, hash, file, value, table, frame, watchScroll, keyValues });

  document.addEventListener("DOMContentLoaded", () => document.querySelectorAll(".table-frame").forEach(watchScroll));
})();
