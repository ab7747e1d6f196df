/* Report charts drawn as SVG at the width they are shown, from the series their PNG carries.

   A PNG drawn for a desktop and shrunk onto a phone has 5 px labels; an SVG laid out for the box's own width
   keeps every label at its CSS size. Breakdowns become horizontal bars (long names fit on a phone), trends a
   line. A chart without a stored series (drawn before) falls back to its PNG. */
"use strict";

(() => {
  const { el, api, label } = SB;
  const NS = "http://www.w3.org/2000/svg";
  const FONT = 12; // px, as set in app.css: the width estimates below use it
  const CHAR = FONT * 0.6; // average advance of a sans-serif character
  const BAR = 26; // px per horizontal bar

  function svg(tag, attrs, ...children) {
    const node = document.createElementNS(NS, tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value !== null && value !== undefined) node.setAttribute(key, String(value));
    }
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function compact(value) {
    const abs = Math.abs(value);
    const [scale, suffix] = abs >= 1e9 ? [1e9, "B"] : abs >= 1e6 ? [1e6, "M"] : abs >= 1e4 ? [1e3, "k"] : [1, ""];
    const scaled = value / scale;
    const digits = suffix && Math.abs(scaled) < 10 ? 2 : suffix && Math.abs(scaled) < 100 ? 1 : 0;
    return scaled.toLocaleString("en-US", { maximumFractionDigits: suffix ? digits : 2 }) + suffix;
  }

  function clip(text, chars) {
    return text.length > chars ? `${text.slice(0, Math.max(1, chars - 1))}…` : text;
  }

  function niceTicks(max, count) {
    if (max <= 0) return [0, 1];
    const rough = max / count;
    const power = 10 ** Math.floor(Math.log10(rough));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((s) => s >= rough) || rough;
    const ticks = [];
    for (let t = 0; t <= max + step * 0.001; t += step) ticks.push(t);
    if (ticks[ticks.length - 1] < max) ticks.push(ticks[ticks.length - 1] + step);
    return ticks;
  }

  function bars(data, width) {
    const longest = Math.max(...data.labels.map((l) => l.length), 1);
    const labelWidth = Math.min(Math.round(width * 0.38), Math.ceil(longest * CHAR) + 8);
    const valueWidth = Math.ceil(Math.max(...data.values.map((v) => compact(v).length), 1) * CHAR) + 8;
    const plot = Math.max(20, width - labelWidth - valueWidth - 4);
    const max = Math.max(...data.values, 0) || 1;
    const height = data.labels.length * BAR + 4;
    const rows = data.labels.map((name, i) => {
      const y = 2 + i * BAR;
      const length = Math.max(1, (Math.max(0, data.values[i]) / max) * plot);
      const shown = clip(name, Math.floor((labelWidth - 8) / CHAR));
      return svg("g", { class: "row" },
        svg("title", null, `${name}: ${data.values[i].toLocaleString("en-US")}`),
        svg("text", { x: labelWidth - 6, y: y + BAR / 2, class: "axis end" }, shown),
        svg("rect", { x: labelWidth, y: y + 4, width: length.toFixed(1), height: BAR - 8, rx: 3, class: "bar" }),
        svg("text", { x: labelWidth + length + 4, y: y + BAR / 2, class: "value" }, compact(data.values[i])));
    });
    return { height, nodes: rows };
  }

  function line(data, width) {
    const height = Math.round(Math.min(320, Math.max(200, width * 0.55)));
    const max = Math.max(...data.values, 0);
    const ticks = niceTicks(max, height < 240 ? 3 : 4);
    const top = ticks[ticks.length - 1] || 1;
    const left = Math.ceil(Math.max(...ticks.map((t) => compact(t).length)) * CHAR) + 10;
    const [right, upper, bottom] = [14, 8, 24];
    const plotW = Math.max(20, width - left - right), plotH = height - upper - bottom;
    const n = data.values.length;
    const x = (i) => left + (n > 1 ? (i / (n - 1)) * plotW : plotW / 2);
    const y = (v) => upper + plotH - (Math.max(0, v) / top) * plotH;
    const grid = ticks.map((t) => svg("g", { class: "tick" },
      svg("line", { x1: left, x2: left + plotW, y1: y(t), y2: y(t), class: "grid" }),
      svg("text", { x: left - 6, y: y(t), class: "axis end" }, compact(t))));
    const labelChars = Math.max(...data.labels.map((l) => l.length), 1);
    const fit = Math.max(2, Math.floor(plotW / (labelChars * CHAR + 12)));
    const step = Math.max(1, Math.ceil((n - 1) / (fit - 1)));
    const xLabels = [];
    for (let i = 0; i < n; i += step) xLabels.push(i);
    if (n > 1 && xLabels[xLabels.length - 1] !== n - 1) {
      if ((n - 1 - xLabels[xLabels.length - 1]) * (plotW / (n - 1)) < labelChars * CHAR + 12) xLabels.pop();
      xLabels.push(n - 1);
    }
    const axis = xLabels.map((i) => svg("text", {
      x: x(i), y: height - 10, class: `axis ${i === 0 && n > 1 ? "start" : i === n - 1 && n > 1 ? "end" : "middle"}`,
    }, data.labels[i]));
    const points = data.values.map((v, i) => `${x(i).toFixed(1)},${y(v).toFixed(1)}`).join(" ");
    const dots = n <= 40 ? data.values.map((v, i) => svg("circle", { cx: x(i), cy: y(v), r: 3, class: "dot" },
      svg("title", null, `${data.labels[i]}: ${v.toLocaleString("en-US")}`))) : [];
    return { height, nodes: [grid, axis, svg("polyline", { points, class: "line" }), dots] };
  }

  function draw(box, data, width) {
    const inner = Math.max(120, width - 20); // a 10 px inset on each side
    const drawn = !data.labels.length ? { height: 40, nodes: [svg("text", { x: inner / 2, y: 20, class: "axis middle" },
      "no data in this period")] } : data.kind === "line" ? line(data, inner) : bars(data, inner);
    const height = drawn.height + 4;
    const chart = svg("svg", {
      class: "chart-svg", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
      "aria-label": `${data.title}: ${label(data.ylabel)}`,
    }, svg("g", { transform: "translate(10 2)" }, drawn.nodes));
    box.replaceChildren(el("figcaption", null, data.title, el("span", { class: "muted" }, ` · ${label(data.ylabel)}`)), chart);
  }

  function fallback(box, url) {
    box.replaceChildren(el("img", { class: "chart", src: url, alt: "Chart", loading: "lazy" }));
  }

  /* A figure that fills itself with the chart at ``url`` once its series has loaded, and redraws on resize. */
  function chart(url) {
    const box = el("figure", { class: "chart-box", dataset: { src: url } }, el("div", { class: "chart-loading muted small" }, "Drawing the chart…"));
    api(`${url}${url.includes("?") ? "&" : "?"}format=json`).then((data) => {
      let width = 0;
      const observer = new ResizeObserver(() => {
        const now = Math.floor(box.clientWidth);
        if (now > 0 && now !== width) { width = now; draw(box, data, width); }
      });
      observer.observe(box);
    }).catch(() => fallback(box, url));
    return box;
  }

  Object.assign(SB, { chart });
})();
