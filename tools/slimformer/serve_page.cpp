#include "serve_page.h"

namespace slimformer::tools {

const char* const kServePage = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>slimformer question answering</title>
<style>
  body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
  select, textarea, button { font: inherit; }
  select { width: 100%; }
  textarea { width: 100%; height: 3rem; }
  #passage { background: #f6f6f6; padding: 0.8rem; border-radius: 4px; white-space: pre-wrap; max-height: 18rem; overflow: auto; }
  mark { background: #ffe28a; }
  table { border-collapse: collapse; margin-top: 1rem; width: 100%; }
  th, td { border: 1px solid #ccc; padding: 0.4rem 0.6rem; text-align: left; }
  .error { color: #b00020; }
  #info { color: #666; font-size: 0.9rem; }
</style>
</head>
<body>
<h1>Ask a passage</h1>
<p id="info">loading…</p>
<label for="passages">Passage</label>
<select id="passages"></select>
<div id="passage"></div>
<label for="question">Question</label>
<textarea id="question" placeholder="Type a question about the passage"></textarea>
<button id="ask">Ask</button>
<p id="error" class="error"></p>
<table id="results" hidden>
  <thead><tr><th>path</th><th>answer</th><th>score</th><th>time (ms)</th></tr></thead>
  <tbody>
    <tr id="row-cached"><td>with the passage cache</td><td class="answer"></td><td class="score"></td><td class="time"></td></tr>
    <tr id="row-fresh"><td>computed afresh</td><td class="answer"></td><td class="score"></td><td class="time"></td></tr>
  </tbody>
</table>
<script>
const $ = (id) => document.getElementById(id);
let passageText = "";

function escapeHtml(s) {
  return s.replace(/[&<>"]/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;"}[c]));
}

function showPassage(answer) {
  let html = escapeHtml(passageText);
  if (answer) {
    const at = passageText.indexOf(answer);
    if (at >= 0)
      html = escapeHtml(passageText.slice(0, at)) + "<mark>" + escapeHtml(answer) + "</mark>" +
             escapeHtml(passageText.slice(at + answer.length));
  }
  $("passage").innerHTML = html;
}

async function getJson(url, options) {
  const response = await fetch(url, options);
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function loadPassage() {
  const id = $("passages").value;
  const body = await getJson("/passages/" + encodeURIComponent(id));
  passageText = body.text;
  showPassage("");
}

function fill(row, result) {
  const tr = $(row);
  tr.querySelector(".answer").textContent = result.answer;
  tr.querySelector(".score").textContent = result.score.toFixed(2);
  tr.querySelector(".time").textContent = result.milliseconds.toFixed(1);
}

async function ask() {
  $("error").textContent = "";
  const question = $("question").value.trim();
  if (!question) { $("error").textContent = "Type a question first."; return; }
  const request = (cache) => getJson("/answer", {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({question: question, passage_id: $("passages").value, cache: cache}),
  });
  try {
    const cached = await request(true);
    const fresh = await request(false);
    fill("row-cached", cached);
    fill("row-fresh", fresh);
    $("row-cached").querySelector("td").textContent =
        cached.cached ? "with the passage cache" : "no cache (full model)";
    $("results").hidden = false;
    showPassage(cached.answer);
    document.body.dataset.answered = "yes";
  } catch (e) {
    $("error").textContent = e.message;
  }
}

async function start() {
  const info = await getJson("/info");
  $("info").textContent = info.model + ": " + info.layers + " layers, " +
      (info.separate_layers ? "the lower " + info.separate_layers + " run on the question alone" : "not decomposed") +
      (info.cache ? "; passage cache of " + info.cache.entries + " passages (" + info.cache.dtype + ")" : "; no cache");
  const list = await getJson("/passages?limit=500");
  for (const p of list.passages) {
    const option = document.createElement("option");
    option.value = p.id;
    option.textContent = p.id + " — " + p.preview;
    $("passages").appendChild(option);
  }
  // A link can pick the passage and ask: /?passage=<id>&question=<text>.
  const params = new URLSearchParams(window.location.search);
  if (params.has("passage")) $("passages").value = params.get("passage");
  await loadPassage();
  $("passages").addEventListener("change", loadPassage);
  $("ask").addEventListener("click", ask);
  document.body.dataset.ready = "yes";
  if (params.has("question")) {
    $("question").value = params.get("question");
    await ask();
  }
}

start().catch((e) => { $("error").textContent = e.message; });
</script>
</body>
</html>
)html";

}  // namespace slimformer::tools
