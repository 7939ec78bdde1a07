// The rag page: chat with streamed answers and checkable citations, briefings, the article list.
// Every piece of article text is put on the page as text (textContent), never parsed as HTML.
"use strict";

const state = { key: sessionStorage.getItem("rag-key") || "", history: [] };

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child === null || child === undefined) continue;
    node.append(typeof child === "string" ? document.createTextNode(child) : child);
  }
  return node;
}

function sourceName(outlet, title, date) {
  let name = outlet || "unknown outlet";
  if (title) name += " — " + title;
  return date ? `${name} (${date.slice(0, 10)})` : name;
}

async function api(path, options = {}) {
  const headers = Object.assign({}, options.headers || {});
  if (state.key) headers.Authorization = "Bearer " + state.key;
  const response = await fetch(path, Object.assign({}, options, { headers }));
  if (response.status === 401) {
    document.getElementById("key-form").hidden = false;
    throw new Error("this server needs its API key");
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    try {
      const body = await response.json();
      if (body.error) message = body.error.message + (body.error.hint ? ` (${body.error.hint})` : "");
      else if (body.detail) message = JSON.stringify(body.detail);
    } catch (_) { /* not JSON */ }
    throw new Error(message);
  }
  return response;
}

// --- views -------------------------------------------------------------------------------------------
function show(view) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.view === view));
  for (const section of document.querySelectorAll(".view")) section.hidden = section.id !== "view-" + view;
  if (view === "articles") loadArticles();
}

async function loadStatus() {
  try {
    const health = await (await api("/health")).json();
    document.getElementById("status").textContent =
      `${health.articles} articles · backend ${health.backend}` + (health.ingesting ? " · ingesting…" : "");
  } catch (error) {
    document.getElementById("status").textContent = error.message;
  }
}

// --- citations ---------------------------------------------------------------------------------------
const card = () => document.getElementById("citation-card");
let pinned = null;

function openCitation(button, citation) {
  const box = card();
  box.querySelector(".card-source").textContent = `[${citation.n}] ` + sourceName(citation.outlet, citation.title, citation.date);
  box.querySelector(".card-quote").textContent = "“" + citation.quote.split(/\s+/).join(" ").trim() + "”";
  const copies = citation.also_in && citation.also_in.length ? ` · also in ${citation.also_in.map((id) => id.slice(0, 8)).join(", ")} (a derived copy)` : "";
  box.querySelector(".card-where").textContent = `article ${citation.article_id.slice(0, 8)}, characters ${citation.start}–${citation.end}${copies}`;
  box.id = "citation-card";
  const rect = button.getBoundingClientRect();
  box.style.left = Math.max(8, Math.min(rect.left + window.scrollX, window.innerWidth - 520)) + "px";
  box.style.top = rect.bottom + window.scrollY + 6 + "px";
  box.hidden = false;
  for (const other of document.querySelectorAll(".cite[aria-expanded='true']")) other.setAttribute("aria-expanded", "false");
  button.setAttribute("aria-expanded", "true");
  button.setAttribute("aria-describedby", "citation-card");
}

function closeCitation() {
  card().hidden = true;
  pinned = null;
  for (const other of document.querySelectorAll(".cite[aria-expanded='true']")) other.setAttribute("aria-expanded", "false");
}

function citeButton(citation) {
  const button = el("button", { type: "button", class: "cite", "aria-expanded": "false",
    "aria-label": `Source ${citation.n}: ${sourceName(citation.outlet, citation.title, citation.date)}` }, String(citation.n));
  button.addEventListener("click", () => {
    if (pinned === button) return closeCitation();
    openCitation(button, citation);
    pinned = button;
  });
  button.addEventListener("focus", () => openCitation(button, citation));
  button.addEventListener("blur", () => { if (pinned !== button) closeCitation(); });
  return button;
}

