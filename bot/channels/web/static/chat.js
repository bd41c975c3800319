// Jiesu web chat: one conversation per browser (sender id kept in localStorage).
(function () {
  "use strict";
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  let sender = localStorage.getItem("jiesu-sender");
  if (!sender) {
    sender = "web:" + Math.random().toString(36).slice(2, 12);
    localStorage.setItem("jiesu-sender", sender);
  }

  function bubble(who, text) {
    const row = document.createElement("div");
    row.className = "msg " + who;
    const b = document.createElement("div");
    b.className = "bubble";
    b.textContent = text;
    row.appendChild(b);
    log.appendChild(row);
    log.scrollTop = log.scrollHeight;
    return row;
  }

  function buttons(list) {
    const box = document.createElement("div");
    box.className = "buttons";
    list.forEach(function (btn) {
      const el = document.createElement("button");
      el.type = "button";
      el.textContent = btn.title;
      el.addEventListener("click", function () {
        box.querySelectorAll("button").forEach(function (x) { x.disabled = true; });
        send(btn.payload, btn.title);
      });
      box.appendChild(el);
    });
    log.appendChild(box);
    log.scrollTop = log.scrollHeight;
  }

  function show(messages) {
    (messages || []).forEach(function (m) {
      if (m.text) bubble("bot", m.text);
      if (m.buttons && m.buttons.length) buttons(m.buttons);
    });
  }

  async function send(text, shown) {
    bubble("user", shown || text);
    try {
      const resp = await fetch("/api/chat", {
        method: "POST",
        headers: {"Content-Type": "application/json"},
        body: JSON.stringify({sender: sender, text: text, metadata: {channel: "web"}})
      });
      const body = await resp.json();
      if (body.messages) show(body.messages);
      if (body.held) awaitHeld();
      else bubble("error", (body.error && body.error.message) || "出错了，请稍后再试。");
    } catch (e) {
      bubble("error", "网络连接失败，请稍后再试。您的话没有发送成功。");
    }
  }

  form.addEventListener("submit", function (ev) {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim()) return;
    input.value = "";
    send(text);
  });
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); form.requestSubmit(); }
  });
  // Messages the hotline sent while the page was closed (e.g. the satisfaction callback).
  async function fetchPending() {
    try {
      const resp = await fetch("/api/chat/pending?sender=" + encodeURIComponent(sender));
      if (!resp.ok) return;
      const body = await resp.json();
      show(body.messages);
    } catch (e) {
      // Offline: the messages stay on the server until the next load.
    }
  }

  // The hotline was busy and kept the message: poll until its answer arrives (≤ 5 min).
  let heldPoll = null;
  function awaitHeld() {
    if (heldPoll) return;
    let tries = 0;
    heldPoll = setInterval(async function () {
      tries += 1;
      try {
        const resp = await fetch("/api/chat/pending?sender=" + encodeURIComponent(sender));
        const body = resp.ok ? await resp.json() : {messages: []};
        if ((body.messages && body.messages.length) || tries > 100) {
          clearInterval(heldPoll);
          heldPoll = null;
          show(body.messages);
        }
      } catch (e) {
        // Still unreachable: keep polling.
      }
    }, 3000);
  }

  window.jiesuSender = sender;
  bubble("bot", "您好，这里是12345市民服务热线智能受理。请直接说说您遇到的问题。");
  fetchPending();
})();
