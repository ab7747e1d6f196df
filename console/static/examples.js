/* Examples page (admins): accept, fix or discard each correction waiting for review (the page lists them). */
"use strict";

document.addEventListener("DOMContentLoaded", () => {
  const { api } = SB;
  const errorBox = document.getElementById("examples-error");
  const doneBox = document.getElementById("examples-done");

  function show(box, text) {
    box.textContent = text || "";
    box.hidden = !text;
  }

  /* The tool, arguments and words as the card's fields say them; bad JSON is the reviewer's to fix. */
  function meant(card) {
    const tool = card.querySelector(".example-tool").value;
    const raw = card.querySelector(".example-args").value.trim();
    let args;
    try { args = raw ? JSON.parse(raw) : {}; } catch (error) { throw new Error(`The arguments are not JSON: ${error.message}`); }
    return tool ? { tool, args, text: card.querySelector(".example-text").value } : { out_of_scope: true, text: card.querySelector(".example-text").value };
  }

  async function act(card, action) {
    const id = card.dataset.id;
    show(errorBox, null);
    card.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      let body;
      if (action === "fix") body = meant(card);
      if (action === "discard") body = {};
      const result = await api(`/api/examples/${encodeURIComponent(id)}/${action}`, { method: "POST", body });
      show(doneBox, result.version
        ? `${result.example.status === "fixed" ? "Fixed" : "Accepted"} ${id}: reviewed version ${result.version} has ${result.examples_in_version} example(s).`
        : `Discarded ${id}.`);
      card.remove();
      if (!document.querySelector(".card.example")) {
        document.getElementById("examples").textContent = "No corrections are waiting for review.";
      }
    } catch (error) {
      show(errorBox, `${error.message}.`);
      card.querySelectorAll("button").forEach((b) => { b.disabled = false; });
    }
  }

  document.querySelectorAll(".card.example").forEach((card) => {
    card.querySelector(".example-accept").addEventListener("click", () => act(card, "accept"));
    card.querySelector(".example-fix").addEventListener("click", () => act(card, "fix"));
    card.querySelector(".example-discard").addEventListener("click", () => act(card, "discard"));
  });
});