function renderAnswer(box, answer) {
  box.replaceChildren();
  const byNumber = new Map(answer.citations.map((c) => [c.n, c]));
  if (answer.standalone_question && answer.standalone_question !== answer.question) {
    box.append(el("p", { class: "understood muted" }, "Understood as: " + answer.standalone_question));
  }
  if (answer.abstained) {
    box.classList.add("abstained");
    box.append(el("p", { class: "abstain-label" }, "Not in the articles"), el("p", { class: "abstain" }, answer.answer));
  } else {
    const text = el("p", { class: "answer-text" });
    for (const claim of answer.claims) {
      text.append(claim.text + " ");
      for (const n of claim.citations) if (byNumber.has(n)) text.append(citeButton(byNumber.get(n)));
      text.append(" ");
    }
    box.append(text);
    const outlets = answer.outlets.join(", ");
    const n = answer.independent_sources;
    box.append(el("p", { class: "sources muted" }, `Backed by ${n} independent source${n === 1 ? "" : "s"}: ${outlets}`));
  }
  if (answer.dropped && answer.dropped.length) {
    box.append(el("p", { class: "muted" }, `${answer.dropped.length} sentence(s) removed: their citations did not support them.`));
  }
  box.append(el("p", { class: "muted sources" }, `${answer.backend} · ${answer.seconds.toFixed(1)} s`));
}

// --- chat --------------------------------------------------------------------------------------------
async function* events(response) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true });
    let cut;
    while ((cut = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, cut);
      buffer = buffer.slice(cut + 2);
      for (const line of event.split("\n")) {
        if (!line.startsWith("data: ")) continue;
        const data = line.slice(6);
        if (data === "[DONE]") return;
        yield JSON.parse(data);
      }
    }
  }
}

async function ask(question) {
  const list = document.getElementById("messages");
  list.append(el("li", { class: "question" }, question));
  const box = el("li", { class: "answer", "aria-busy": "true" });
  const draft = el("p", { class: "draft" }, "Looking in the articles…");
  const written = el("p", { class: "streamed" });
  box.append(draft, written);
  list.append(box);
  const messages = [];
  for (const turn of state.history) messages.push({ role: "user", content: turn.question }, { role: "assistant", content: turn.answer });
  messages.push({ role: "user", content: question });
  let drafted = "";
  try {
    const response = await api("/v1/chat/completions", {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ model: "rag", stream: true, messages }),
    });
    for await (const chunk of events(response)) {
      if (chunk.error) throw new Error(chunk.error.message);
      const choice = chunk.choices && chunk.choices[0];
      if (!choice) continue;
      if (choice.delta.reasoning_content) {
        drafted += choice.delta.reasoning_content;
        draft.textContent = "Draft, being checked: " + drafted;
      }
      if (choice.delta.content) {
        draft.textContent = "Checked against the articles.";
        written.append(choice.delta.content);
        box.dataset.chunks = String(Number(box.dataset.chunks || 0) + 1);  // how many pieces arrived
      }
      if (chunk.rag) {
        renderAnswer(box, chunk.rag);
        state.history.push({ question, answer: chunk.rag.answer });
      }
    }
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, "Error: " + error.message));
  } finally {
    box.setAttribute("aria-busy", "false");
    box.scrollIntoView({ block: "nearest" });
  }
}

// --- briefing ----------------------------------------------------------------------------------------
function citeList(citations) {
  const span = el("span");
  for (const c of citations) span.append(citeButton(c));
  return span;
}

function renderPoint(point) {
  const n = point.independent_sources;
  return el("li", { class: "point" }, point.text, " ", citeList(point.citations),
    el("div", { class: "corroboration" }, `${point.outlets.join(", ")} · ${n} independent source${n === 1 ? "" : "s"}`));
}

function renderBriefing(briefing) {
  const box = document.getElementById("briefing");
  box.replaceChildren(el("h2", {}, briefing.headline));
  box.append(el("p", { class: "muted" }, `${briefing.sources.length} articles, ${briefing.independent_sources} independent sources · ${briefing.backend}`));
  if (briefing.points.length) box.append(el("h3", {}, "Key points"), el("ul", {}, ...briefing.points.map(renderPoint)));
  for (const section of briefing.sections) box.append(el("h3", {}, section.title), el("ul", {}, ...section.points.map(renderPoint)));
  if (briefing.discrepancies.length) {
    box.append(el("h3", { id: "differences" }, "Where the reports differ"));
    for (const item of briefing.discrepancies) {
      box.append(el("p", {}, el("strong", {}, item.about), el("span", { class: "muted" }, ` (${item.kind.replace("_", " ")})`)));
      const sides = el("div", { class: "differ" });
      for (const version of item.versions) {
        sides.append(el("div", { class: "side" }, el("div", { class: "outlet" }, version.outlet || "unknown outlet"),
          el("div", {}, version.text), el("blockquote", { class: "muted" }, "“" + version.quote.trim() + "”")));
      }
      box.append(sides);
    }
  }
}

