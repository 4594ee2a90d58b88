// HarmonyProxy inspector: the list of recent requests (polled), one request's detail on click.
// Every text from a request is set with textContent: nothing a model or a client wrote is HTML here.
"use strict";

const $ = (selector) => document.querySelector(selector);
let selected = null;
let timer = null;

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function query() {
  const params = new URLSearchParams();
  for (const [name, id] of [["status", "#status"], ["client", "#client"], ["model", "#model"], ["q", "#search"]]) {
    const value = $(id).value.trim();
    if (value) params.set(name, value);
  }
  return params.toString();
}

async function getJson(url) {
  const response = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return response.json();
}

const ms = (value) => value === undefined ? "" : value >= 1000 ? `${(value / 1000).toFixed(1)} s` : `${Math.round(value)} ms`;

async function refreshList() {
  let data;
  try { data = await getJson("/ui/api/requests?" + query()); } catch (error) { console.warn(error.message); return; }
  const body = $("#requests tbody");
  body.replaceChildren();
  for (const request of data.requests) {
    const row = el("tr");
    row.dataset.id = request.id;
    if (!request.done) row.classList.add("running");
    if (request.id === selected) row.classList.add("selected");
    const tokens = request.completionTokens !== undefined ? `${request.promptTokens} → ${request.completionTokens}` : "";
    const attempts = request.attempts > 1 || request.recovery ? `${request.attempts}${request.recovery ? " (" + request.recovery + ")" : ""}` : request.attempts || "";
    const cells = [new Date(request.time).toLocaleTimeString(), request.client, request.endpoint || request.path, request.model, request.backend,
      request.flavour, request.done ? request.status : "…", request.outcome, attempts, ms(request.ttftMs), tokens, request.tokensPerSecond ?? "", ms(request.durationMs)];
    cells.forEach((value, index) => {
      const cell = el("td", value ?? "");
      if (index === 6 && request.done) cell.className = request.status < 400 ? "status-ok" : "status-bad";
      row.append(cell);
    });
    row.addEventListener("click", () => select(request.id));
    body.append(row);
  }
  $("#empty").hidden = data.requests.length > 0;
  if (selected && data.requests.some((request) => request.id === selected && !request.done)) showDetail(selected);
}

function select(id) {
  selected = id;
  document.querySelectorAll("#requests tbody tr").forEach((row) => row.classList.toggle("selected", row.dataset.id === id));
  showDetail(id);
}

// Harmony tags stand out in llama-server's raw output.
function harmony(target, text) {
  target.replaceChildren();
  for (const piece of text.split(/(<\|[a-z_]+\|>)/)) {
    target.append(/^<\|[a-z_]+\|>$/.test(piece) ? el("span", piece, "tag") : document.createTextNode(piece));
  }
}

function body(target, kept) {
  target.replaceChildren(el("span", kept?.text ?? ""));
  if (kept?.cut) target.append(el("div", `… ${kept.note}`, "note"));
}

async function showDetail(id) {
  let request;
  try { request = await getJson("/ui/api/requests/" + encodeURIComponent(id)); } catch (error) { console.warn(error.message); return; }
  $("#detail").hidden = false;
  $("#detail-title").textContent = `${request.method} ${request.path} · ${request.id}`;
  const facts = $("#facts");
  facts.replaceChildren();
  for (const [name, value] of [["Status", request.done ? request.status : "running"], ["Outcome", request.outcome], ["Failure", request.failure], ["Client", request.client],
    ["Model", request.model], ["Backend", request.backend], ["Upstream flavour", request.flavour], ["Recovery", request.recovery], ["Finish", request.finish],
    ["Tool calls", request.toolCalls ? `${request.toolCalls} (${request.droppedToolCalls} dropped)` : ""], ["Time to first token", ms(request.ttftMs)],
    ["Tokens", request.completionTokens !== undefined ? `${request.promptTokens} prompt, ${request.completionTokens} completion` : ""],
    ["Tokens per second", request.tokensPerSecond ?? ""], ["Duration", ms(request.durationMs)]]) {
    if (value === undefined || value === null || value === "") continue;
    facts.append(el("dt", name), el("dd", value));
  }
  const attempts = $("#attempts tbody");
  attempts.replaceChildren();
  for (const attempt of request.attemptLog) {
    const row = el("tr");
    for (const value of [attempt.number, attempt.backend, attempt.recovery ?? "", attempt.failure ?? "", attempt.next ?? "", attempt.completed ? "yes" : "no"]) row.append(el("td", value));
    attempts.append(row);
  }
  const got = request.clientReceived ?? { toolCalls: [], errors: [] };
  const shown = $("#received");
  shown.replaceChildren();
  const part = (title, kept) => {
    const box = el("div", undefined, "part");
    const pre = el("pre");
    body(pre, kept);
    box.append(el("h4", title), pre);
    shown.append(box);
  };
  if (got.reasoning?.text) part("Reasoning", got.reasoning);
  if (got.content?.text) part("Content", got.content);
  for (const call of got.toolCalls) {
    const box = el("div", undefined, "tool-call");
    const pre = el("pre");
    body(pre, call.arguments);
    box.append(el("h4", `Tool call: ${call.name}`), pre);
    shown.append(box);
  }
  for (const error of got.errors) part("Error", { text: error });
  harmony($("#raw-text"), request.upstreamOutput?.text ?? "");
  if (request.upstreamOutput?.cut) $("#raw-text").append(el("div", `… ${request.upstreamOutput.note}`, "note"));
  const upstream = $("#upstream-requests");
  upstream.replaceChildren();
  for (const sent of request.upstreamRequests) {
    const box = el("div", undefined, "part");
    const pre = el("pre");
    body(pre, sent);
    box.append(el("h4", `Attempt ${sent.attempt}: POST ${sent.route}`), pre);
    upstream.append(box);
  }
  body($("#client-request"), request.clientRequest);
}

function schedule() {
  clearInterval(timer);
  if ($("#live").checked) timer = setInterval(refreshList, 1000);
}

$("#filters").addEventListener("input", () => refreshList());
$("#filters").addEventListener("submit", (event) => event.preventDefault());
$("#live").addEventListener("change", schedule);
refreshList();
schedule();
