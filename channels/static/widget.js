/*
 * Bianmin web chat widget. Embed with one tag:
 *   <script src="https://<rasa-server>/webhooks/webchat/widget.js"></script>
 * Optional attributes: data-mode="page" (fill the page, no launcher button), data-server (Rasa origin),
 * data-socket-path (default /socket.io), data-title.
 * Talks to Rasa's socket.io channel (user_uttered / bot_uttered, session persistence). The session id and
 * the transcript are kept in localStorage, so a reload shows the conversation again.
 */
(function () {
  "use strict";
  if (window.BianminChat) { return; }

  var script = document.currentScript;
  var scriptUrl = new URL(script ? script.src : "/webhooks/webchat/widget.js", window.location.href);
  var base = scriptUrl.href.replace(/widget\.js(\?.*)?$/, "");
  var data = (script && script.dataset) || {};
  var config = {
    mode: data.mode === "page" ? "page" : "widget",
    server: data.server || scriptUrl.origin,
    socketPath: data.socketPath || "/socket.io",
    title: data.title || "12345便民服务 · 在线咨询"
  };
  var KEYS = { session: "bianmin.webchat.session", transcript: "bianmin.webchat.transcript",
               handoff: "bianmin.webchat.handoff" };
  var MAX_ENTRIES = 200;
  var HANDOFF_PREFIX = "【人工客服】";
  var TYPING_TIMEOUT_MS = 10000;
  var QUEUED_TEXT = /已为您转接人工客服|您前面还有|下一位就是您/;
  var BANNER = { waiting: "正在为您转接人工客服，请稍候…", agent: "人工客服已接入，正在为您服务。" };

  var CSS = [
    ".bm-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;",
    "background:#c0392b;color:#fff;font-size:16px;padding:14px 20px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".bm-panel{position:fixed;right:20px;bottom:84px;z-index:2147483001;width:360px;height:560px;max-height:calc(100vh - 110px);",
    "display:none;flex-direction:column;background:#fff;border-radius:12px;overflow:hidden;box-shadow:0 8px 30px rgba(0,0,0,.25);",
    "font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;font-size:15px;color:#222}",
    ".bm-panel.bm-open{display:flex}",
    ".bm-panel.bm-page{position:static;display:flex;width:100%;max-width:720px;height:100vh;max-height:none;margin:0 auto;",
    "border-radius:0;box-shadow:none}",
    ".bm-header{background:#c0392b;color:#fff;padding:12px 14px;display:flex;align-items:center;justify-content:space-between}",
    ".bm-header-title{font-weight:bold}",
    ".bm-close{background:none;border:0;color:#fff;font-size:22px;cursor:pointer;line-height:1}",
    ".bm-header{order:0}.bm-status{order:1}.bm-handoff{order:2}.bm-log{order:3}.bm-typing{order:4}.bm-form{order:5}",
    ".bm-close:focus-visible,.bm-launcher:focus-visible,.bm-choice:focus-visible,.bm-send:focus-visible,.bm-input:focus-visible{outline:3px solid #f0b429;outline-offset:1px}",
    ".bm-status{background:#fff3cd;color:#6b4f00;font-size:13px;padding:6px 12px;display:none}",
    ".bm-status.bm-show{display:block}",
    ".bm-handoff{background:#e8f5e9;color:#1b5e20;font-size:13px;padding:6px 12px;display:none}",
    ".bm-handoff.bm-waiting{background:#fff8e1;color:#6b4f00}",
    ".bm-handoff.bm-show{display:block}",
    ".bm-log{flex:1;overflow-y:auto;padding:12px;background:#f4f6f8;position:relative}",
    ".bm-row{display:flex;flex-direction:column;margin:8px 0}",
    ".bm-row.bm-user{align-items:flex-end}",
    ".bm-row.bm-bot,.bm-row.bm-agent{align-items:flex-start}",
    ".bm-label{font-size:12px;color:#595959;margin:0 4px 2px}",
    ".bm-bubble{max-width:82%;padding:9px 12px;border-radius:10px;white-space:pre-wrap;word-break:break-word;line-height:1.5}",
    ".bm-user .bm-bubble{background:#c0392b;color:#fff}",
    ".bm-bot .bm-bubble{background:#fff;border:1px solid #e3e3e3}",
    ".bm-agent .bm-bubble{background:#e8f5e9;border:1px solid #a5d6a7}",
    ".bm-bubble img{max-width:100%;display:block}",
    ".bm-notice{text-align:center;font-size:12px;color:#595959;margin:10px 0}",
    ".bm-buttons{display:flex;flex-wrap:wrap;gap:6px;margin-top:6px;max-width:90%}",
    ".bm-choice{border:1px solid #c0392b;background:#fff;color:#c0392b;border-radius:16px;padding:6px 12px;font-size:14px;cursor:pointer}",
    ".bm-choice:disabled{opacity:.5;cursor:default}",
    ".bm-typing{font-size:13px;color:#595959;padding:0 14px 6px;display:none;background:#f4f6f8}",
    ".bm-typing.bm-show{display:block}",
    ".bm-form{display:flex;border-top:1px solid #e3e3e3;padding:8px;gap:8px;background:#fff}",
    ".bm-input{flex:1;min-width:0;border:1px solid #767676;border-radius:18px;padding:8px 12px;font-size:16px;color:#222}",
    ".bm-input::placeholder{color:#6b6b6b}",
    ".bm-send{border:0;border-radius:18px;background:#c0392b;color:#fff;padding:8px 16px;font-size:15px;cursor:pointer}",
    "@media (max-width:480px){.bm-panel:not(.bm-page){right:0;bottom:0;width:100vw;height:100%;max-height:100%;border-radius:0}",
    ".bm-launcher{right:12px;bottom:12px}}"
  ].join("");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function load(key, fallback) {
    try { var value = window.localStorage.getItem(key); return value === null ? fallback : JSON.parse(value); }
    catch (e) { return fallback; }
  }

  function save(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* private mode: no history */ }
  }

  var state = {
    sessionId: load(KEYS.session, null),
    transcript: load(KEYS.transcript, []),
    handoff: normaliseMode(load(KEYS.handoff, "bot")),
    queue: [],
    confirmed: false,
    socket: null,
    typingTimer: null
  };

  var ui = {};

  /* The handoff state: "bot", "waiting" (queued for an agent) or "agent" (an agent is talking). */
  function normaliseMode(value) {
    if (value === true) { return "agent"; }
    return value === "waiting" || value === "agent" ? value : "bot";
  }

  function buildUi() {
    var style = el("style");
    style.textContent = CSS;
    document.head.appendChild(style);

    ui.panel = el("section", "bm-panel" + (config.mode === "page" ? " bm-page" : ""));
    ui.panel.id = "bm-panel";
    ui.panel.setAttribute("aria-label", config.title);
    ui.panel.addEventListener("keydown", function (event) {
      if ((event.key === "Escape" || event.key === "Esc") && config.mode !== "page") {
        event.preventDefault();
        toggle(false);
      }
    });
    var header = el("div", "bm-header");
    header.appendChild(el("span", "bm-header-title", config.title));
    if (config.mode !== "page") {
      var close = el("button", "bm-close", "×");
      close.type = "button";
      close.setAttribute("aria-label", "关闭");
      close.addEventListener("click", function () { toggle(false); });
      header.appendChild(close);
    }
    ui.status = el("div", "bm-status");
    ui.status.setAttribute("role", "status");
    ui.handoff = el("div", "bm-handoff", BANNER.agent);
    ui.handoff.setAttribute("role", "status");
    ui.log = el("div", "bm-log");
    ui.log.setAttribute("role", "log");
    ui.log.setAttribute("aria-live", "polite");
    ui.log.setAttribute("aria-label", "对话记录");
    ui.log.tabIndex = 0;
    ui.typing = el("div", "bm-typing", "正在输入…");
    ui.typing.setAttribute("aria-hidden", "true");
    ui.form = el("form", "bm-form");
    ui.input = el("input", "bm-input");
    ui.input.type = "text";
    ui.input.placeholder = "请输入您的问题";
    ui.input.setAttribute("aria-label", "输入消息");
    ui.input.maxLength = 1000;
    var send = el("button", "bm-send", "发送");
    send.type = "submit";
    ui.form.appendChild(ui.input);
    ui.form.appendChild(send);
    ui.form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = ui.input.value.trim();
      if (!text) { return; }
      ui.input.value = "";
      say(text, text);
    });
    // the input comes before the conversation's buttons in tab order; CSS `order` keeps it at the bottom
    [header, ui.status, ui.handoff, ui.form, ui.log, ui.typing].forEach(function (n) { ui.panel.appendChild(n); });
    document.body.appendChild(ui.panel);

    if (config.mode !== "page") {
      ui.launcher = el("button", "bm-launcher", "在线咨询");
      ui.launcher.type = "button";
      ui.launcher.setAttribute("aria-expanded", "false");
      ui.launcher.setAttribute("aria-controls", "bm-panel");
      ui.launcher.addEventListener("click", function () { toggle(!ui.panel.classList.contains("bm-open")); });
      document.body.appendChild(ui.launcher);
    }
    state.transcript.forEach(function (entry) { render(entry, true); });
    showHandoff(state.handoff);
    scrollDown();
  }

  function toggle(open) {
    ui.panel.classList.toggle("bm-open", open);
    if (ui.launcher) {
      ui.launcher.setAttribute("aria-expanded", open ? "true" : "false");
      if (open) { ui.launcher.textContent = "在线咨询"; }
    }
    if (open) {
      ui.input.focus();
      scrollDown();
      greetOnce();
    } else if (ui.launcher) {
      ui.launcher.focus();
    }
  }

  /* A first visit opens with the bot's greeting and its menu (the bot answers a silent /greet). */
  function greetOnce() {
    if (state.transcript.length || state.greeted) { return; }
    state.greeted = true;
    setTyping(true);
    send("/greet");
  }

  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  function setStatus(text) {
    ui.status.textContent = text || "";
    ui.status.classList.toggle("bm-show", !!text);
  }

  function showHandoff(mode, text) {
    state.handoff = normaliseMode(mode);
    save(KEYS.handoff, state.handoff);
    ui.handoff.textContent = text || BANNER[state.handoff] || "";
    ui.handoff.classList.toggle("bm-show", state.handoff !== "bot");
    ui.handoff.classList.toggle("bm-waiting", state.handoff === "waiting");
    if (state.handoff !== "bot") { setTyping(false); }
  }

  function setTyping(on) {
    clearTimeout(state.typingTimer);
    on = on && state.handoff === "bot";  // nobody types while the citizen waits for an agent
    ui.typing.classList.toggle("bm-show", on);
    if (on) { state.typingTimer = setTimeout(function () { setTyping(false); }, TYPING_TIMEOUT_MS); }
  }

  function remember(entry) {
    state.transcript.push(entry);
    if (state.transcript.length > MAX_ENTRIES) { state.transcript = state.transcript.slice(-MAX_ENTRIES); }
    save(KEYS.transcript, state.transcript);
  }

  function render(entry, fromHistory) {
    if (entry.role === "notice") {
      ui.log.appendChild(el("div", "bm-notice", entry.text));
      return;
    }
    var row = el("div", "bm-row bm-" + entry.role);
    if (entry.label) { row.appendChild(el("div", "bm-label", entry.label)); }
    if (entry.text) { row.appendChild(el("div", "bm-bubble", entry.text)); }
    if (entry.image) {
      var bubble = el("div", "bm-bubble");
      var img = el("img");
      img.src = entry.image;
      img.alt = "图片";
      bubble.appendChild(img);
      row.appendChild(bubble);
    }
    if (entry.buttons && entry.buttons.length) {
      var box = el("div", "bm-buttons");
      entry.buttons.forEach(function (button) {
        var choice = el("button", "bm-choice", button.title);
        choice.type = "button";
        choice.disabled = !!entry.answered || (fromHistory && entry !== lastWithButtons());
        choice.addEventListener("click", function () {
          entry.answered = true;
          save(KEYS.transcript, state.transcript);
          Array.prototype.forEach.call(box.querySelectorAll("button"), function (b) { b.disabled = true; });
          ui.input.focus();  // the pressed button is disabled: keep the keyboard in the conversation
          say(button.title, button.payload);
        });
        box.appendChild(choice);
      });
      row.appendChild(box);
    }
    ui.log.appendChild(row);
    if (!fromHistory && entry.role !== "user" && row.offsetHeight > ui.log.clientHeight - 24) {
      ui.log.scrollTop = Math.max(0, row.offsetTop - 8);  // a long answer is read from its start
    } else {
      scrollDown();
    }
  }

  function lastWithButtons() {
    for (var i = state.transcript.length - 1; i >= 0; i--) {
      if (state.transcript[i].buttons && state.transcript[i].buttons.length) { return state.transcript[i]; }
    }
    return null;
  }

  function add(entry) {
    remember(entry);
    render(entry, false);
  }

  /* Shows `shown` as the citizen's message and sends `message` (a payload for buttons) to the bot. */
  function say(shown, message) {
    add({ role: "user", text: shown });
    setTyping(true);
    send(message);
  }

  function send(message) {
    if (state.confirmed && state.socket && state.socket.connected) {
      emitMessage(message);
    } else {
      state.queue.push(message);
    }
  }

  function emitMessage(message) {
    state.socket.emit("user_uttered", { message: message, session_id: state.sessionId });
  }

  function onBotMessage(message) {
    if (!message || typeof message !== "object") { return; }
    setTyping(false);
    var metadata = message.metadata || {};
    var custom = message.custom || {};
    var text = typeof message.text === "string" ? message.text : (typeof custom.text === "string" ? custom.text : "");
    var handoff = metadata.handoff || custom.handoff;
    var takenOver = handoff === "taken" || text.indexOf(HANDOFF_PREFIX) === 0 || !!metadata.agent;
    if (handoff === "released") {
      showHandoff("bot");
      if (!metadata.agent) {  // the hotline's own notice: shown as one, not as a bubble
        add({ role: "notice", text: text || "人工客服已结束服务，智能客服继续为您服务。" });
        return;
      }
    } else if (handoff === "queued" || (!takenOver && QUEUED_TEXT.test(text))) {
      showHandoff("waiting", text.replace(/^排队更新：/, "") || BANNER.waiting);
      if (handoff === "queued") { return; }  // a position update only changes the banner
    } else if (takenOver && state.handoff !== "agent") {
      showHandoff("agent");
      add({ role: "notice", text: "人工客服已接入" });
    } else if (!takenOver && state.handoff !== "bot") {
      showHandoff("bot");  // the bot speaks again: the agent's service is over (e.g. session expired)
    }
    var image = message.attachment && message.attachment.payload && message.attachment.payload.src;
    var buttons = (message.quick_replies || message.buttons || []).map(function (b) {
      return { title: String(b.title || b.payload || ""), payload: String(b.payload || b.title || "") };
    });
    if (!text && !image && !buttons.length) { return; }
    var entry = { role: metadata.agent ? "agent" : "bot", text: text, buttons: buttons };
    entry.label = metadata.agent ? "人工客服 · " + metadata.agent : (takenOver ? "人工客服" : "智能客服");
    if (image) { entry.image = image; }
    add(entry);
    if (config.mode !== "page" && !ui.panel.classList.contains("bm-open") && ui.launcher) {
      ui.launcher.textContent = "在线咨询（有新消息）";  // the button's name: read out by screen readers too
    }
  }

  function connect() {
    var socket = window.io(config.server, { path: config.socketPath, transports: ["websocket", "polling"],
                                            reconnection: true, reconnectionDelayMax: 10000 });
    state.socket = socket;
    socket.on("connect", function () {
      setStatus("");
      socket.emit("session_request", { session_id: state.sessionId });
    });
    socket.on("session_confirm", function (sessionId) {
      var id = typeof sessionId === "string" ? sessionId : (sessionId && sessionId.session_id);
      if (id && id !== state.sessionId) {
        state.sessionId = id;
        save(KEYS.session, id);
      }
      state.confirmed = true;
      var waiting = state.queue;
      state.queue = [];
      waiting.forEach(emitMessage);
    });
    socket.on("bot_uttered", onBotMessage);
    socket.on("disconnect", function () {
      state.confirmed = false;
      setStatus("连接已断开，正在重新连接…");
    });
    socket.on("connect_error", function () { setStatus("暂时连不上服务器，正在重试…（紧急情况请直接拨打110/119/120）"); });
  }

  function withSocketIo(callback) {
    if (window.io) { callback(); return; }
    var tag = document.createElement("script");
    tag.src = base + "socket.io.min.js";
    tag.onload = callback;
    tag.onerror = function () { setStatus("在线咨询加载失败，请刷新页面或拨打12345。"); };
    document.head.appendChild(tag);
  }

  function start() {
    buildUi();
    if (config.mode === "page") { ui.input.focus(); greetOnce(); }
    withSocketIo(connect);
  }

  window.BianminChat = { open: function () { toggle(true); } };
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