async function brief(topic) {
  const button = document.getElementById("brief-button");
  const box = document.getElementById("briefing");
  button.disabled = true;
  box.replaceChildren(el("p", { class: "muted" }, "Writing the briefing…"));
  try {
    const body = topic ? { topic } : {};
    const response = await api("/brief", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    renderBriefing(await response.json());
  } catch (error) {
    box.replaceChildren(el("p", { class: "error" }, "Error: " + error.message));
  } finally {
    button.disabled = false;
  }
}

// --- articles ----------------------------------------------------------------------------------------
async function loadArticles() {
  const body = document.querySelector("#article-table tbody");
  try {
    const rows = await (await api("/articles")).json();
    const names = new Map(rows.map((r) => [r.id, r.outlet || r.title || r.path]));
    body.replaceChildren(...rows.map((r) => {
      const original = r.derived_from
        ? el("a", { href: "#article-" + r.derived_from }, names.get(r.derived_from) || r.derived_from.slice(0, 8)) : "";
      const remove = el("button", { type: "button", class: "secondary", "aria-label": "Forget " + (r.title || r.path) }, "Forget");
      remove.addEventListener("click", () => forget(r.id));
      return el("tr", { id: "article-" + r.id }, el("td", {}, r.outlet || "unknown outlet"), el("td", {}, (r.date || "").slice(0, 10)),
        el("td", {}, r.title || r.path.split("/").pop()), el("td", {}, original), el("td", {}, String(r.chunks)), el("td", {}, remove));
    }));
  } catch (error) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: "6", class: "error" }, error.message)));
  }
  loadStatus();
}

async function forget(id) {
  try { await api("/articles/" + encodeURIComponent(id), { method: "DELETE" }); } catch (error) { alert(error.message); }
  loadArticles();
}

function renderJob(job, line) {
  const total = job.files.length;
  line.replaceChildren(el("span", {}, `${job.files.join(", ")}: ${job.state}` + (job.step ? ` — ${job.step}` : "") + " "),
    el("progress", { max: String(total), value: String(job.done), "aria-label": "ingest progress" }));
  if (job.error) line.append(el("span", { class: "error" }, " " + job.error));
  if (job.report) {
    const failed = job.report.files.filter((f) => f.status === "failed");
    line.append(el("span", { class: "muted" }, ` ${job.report.new_chunks} new chunks; store: ${job.report.total_articles} articles`));
    for (const f of failed) line.append(el("div", { class: "error" }, `${f.path.split("/").pop()}: ${f.reason}`));
  }
}

async function upload(form) {
  const data = new FormData();
  for (const file of form.querySelector("#files").files) data.append("files", file);
  for (const line of form.querySelector("#urls").value.split("\n")) if (line.trim()) data.append("urls", line.trim());
  const line = el("div", { class: "job" }, "Uploading…");
  document.getElementById("jobs").prepend(line);
  try {
    let job = await (await api("/ingest", { method: "POST", body: data })).json();
    form.reset();
    while (job.state !== "done" && job.state !== "failed") {
      renderJob(job, line);
      await new Promise((resolve) => setTimeout(resolve, 700));
      job = await (await api("/ingest/" + job.id)).json();
    }
    renderJob(job, line);
  } catch (error) {
    line.replaceChildren(el("span", { class: "error" }, "Error: " + error.message));
  }
  loadArticles();
}

// --- wiring ------------------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", () => {
  for (const tab of document.querySelectorAll(".tab")) tab.addEventListener("click", () => show(tab.dataset.view));
  document.getElementById("ask-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = document.getElementById("question");
    const question = input.value.trim();
    if (!question) return;
    input.value = "";
    const button = document.getElementById("ask-button");
    button.disabled = true;
    await ask(question);
    button.disabled = false;
    input.focus();
  });
  document.getElementById("new-chat").addEventListener("click", () => {
    state.history = [];
    document.getElementById("messages").replaceChildren();
    closeCitation();
  });
  document.getElementById("brief-form").addEventListener("submit", (event) => {
    event.preventDefault();
    brief(document.getElementById("topic").value.trim());
  });
  document.getElementById("upload-form").addEventListener("submit", (event) => { event.preventDefault(); upload(event.target); });
  document.getElementById("key-form").addEventListener("submit", (event) => {
    event.preventDefault();
    state.key = document.getElementById("key-input").value.trim();
    sessionStorage.setItem("rag-key", state.key);
    event.target.hidden = true;
    loadStatus();
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape") closeCitation(); });
  loadStatus();
});
