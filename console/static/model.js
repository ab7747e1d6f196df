/* Model page: the drift trend charts, drawn by chart.js from the series the drift API gives per measure. */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("model-charts");
  if (!box) return;
  const query = box.dataset.query;
  for (const measure of box.dataset.measures.split(",")) {
    box.append(SB.chart(`/api/model/drift/chart?measure=${encodeURIComponent(measure)}&${query}`));
  }
});
