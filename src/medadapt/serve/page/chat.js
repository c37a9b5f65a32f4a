// The chat page of `medadapt serve`. It talks only to the server that sent it (relative URLs), with the
// same OpenAI-compatible API every other client uses: GET health (is a key required?), GET v1/models (the
// model's name), POST v1/chat/completions with stream: true, read as server-sent events from fetch's
// ReadableStream. The safety layer's text arrives in chunks marked `medadapt.part` ("guidance",
// "disclaimer", "note"); the model's own words carry no mark. Each part is shown in a style of its own
// and in its own direction: Persian or Arabic text right-to-left.
"use strict";

const $ = (id) => document.getElementById(id);
const state = {
  key: sessionStorage.getItem("medadapt-api-key") || "",
  authRequired: false,
  model: null,
  history: [],        // the conversation sent with each request: the user's words and the model's answers
  controller: null,   // aborts the reply being streamed
};

const LETTER = /\p{L}/gu;
const RTL_LETTER = /[\p{Script=Arabic}\p{Script=Hebrew}\p{Script=Syriac}\p{Script=Thaana}\p{Script=Nko}]/gu;

// "rtl" when most letters of `text` are of a right-to-left script; "auto" while there are none yet.
function direction(text) {
  const letters = (text.match(LETTER) || []).length;
  if (!letters) return "auto";
  return 2 * (text.match(RTL_LETTER) || []).length >= letters ? "rtl" : "ltr";
}

function setStatus(text, error = false) {
  $("status").textContent = text;
  $("status").classList.toggle("error", error);
}

function headers() {
  const h = { "Content-Type": "application/json" };
  if (state.key) h.Authorization = `Bearer ${state.key}`;
  return h;
}

async function errorText(response) {
  try {
    const body = await response.json();
    return (body.error && body.error.message) || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

function showAuth(message, error = false) {
  $("auth").hidden = false;
  $("key").value = state.key;
  $("auth-message").textContent = message;
  $("auth-message").classList.toggle("error", error);
}

async function loadModel() {
  let response;
  try {
    response = await fetch("v1/models", { headers: headers() });
  } catch {
    setStatus("The server cannot be reached.", true);
    return;
  }
  if (response.status === 401) {
    showAuth(state.key ? "The server refused this key." : "This server requires an API key.", true);
    return;
  }
  if (!response.ok) {
    setStatus(await errorText(response), true);
    return;
  }
  const models = await response.json();
  state.model = models.data[0].id;
  $("model").textContent = state.model;
  if (state.authRequired) showAuth("Key accepted.");
  setStatus("");
}

async function start() {
  try {
    const health = await (await fetch("health")).json();
    state.authRequired = Boolean(health.auth_required);
    $("model").textContent = health.model || "…";
  } catch {
    setStatus("The server cannot be reached.", true);
  }
  if (state.authRequired && !state.key) showAuth("This server requires an API key.");
  else await loadModel();
  $("input").focus();
}

function addMessage(role) {
  const element = document.createElement("div");
  element.className = `message ${role}`;
  $("log").appendChild(element);
  return element;
}

// One assistant reply being streamed into its bubble, each part in its own element (guidance first).
class Bubble {
  constructor() {
    this.element = addMessage("assistant");
    this.element.classList.add("streaming");
    this.parts = {};
    this.texts = {};
  }

  add(kind, text) {
    if (!this.parts[kind]) {
      const part = document.createElement("span");
      part.className = `part ${kind}`;
      if (kind === "guidance") part.setAttribute("role", "alert");
      const order = ["guidance", "answer", "note", "disclaimer", "error"];
      const next = order.slice(order.indexOf(kind) + 1).map((k) => this.parts[k]).find(Boolean);
      this.element.insertBefore(part, next || null);
      this.parts[kind] = part;
      this.texts[kind] = "";
    }
    this.texts[kind] += text;
    const shown = this.texts[kind].trim();
    this.parts[kind].textContent = shown;
    this.parts[kind].dir = direction(shown);
    this.element.dir = direction(Object.values(this.texts).join(" "));
    this.element.scrollIntoView({ block: "end" });
  }

  answer() {
    return (this.texts.answer || "").trim();
  }

  finish(meta) {
    this.element.classList.remove("streaming");
    if (meta) this.element.dataset.language = meta.language || "";
    if (meta && meta.interventions && meta.interventions.length) {
      this.element.dataset.interventions = meta.interventions.map((i) => i.type).join(" ");
    }
  }

  fail(message) {
    this.add("error", message);
    this.finish(null);
  }
}

// The events of a server-sent event stream, as parsed JSON; ends at [DONE] or when the stream does.
async function* events(body) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
      if (!data) continue;
      if (data === "[DONE]") return;
      yield JSON.parse(data);
    }
  }
}

function setBusy(busy) {
  $("send").disabled = busy;
  $("stop").hidden = !busy;
}

async function send(text) {
  const user = { role: "user", content: text };
  const shown = addMessage("user");
  shown.textContent = text;
  shown.dir = direction(text);
  const bubble = new Bubble();
  const controller = (state.controller = new AbortController());
  setBusy(true);
  try {
    const response = await fetch("v1/chat/completions", {
      method: "POST", headers: headers(), signal: controller.signal,
      body: JSON.stringify({ model: state.model || "medadapt", messages: [...state.history, user], stream: true }),
    });
    if (!response.ok) {
      const message = await errorText(response);
      if (response.status === 401) showAuth(message, true);
      bubble.fail(message);
      if (!$("input").value) $("input").value = text;  // to send again (after entering the key)
      return;
    }
    for await (const event of events(response.body)) {
      if (event.error) throw new Error(event.error.message);
      const choice = (event.choices || [])[0];
      const meta = event.medadapt || {};
      if (choice && choice.delta && choice.delta.content) bubble.add(meta.part || "answer", choice.delta.content);
      if (choice && choice.finish_reason) bubble.finish(meta);
    }
    bubble.finish(null);
    // the model's own answer only: guidance and disclaimer are the server's, added again when due
    state.history.push(user, { role: "assistant", content: bubble.answer() });
  } catch (error) {
    if (error.name === "AbortError") {
      bubble.finish(null);
      if (controller === state.controller) state.history.push(user, { role: "assistant", content: bubble.answer() });
    } else {
      bubble.fail(`The reply failed: ${error.message}`);
    }
  } finally {
    if (controller === state.controller) {
      state.controller = null;
      setBusy(false);
    }
  }
}

function reset() {
  if (state.controller) {
    const controller = state.controller;
    state.controller = null;
    controller.abort();
    setBusy(false);
  }
  state.history = [];
  $("log").replaceChildren();
  setStatus("New conversation.");
  $("input").focus();
}

$("composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("input").value.trim();
  if (!text || state.controller) return;
  $("input").value = "";
  send(text);
});
$("input").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
    event.preventDefault();
    $("composer").requestSubmit();
  }
});
$("stop").addEventListener("click", () => state.controller && state.controller.abort());
$("reset").addEventListener("click", reset);
$("use-key").addEventListener("click", () => {
  state.key = $("key").value.trim();
  sessionStorage.setItem("medadapt-api-key", state.key);
  loadModel();
});
$("key").addEventListener("keydown", (event) => {
  if (event.key === "Enter") $("use-key").click();
});
start();
