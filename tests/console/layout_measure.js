() => {
  // Runs in the page: every number in a table cell must be on screen, or inside a table that scrolls and shows its
  // cue; every visible header must read as words; the chart's text is measured as drawn (font size × the scale
  // from SVG units to screen pixels).
  const numeric = /^[-+]?\d[\d,]*(\.\d+)?( ?(%|ms|KB|MB|GB|bytes|s))?$|^\d+\/\d+$/;
  const visible = (node) => node.checkVisibility({ opacityProperty: true, visibilityProperty: true });
  const width = document.documentElement.clientWidth;
  const clips = (node) => ["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(node).overflowX);
  const hidden = [];
  let numbers = 0;
  for (const cell of document.querySelectorAll("td")) {
    const text = cell.innerText.trim();
    if (!numeric.test(text) || !visible(cell)) continue;
    numbers += 1;
    const rect = cell.getBoundingClientRect();
    let clipper = cell.parentElement;
    while (clipper && clipper !== document.body && !clips(clipper)) clipper = clipper.parentElement;
    const box = clipper && clipper !== document.body ? clipper.getBoundingClientRect() : { left: 0, right: width };
    const left = Math.max(0, box.left), right = Math.min(width, box.right);
    if (rect.left >= left - 0.5 && rect.right <= right + 0.5) continue;
    const frame = clipper && clipper.closest(".table-frame");
    const cue = frame && frame.querySelector(":scope > .scroll-cue");
    const scrolls = clipper && clipper.scrollWidth > clipper.clientWidth;
    const cueShown = cue && visible(cue) && cue.getBoundingClientRect().right <= width + 0.5
      && cue.getBoundingClientRect().width > 0;
    if (!(scrolls && cueShown)) hidden.push(`${text} at ${Math.round(rect.left)}..${Math.round(rect.right)}`);
  }
  const headers = [...document.querySelectorAll("th")].filter(visible).map((th) => th.innerText.trim());
  const chartText = [...document.querySelectorAll(".chart-box svg text")].filter(visible).map((t) =>
    parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a);
  const hint = document.getElementById("hint");
  return {
    hidden, numbers, headers, chartText,
    pageOverflow: document.documentElement.scrollWidth - width,
    hintLines: hint ? Math.round(hint.getBoundingClientRect().height / parseFloat(getComputedStyle(hint).lineHeight)) : null,
    drawers: [...document.querySelectorAll("details.ran > summary")].map((s) => s.innerText.trim()),
    hashes: [...document.querySelectorAll(".hash code")].map((c) => [c.innerText, c.title]),
    files: [...document.querySelectorAll(".file")].filter(visible).map((f) => [f.title, f.getClientRects().length]),
    ids: [...document.querySelectorAll("td.id")].map((td) => td.innerText.trim()),
    sizes: [...document.querySelectorAll(".size")].filter(visible).map((s) => [s.innerText, s.title]),
    auditData: [...document.querySelectorAll("#audit-table td.data-cell")].map((td) =>
      [td.querySelector("dl.kv, .muted") !== null, td.innerText.trim().startsWith("{")]),
  };
}
