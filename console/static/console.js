// Agent console front end: live queue (server-sent events), conversation view, replies, tickets.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const PAGE = document.body.dataset.page;
const SUPERVISOR = document.body.dataset.supervisor === "1";
const $ = (id) => document.getElementById(id);
const CHANNELS = { socketio: "网页", rest: "接口", webchat: "网页", wechat: "公众号", miniprogram: "小程序", telegram: "Telegram" };

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  Object.entries(attrs || {}).forEach(([key, value]) => {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  });
  children.flat().forEach((child) => node.append(child instanceof Node ? child : document.createTextNode(child ?? "")));
  return node;
}

function showError(text) {
  const box = $("message");
  if (!box) return;
  box.textContent = text || "";
  box.classList.toggle("hidden", !text);
}

async function api(method, url, body) {
  const response = await fetch(url, {
    method, credentials: "same-origin",
    headers: { "Content-Type": "application/json", "X-CSRF-Token": CSRF },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { window.location = "/login"; throw new Error("请先登录"); }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
  return data;
}

function duration(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  const minutes = Math.floor(seconds / 60);
  return minutes ? `${minutes}分${seconds % 60}秒` : `${seconds}秒`;
}

// --- new-conversation notice: title flash and a short beep ------------------------------------------
let flashTimer = null;
const baseTitle = document.title;
function notifyNew(count) {
  clearInterval(flashTimer);
  let on = false;
  flashTimer = setInterval(() => { on = !on; document.title = on ? `【${count}位市民等待】` : baseTitle; }, 800);
  try {
    const audio = new (window.AudioContext || window.webkitAudioContext)();
    const tone = audio.createOscillator();
    tone.frequency.value = 880;
    tone.connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.2);
  } catch (error) { /* sound is optional */ }
}
window.addEventListener("focus", () => { clearInterval(flashTimer); document.title = baseTitle; });

function stream(params, handlers) {
  const source = new EventSource("/api/stream" + (params ? "?" + new URLSearchParams(params) : ""));
  Object.entries(handlers).forEach(([event, handler]) =>
    source.addEventListener(event, (message) => handler(JSON.parse(message.data))));
  source.onerror = () => { const live = $("live"); if (live) live.textContent = "重新连接中…"; };
  return source;
}

// --- queue page -------------------------------------------------------------------------------------
function topic(summary) {
  return summary.category || INTENTS[summary.topic] || summary.topic || INTENTS[summary.intent] || "—";
}

function renderQueue(data) {
  const offset = Date.now() / 1000 - data.now;
  const waiting = $("waiting");
  waiting.replaceChildren(...(data.waiting.length ? data.waiting.map((item) => el("tr", { "data-id": item.id },
    el("td", {}, el("a", { href: `/conversations/${encodeURIComponent(item.id)}` }, item.id.slice(0, 12))),
    el("td", { class: "wait", "data-since": item.queued_at + offset }, duration(item.waited)),
    el("td", {}, CHANNELS[item.summary.channel] || item.summary.channel || "—"),
    el("td", {}, topic(item.summary)),
    el("td", { class: "summary" }, item.summary.description || item.summary.last_message || ""),
    el("td", {}, el("button", { class: "primary", onclick: () => take(item.id) }, "接入")),
  )) : [el("tr", {}, el("td", { colspan: 6, class: "empty" }, "暂无等待的市民"))]));
  $("waiting-count").textContent = data.waiting.length;
  $("mine").replaceChildren(...(data.mine.length ? data.mine.map((item) => el("li", {},
    el("a", { href: `/conversations/${encodeURIComponent(item.id)}` }, `${item.id.slice(0, 12)} · ${topic(item.summary)}`)))
    : [el("li", { class: "empty" }, "暂无")]));
  if (SUPERVISOR && data.active) renderSupervisor(data);
}

function renderSupervisor(data) {
  $("active").replaceChildren(...data.active.map((item) => {
    const select = el("select", {}, data.agents.map((agent) =>
      el("option", agent.name === item.agent ? { value: agent.name, selected: "" } : { value: agent.name }, agent.display_name)));
    return el("tr", {},
      el("td", {}, el("a", { href: `/conversations/${encodeURIComponent(item.id)}` }, item.id.slice(0, 12))),
      el("td", {}, item.agent_name || item.agent),
      el("td", {}, duration(data.now - item.taken_at)),
      el("td", {}, topic(item.summary)),
      el("td", {}, select, el("button", { onclick: () => act(`/api/conversations/${encodeURIComponent(item.id)}/reassign`, { agent: select.value }) }, "转派")),
      el("td", {}, el("button", { onclick: () => act(`/api/conversations/${encodeURIComponent(item.id)}/close`) }, "结束")));
  }));
  const scale = data.rating_scale || [];  // 好差评 from the server (bot/ticket_contract.py RATINGS)
  $("ratings-head").replaceChildren(el("th", {}, "坐席"), ...scale.map((r) => el("th", {}, r)));
  $("ratings").replaceChildren(...Object.entries(data.ratings || {}).map(([agent, counts]) =>
    el("tr", {}, el("td", {}, agent), ...scale.map((r) => el("td", {}, String(counts[r] || 0))))));
}

async function refreshQueue() {
  try { renderQueue(await api("GET", "/api/queue")); showError(""); } catch (error) { showError(error.message); }
}

async function act(url, body) {
  try { await api("POST", url, body); showError(""); } catch (error) { showError(error.message); }
  if (PAGE === "queue") refreshQueue(); else loadConversation();
}

async function take(id) {
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(id)}/take`);
    window.location = `/conversations/${encodeURIComponent(id)}`;
  } catch (error) { showError(error.message); refreshQueue(); }
}

function startQueuePage() {
  document.body.classList.toggle("supervisor", SUPERVISOR);
  refreshQueue();
  stream(null, {
    ready: () => { $("live").textContent = "实时"; document.body.dataset.live = "1"; refreshQueue(); },
    handoff: (event) => {
      refreshQueue().then(() => { if (event.type === "queued") notifyNew($("waiting-count").textContent); });
    },
  });
  setInterval(() => document.querySelectorAll("td.wait").forEach((cell) =>
    cell.textContent = duration(Date.now() / 1000 - Number(cell.dataset.since))), 1000);
  $("pickup").addEventListener("submit", async (event) => {
    event.preventDefault();
    const id = new FormData(event.target).get("id").trim();
    try {
      await api("POST", "/api/pickup", { id });
      window.location = `/conversations/${encodeURIComponent(id)}`;
    } catch (error) { showError(error.message); }
  });
}

// --- conversation page ------------------------------------------------------------------------------
const ROLE = { user: "市民", bot: "机器人", agent: "客服", system: "" };
const SLOT_NAMES = { description: "问题描述", category: "问题类别", predicted_category: "预测类别", address: "地址",
  district: "区", occurred_at: "发生时间", person_name: "称呼", phone: "电话", department: "承办单位",
  subcategory: "二级类别", confidential: "保密", ticket_number: "工单号", last_ticket_number: "最近工单",
  route_confidence: "分类置信度", route_alternatives: "候选类别", service_rating: "服务评价" };
const INTENTS = { request_human: "转人工", file_complaint: "投诉建议", ask_question: "政策咨询", check_ticket: "查询工单",
  greet: "问候", deny: "否定", affirm: "肯定", inform: "补充信息", nlu_fallback: "未理解", out_of_scope: "超出范围",
  report_emergency: "紧急情况", chitchat: "闲聊", cancel: "取消" };
function shown(key, value) {
  if (key === "channel") return CHANNELS[value] || value;
  if (key === "intent" || key === "topic") return INTENTS[value] || value;
  if (key === "time") return String(value).replace("T", " ").slice(0, 19);
  if (Array.isArray(value)) return value.join("、");
  return String(value);
}
const SUMMARY_NAMES = { topic: "诉求", intent: "最新意图", category: "类别", description: "描述", channel: "渠道",
  last_message: "最后一句话", time: "转人工时间" };
let conversation = null;

function renderTranscript(turns) {
  const box = $("transcript");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...turns.map((turn) => el("div", { class: `turn ${turn.role}` },
    el("span", { class: "who" }, turn.role === "agent" ? `客服 ${turn.agent}` : ROLE[turn.role]),
    el("span", { class: "time" }, turn.time),
    el("div", { class: "text" }, turn.text),
    turn.buttons ? el("div", { class: "buttons" }, turn.buttons.map((title) => el("span", {}, title))) : "")));
  if (atBottom || !box.dataset.loaded) box.scrollTop = box.scrollHeight;
  box.dataset.loaded = "1";
}

function renderPairs(target, values, names) {
  $(target).replaceChildren(...Object.entries(values || {}).filter(([, value]) => value !== null && value !== "" && typeof value !== "object")
    .flatMap(([key, value]) => [el("dt", {}, names[key] || key), el("dd", {}, shown(key, value))]));
}

function renderSuggestions(suggestions) {
  $("suggestions").replaceChildren(...(suggestions.length ? suggestions.map((hit) => el("li", {},
    el("strong", {}, hit.question), el("p", {}, hit.answer),
    conversation && conversation.mine ? el("button", { onclick: () => { document.querySelector("#reply textarea").value = hit.answer; } }, "填入回复") : ""))
    : [el("li", { class: "empty" }, "没有匹配的知识库答案")]));
}

function fillTicketForm(ticket) {
  const form = $("ticket");
  const slots = conversation.slots || {};
  const values = ticket || { category: slots.category || slots.predicted_category, description: slots.description,
    district: slots.district, address: slots.address, occurred_at: slots.occurred_at, name: slots.person_name, phone: slots.phone };
  ["category", "description", "district", "address", "occurred_at", "name", "phone"].forEach((name) => { form.elements[name].value = values[name] || ""; });
  form.elements.number.value = ticket ? ticket.number : "";
  $("ticket-title").textContent = ticket ? `编辑工单 ${ticket.number}` : "新建工单";
}

function renderTickets(data) {
  $("tickets").replaceChildren(...(data.tickets.length ? data.tickets.map((ticket) => el("li", {},
    el("code", {}, ticket.number), ` ${ticket.status} · ${ticket.category || ""} `,
    data.mine ? el("button", { onclick: () => fillTicketForm(ticket) }, "编辑") : ""))
    : [el("li", { class: "empty" }, data.tickets_error || "暂无工单")]));
}

function renderConversation(data) {
  conversation = data;
  const state = { waiting: "等待接入", active: data.mine ? "由我处理" : `由 ${data.agent} 处理`, closed: "已结束", bot: "机器人服务中" }[data.status];
  $("state").textContent = state || data.status;
  renderTranscript(data.transcript);
  renderPairs("summary", data.summary, SUMMARY_NAMES);
  renderPairs("slots", data.slots, SLOT_NAMES);
  renderSuggestions(data.suggestions);
  renderTickets(data);
  $("take").classList.toggle("hidden", data.status !== "waiting");
  $("handback").classList.toggle("hidden", !data.mine);
  $("close").classList.toggle("hidden", !(data.mine || (SUPERVISOR && ["waiting", "active"].includes(data.status))));
  $("reply").classList.toggle("hidden", !data.mine);
  const form = $("ticket");
  if (data.mine && form.classList.contains("hidden")) { form.classList.remove("hidden"); fillTicketForm(null); }
  if (!data.mine) form.classList.add("hidden");
}

async function loadConversation() {
  const id = document.querySelector(".conversation").dataset.conversation;
  try { renderConversation(await api("GET", `/api/conversations/${encodeURIComponent(id)}`)); }
  catch (error) { showError(error.message); }
}

function startConversationPage() {
  const root = document.querySelector(".conversation");
  const id = root.dataset.conversation;
  const base = `/api/conversations/${encodeURIComponent(id)}`;
  const select = $("ticket").elements.category;
  JSON.parse(root.dataset.categories).forEach((name) => select.append(el("option", { value: name }, name)));
  loadConversation();
  stream({ conversation: id }, {
    ready: () => { document.body.dataset.live = "1"; },
    transcript: (data) => { if (conversation) { renderTranscript(data.transcript); renderSuggestions(data.suggestions); } },
    handoff: (event) => { if (event.id === id) loadConversation(); },
    problem: (data) => showError(data.error),
  });
  $("take").addEventListener("click", () => act(`${base}/take`));
  $("handback").addEventListener("click", () => act(`${base}/handback`));
  $("close").addEventListener("click", () => { if (confirm("确定结束本次人工服务吗？")) act(`${base}/close`); });
  const reply = $("reply");
  const send = async () => {
    const text = reply.elements.text.value.trim();
    if (!text) return;
    try {
      await api("POST", `${base}/reply`, { text });
      reply.elements.text.value = "";
      showError("");
      loadConversation();
    } catch (error) { showError(error.message); }
  };
  reply.addEventListener("submit", (event) => { event.preventDefault(); send(); });
  reply.elements.text.addEventListener("keydown", (event) => { if (event.key === "Enter" && event.ctrlKey) send(); });
  $("ticket-new").addEventListener("click", () => fillTicketForm(null));
  $("ticket").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const fields = Object.fromEntries(["category", "description", "district", "address", "occurred_at", "name", "phone"]
      .map((name) => [name, form.elements[name].value.trim() || null]));
    const number = form.elements.number.value;
    try {
      const ticket = await api("POST", number ? `${base}/tickets/${encodeURIComponent(number)}` : `${base}/tickets`, fields);
      showError("");
      fillTicketForm(ticket);
      loadConversation();
    } catch (error) { showError(error.message); }
  });
}

if (PAGE === "queue") startQueuePage();
if (PAGE === "conversation") startConversationPage();
