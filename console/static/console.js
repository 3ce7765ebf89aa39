// Agent console front end: live queue (server-sent events), conversation view, replies, tickets,
// agent assist (summary, 智能填单, 常用语), search, shortcuts and notifications.
"use strict";

const CSRF = document.querySelector('meta[name="csrf-token"]').content;
const PAGE = document.body.dataset.page;
const SUPERVISOR = document.body.dataset.supervisor === "1";
const ME = document.body.dataset.me;
const USER = (document.querySelector("header .who") || {}).firstChild ? document.querySelector("header .who").firstChild.textContent.trim() : ME;
const $ = (id) => document.getElementById(id);
const CHANNELS = { socketio: "网页", rest: "接口", webchat: "网页", wechat: "公众号", miniprogram: "小程序", telegram: "Telegram" };
const LONG_WAIT = 120;  // seconds: a wait this long is highlighted

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

function showDone(text) {
  const box = $("done");
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

const typing = (target) => target && (target.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(target.tagName));
const conversationUrl = (id) => `/conversations/${encodeURIComponent(id)}`;

// --- new-conversation notice: title flash, a short beep, a desktop notification -----------------------
let flashTimer = null;
const baseTitle = document.title;
function notifyNew(count, question) {
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
  if ("Notification" in window && Notification.permission === "granted" && (document.hidden || !document.hasFocus())) {
    try {
      const note = new Notification(`${count}位市民等待人工`, { body: question || "新的转人工请求", tag: "bianmin-queue" });
      note.onclick = () => { window.focus(); window.location = "/"; };
    } catch (error) { /* notifications are optional */ }
  }
}
window.addEventListener("focus", () => { clearInterval(flashTimer); document.title = baseTitle; });

function notificationButton() {
  const header = document.querySelector("header.top");
  if (!header || !("Notification" in window) || Notification.permission !== "default") return;
  const button = el("button", { type: "button", id: "notify", onclick: () => Notification.requestPermission().then(() => button.remove()) }, "开启桌面通知");
  header.insertBefore(button, header.querySelector(".who"));
}

function stream(params, handlers) {
  const source = new EventSource("/api/stream" + (params ? "?" + new URLSearchParams(params) : ""));
  Object.entries(handlers).forEach(([event, handler]) =>
    source.addEventListener(event, (message) => handler(JSON.parse(message.data))));
  source.onerror = () => { const live = $("live"); if (live) live.textContent = "重新连接中…"; };
  return source;
}

// --- names ------------------------------------------------------------------------------------------
const SLOT_NAMES = { description: "问题描述", category: "问题类别", predicted_category: "预测类别", address: "地址",
  district: "区", occurred_at: "发生时间", person_name: "称呼", phone: "电话", department: "承办单位",
  subcategory: "二级类别", confidential: "保密", ticket_number: "工单号", last_ticket_number: "最近工单",
  route_confidence: "分类置信度", route_alternatives: "候选类别", service_rating: "服务评价" };
const INTENTS = { request_human: "转人工", file_complaint: "投诉建议", ask_question: "政策咨询", check_ticket: "查询工单",
  greet: "问候", deny: "否定", affirm: "肯定", inform: "补充信息", nlu_fallback: "未理解", out_of_scope: "超出范围",
  report_emergency: "紧急情况", chitchat: "闲聊", cancel: "取消" };
const SUMMARY_NAMES = { topic: "诉求", category: "类别", description: "描述", channel: "渠道",
  time: "转人工时间" };
function shown(key, value) {
  if (key === "channel") return CHANNELS[value] || value;
  if (key === "intent" || key === "topic") return INTENTS[value] || value;
  if (typeof value === "boolean") return value ? "是" : "否";
  if (Array.isArray(value)) return value.join("、");
  return String(value);
}
function topic(summary) {
  return summary.category || INTENTS[summary.topic] || "咨询";
}
const waitCell = (seconds, since) => el("td", { class: "wait" + (seconds >= LONG_WAIT ? " long" : ""), "data-since": since }, duration(seconds));

// --- queue page -------------------------------------------------------------------------------------
let lastQueue = null;

function emptyRow(columns, text) { return el("tr", {}, el("td", { colspan: columns, class: "empty" }, text)); }

function renderQueue(data) {
  lastQueue = data;
  const offset = Date.now() / 1000 - data.now;
  $("waiting").replaceChildren(...(data.waiting.length ? data.waiting.map((item, index) => el("tr", { "data-id": item.id, class: index === 0 ? "next" : "" },
    el("td", { class: "summary" }, el("a", { href: conversationUrl(item.id) }, item.question || "（市民未说明问题）")),
    waitCell(item.waited, item.queued_at + offset),
    el("td", {}, CHANNELS[item.summary.channel] || item.summary.channel || "网页"),
    el("td", {}, topic(item.summary)),
    el("td", {}, item.queued_clock || ""),
    el("td", { class: "row-actions" },
      el("button", { class: "primary", onclick: () => take(item.id) }, "接入"),
      SUPERVISOR ? el("button", { onclick: () => closeWaiting(item.id) }, "结束") : ""),
  )) : [emptyRow(6, "暂无等待的市民，新市民转人工时这里会提示")]));
  $("waiting-count").textContent = data.waiting.length;
  $("mine").replaceChildren(...(data.mine.length ? data.mine.map((item) => el("li", {},
    el("a", { href: conversationUrl(item.id) }, item.question || item.id.slice(0, 12)), ` · ${topic(item.summary)}`))
    : [el("li", { class: "empty" }, "您手上暂无会话")]));
  if (SUPERVISOR && data.active) renderSupervisor(data);
}

function renderSupervisor(data) {
  const scale = data.rating_scale || [];  // 好差评 from the server (bot/ticket_contract.py RATINGS)
  $("board-note").textContent = `等待 ${data.waiting.length} 位 · 最长等待 ${duration(data.longest_wait || 0)} · 服务中 ${data.active.length} 个`;
  $("agents").replaceChildren(...(data.agents.length ? data.agents.map((agent) => el("tr", {},
    el("td", {}, agent.display_name),
    el("td", {}, String(agent.holding)),
    el("td", {}, agent.holding ? duration(agent.longest) : "—"),
    el("td", {}, scale.map((r) => `${r} ${(agent.ratings || {})[r] || 0}`).join(" · ")))) : [emptyRow(4, "还没有坐席账号")]));
  $("active").replaceChildren(...(data.active.length ? data.active.map((item) => {
    const select = el("select", { "aria-label": "转派给" }, data.agents.map((agent) =>
      el("option", agent.name === item.agent ? { value: agent.name, selected: "" } : { value: agent.name }, agent.display_name)));
    return el("tr", {},
      el("td", { class: "summary" }, el("a", { href: conversationUrl(item.id) }, item.question || item.id.slice(0, 12))),
      el("td", {}, item.agent_name || item.agent),
      el("td", {}, duration(data.now - item.taken_at)),
      el("td", {}, topic(item.summary)),
      el("td", {}, select, el("button", { onclick: () => act(`/api/conversations/${encodeURIComponent(item.id)}/reassign`, { agent: select.value }) }, "转派")),
      el("td", {}, el("button", { onclick: () => act(`/api/conversations/${encodeURIComponent(item.id)}/close`) }, "结束")));
  }) : [emptyRow(6, "目前没有人工服务中的会话")]));
  $("ratings-head").replaceChildren(el("th", { scope: "col" }, "坐席"), ...scale.map((r) => el("th", { scope: "col" }, r)));
  const rows = Object.entries(data.ratings || {});
  $("ratings").replaceChildren(...(rows.length ? rows.map(([agent, counts]) =>
    el("tr", {}, el("td", {}, agent), ...scale.map((r) => el("td", {}, String(counts[r] || 0)))))
    : [emptyRow(scale.length + 1, "还没有市民评价")]));
}

function renderRows(target, rows, empty, button) {
  $(target).replaceChildren(...(rows.length ? rows.map((item) => el("li", {},
    el("a", { href: conversationUrl(item.id) }, item.question || item.id.slice(0, 12)),
    el("span", { class: "meta" }, [CHANNELS[item.channel] || item.channel || "", item.last, item.ticket ? `工单 ${item.ticket}` : "",
      item.waited !== undefined ? `已等 ${duration(item.waited)}` : ""].filter(Boolean).join(" · ")),
    button ? button(item) : "")) : [el("li", { class: "empty" }, empty)]));
}

async function refreshStuck() {
  try {
    const data = await api("GET", "/api/stuck");
    $("stuck-count").textContent = data.stuck.length;
    renderRows("stuck", data.stuck, "没有未进入队列的市民", (item) => el("button", { class: "primary", onclick: () => pickUp(item.id) }, "接入"));
  } catch (error) { showError(error.message); }
}

async function refreshSystem() {
  try {
    const data = await api("GET", "/api/system");
    $("system-notices").replaceChildren(...data.notices.map((line) => el("li", {}, line)));
    $("system").classList.toggle("hidden", data.notices.length === 0);
  } catch (error) { showError(error.message); }
}

async function refreshQueue() {
  try { renderQueue(await api("GET", "/api/queue")); showError(""); } catch (error) { showError(error.message); }
}

async function act(url, body) {
  try { await api("POST", url, body); showError(""); } catch (error) { showError(error.message); }
  if (PAGE === "queue") refreshQueue(); else loadConversation();
}

async function closeWaiting(id) {
  if (!confirm("结束这位市民的排队？系统会告诉市民排队已取消。")) return;
  await act(`/api/conversations/${encodeURIComponent(id)}/close`);
}

async function take(id) {
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(id)}/take`);
    window.location = conversationUrl(id);
  } catch (error) { showError(error.message); refreshQueue(); }
}

async function pickUp(id) {
  try {
    await api("POST", "/api/pickup", { id });
    window.location = conversationUrl(id);
  } catch (error) { showError(error.message); }
}

async function takeNext() {
  const data = await api("GET", "/api/queue");
  if (!data.waiting.length) { showError("现在没有等待的市民"); return false; }
  await take(data.waiting[0].id);
  return true;
}

function startQueuePage() {
  document.body.classList.toggle("supervisor", SUPERVISOR);
  notificationButton();
  refreshQueue();
  refreshStuck();
  refreshSystem();
  stream(null, {
    ready: () => { $("live").textContent = "实时"; document.body.dataset.live = "1"; refreshQueue(); },
    handoff: (event) => {
      refreshQueue().then(() => {
        if (event.type === "queued" && lastQueue) {
          const item = lastQueue.waiting.find((row) => row.id === event.id);
          notifyNew(lastQueue.waiting.length, item && item.question);
        }
      });
      refreshStuck();
    },
  });
  setInterval(() => document.querySelectorAll("td.wait").forEach((cell) => {
    const seconds = Date.now() / 1000 - Number(cell.dataset.since);
    cell.textContent = duration(seconds);
    cell.classList.toggle("long", seconds >= LONG_WAIT);
  }), 1000);
  setInterval(refreshStuck, 15000);
  setInterval(refreshSystem, 30000);
  document.addEventListener("keydown", (event) => {
    if (typing(event.target) || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === "n" || event.key === "N") { event.preventDefault(); takeNext().catch((error) => showError(error.message)); }
    if (event.key === "/") { event.preventDefault(); $("search-q").focus(); }
  });
  $("search").addEventListener("submit", async (event) => {
    event.preventDefault();
    const q = new FormData(event.target).get("q").trim();
    try {
      const data = await api("GET", "/api/search?" + new URLSearchParams({ q }));
      renderRows("results", data.results, `没有找到与“${q}”有关的会话`);
    } catch (error) { showError(error.message); }
  });
  $("pickup").addEventListener("submit", async (event) => {
    event.preventDefault();
    pickUp(new FormData(event.target).get("id").trim());
  });
}

// --- conversation page ------------------------------------------------------------------------------
const ROLE = { user: "市民", bot: "智能客服", agent: "客服", system: "" };
const CANNED = [
  "{称呼}您好，您反映的问题我已经记录，马上为您处理。",
  "请问具体是在哪个区、哪个小区或哪条路？",
  "请留一个方便联系您的电话，承办单位会在办理时与您联系。",
  "已为您登记工单，工单号：{工单号}。可以随时发送“查询工单 {工单号}”查看进度。",
  "这个问题需要承办单位核实，一般在5个工作日内答复，请您耐心等待。",
  "非常理解您的心情，给您带来不便很抱歉，我会尽力帮您解决。",
  "请问还有其他需要帮助的吗？没有的话我先把会话交回智能客服。",
  "您的工单{工单号}目前状态为“{状态}”，承办单位正在按时限办理，办结后会通知您。",
];
let conversation = null;
let conversationId = null;

function renderTranscript(turns) {
  const box = $("transcript");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  box.replaceChildren(...(turns.length ? turns.map((turn) => el("div", { class: `turn ${turn.role}` },
    turn.role === "system" ? "" : el("span", { class: "who" }, turn.role === "agent" ? `客服 ${turn.agent}` : ROLE[turn.role]),
    el("span", { class: "time" }, turn.time),
    el("div", { class: "text" }, turn.text),
    turn.buttons ? el("div", { class: "buttons" }, turn.buttons.map((title) => el("span", {}, title))) : ""))
    : [el("p", { class: "empty" }, "这位市民还没有说话")]));
  if (atBottom || !box.dataset.loaded) box.scrollTop = box.scrollHeight;
  box.dataset.loaded = "1";
}

function renderPairs(target, values, names) {
  $(target).replaceChildren(...Object.entries(values || {})
    .filter(([key, value]) => names[key] && value !== null && value !== "" && typeof value !== "object")
    .flatMap(([key, value]) => [el("dt", {}, names[key]), el("dd", {}, shown(key, value))]));
}

function renderQuestion(question) {
  $("question").textContent = question || "市民还没有说明要办的事";
  $("question-title").textContent = question ? (question.length > 30 ? question.slice(0, 30) + "…" : question) : "会话";
}

function replyBox() { return $("reply").elements.text; }

function fillReply(text) {
  const box = replyBox();
  box.value = text;
  box.focus();
  box.setSelectionRange(text.length, text.length);
}

function renderSuggestions(suggestions) {
  $("suggestions").replaceChildren(...(suggestions.length ? suggestions.map((hit) => el("li", {},
    el("strong", {}, hit.question), el("p", {}, hit.answer),
    conversation && conversation.mine ? el("button", { type: "button", onclick: () => fillReply(hit.answer) }, "填入回复") : ""))
    : [el("li", { class: "empty" }, "知识库里没有与市民问题相近的答案")]));
}

function latestTicket(field = "number") {
  return conversation && conversation.tickets && conversation.tickets.length ? conversation.tickets[0][field] : "";
}

function expand(template) {
  const slots = (conversation && conversation.slots) || {};
  return template.replace(/\{称呼\}/g, slots.person_name ? `${slots.person_name}，` : "")
    .replace(/\{坐席\}/g, USER).replace(/\{工单号\}/g, latestTicket() || "（保存工单后自动填入）")
    .replace(/\{状态\}/g, latestTicket("status") || "处理中");
}

function renderCanned() {
  $("canned").replaceChildren(...CANNED.map((template, index) => el("li", {},
    el("button", { type: "button", title: `Alt+${index + 1}`, onclick: () => fillReply(expand(template)) },
      el("kbd", {}, String(index + 1)), " ", template))));
}

const TICKET_FIELDS = ["category", "department", "description", "district", "address", "occurred_at", "name", "phone"];

function fillTicketForm(ticket) {
  const form = $("ticket");
  const values = ticket || conversation.draft || {};
  TICKET_FIELDS.forEach((name) => { form.elements[name].value = values[name] || ""; });
  form.elements.number.value = ticket ? ticket.number : "";
  $("ticket-title").textContent = ticket ? `编辑工单 ${ticket.number}` : "新建工单（已按会话预填）";
  form.querySelector("button[type=submit]").textContent = ticket ? "保存修改" : "保存工单并告知市民";
}

async function announce(number) {
  if (!number) { showError("这位市民还没有工单"); return; }
  try {
    await api("POST", `/api/conversations/${encodeURIComponent(conversationId)}/announce`, { number });
    showError(""); showDone(`已把工单号 ${number} 发给市民`);
  } catch (error) { showError(error.message); }
}

function renderTickets(data) {
  $("tickets").replaceChildren(...(data.tickets.length ? data.tickets.map((ticket) => el("li", {},
    el("code", {}, ticket.number), ` ${ticket.status} · ${ticket.category || ""} `,
    data.mine ? el("button", { type: "button", onclick: () => fillTicketForm(ticket) }, "编辑") : "",
    data.mine ? el("button", { type: "button", title: "Alt+T", onclick: () => announce(ticket.number) }, "发送工单号给市民") : ""))
    : [el("li", { class: "empty" }, data.tickets_error || "这位市民还没有工单")]));
}

function renderConversation(data) {
  const first = conversation === null || conversation.mine !== data.mine;
  conversation = data;
  const state = { waiting: "等待接入", active: data.mine ? "由我处理" : `由 ${data.agent_name || data.agent} 处理`, closed: "已结束", bot: "智能客服服务中" }[data.status];
  $("state").textContent = state || data.status;
  renderQuestion(data.question);
  renderTranscript(data.transcript);
  renderPairs("summary", data.summary, SUMMARY_NAMES);
  renderPairs("slots", data.slots, SLOT_NAMES);
  renderSuggestions(data.suggestions);
  renderTickets(data);
  $("take").classList.toggle("hidden", data.status !== "waiting");
  $("handback").classList.toggle("hidden", !data.mine);
  $("close").classList.toggle("hidden", !(data.mine || (SUPERVISOR && ["waiting", "active"].includes(data.status))));
  $("reply").classList.toggle("hidden", !data.mine);
  $("canned-box").classList.toggle("hidden", !data.mine);
  const form = $("ticket");
  if (data.mine && form.classList.contains("hidden")) { form.classList.remove("hidden"); fillTicketForm(null); }
  if (!data.mine) form.classList.add("hidden");
  if (data.mine && first) replyBox().focus();
}

async function loadConversation() {
  try { renderConversation(await api("GET", `/api/conversations/${encodeURIComponent(conversationId)}`)); }
  catch (error) { showError(error.message); }
}

async function refreshWaitingBadge(event) {
  try {
    const data = await api("GET", "/api/queue");
    const badge = $("waiting-badge");
    badge.textContent = data.waiting.length ? `${data.waiting.length}位市民等待接入` : "";
    badge.classList.toggle("hidden", !data.waiting.length);
    if (event && event.type === "queued") notifyNew(data.waiting.length, (data.waiting.find((row) => row.id === event.id) || {}).question);
  } catch (error) { /* the badge is a convenience */ }
}

async function finish(url) {
  try {
    await api("POST", url);
    window.location = "/";  // back to the queue for the next citizen
  } catch (error) { showError(error.message); loadConversation(); }
}

function startConversationPage() {
  const root = document.querySelector(".conversation");
  conversationId = root.dataset.conversation;
  const base = `/api/conversations/${encodeURIComponent(conversationId)}`;
  const select = $("ticket").elements.category;
  JSON.parse(root.dataset.categories).forEach((name) => select.append(el("option", { value: name }, name)));
  renderCanned();
  notificationButton();
  loadConversation();
  refreshWaitingBadge();
  stream({ conversation: conversationId }, {
    ready: () => { document.body.dataset.live = "1"; },
    transcript: (data) => {
      if (!conversation) return;
      renderTranscript(data.transcript);
      renderSuggestions(data.suggestions);
      renderQuestion(data.question);
    },
    handoff: (event) => { if (event.id === conversationId) loadConversation(); else refreshWaitingBadge(event); },
    problem: (data) => showError(data.error),
  });
  setInterval(() => {
    if (!conversation) return;
    const since = conversation.status === "active" ? conversation.taken_at : conversation.status === "waiting" ? conversation.queued_at : null;
    $("timer").textContent = since ? `${conversation.status === "waiting" ? "已等待" : "已服务"} ${duration(Date.now() / 1000 - since)}` : "";
  }, 1000);
  $("take").addEventListener("click", () => act(`${base}/take`));
  $("handback").addEventListener("click", () => finish(`${base}/handback`));
  $("close").addEventListener("click", () => { if (confirm("确定结束本次人工服务吗？")) finish(`${base}/close`); });
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
  reply.elements.text.addEventListener("keydown", (event) => { if (event.key === "Enter" && event.ctrlKey) { event.preventDefault(); send(); } });
  document.addEventListener("keydown", (event) => {
    if (!event.altKey || !conversation || !conversation.mine) return;
    const key = event.key.toLowerCase();
    if (/^[1-9]$/.test(event.key) && CANNED[Number(event.key) - 1]) { event.preventDefault(); fillReply(expand(CANNED[Number(event.key) - 1])); }
    else if (key === "h" || event.code === "KeyH") { event.preventDefault(); finish(`${base}/handback`); }
    else if (key === "t" || event.code === "KeyT") { event.preventDefault(); announce(latestTicket()); }
    else if (key === "s" || event.code === "KeyS") { event.preventDefault(); $("ticket").requestSubmit(); }
  });
  $("ticket-new").addEventListener("click", () => fillTicketForm(null));
  $("ticket").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = event.target;
    const fields = Object.fromEntries(TICKET_FIELDS.map((name) => [name, form.elements[name].value.trim() || null]));
    const number = form.elements.number.value;
    try {
      const ticket = await api("POST", number ? `${base}/tickets/${encodeURIComponent(number)}` : `${base}/tickets`, fields);
      showError("");
      showDone(number ? `工单 ${ticket.number} 已保存` : `工单 ${ticket.number} 已创建，工单号已发给市民`);
      await loadConversation();
      fillTicketForm(ticket);
    } catch (error) { showError(error.message); }
  });
}

if (PAGE === "queue") startQueuePage();
if (PAGE === "conversation") startConversationPage();
