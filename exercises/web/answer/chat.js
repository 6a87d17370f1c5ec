// The chat page: one WebSocket to the server that served this page. Every line
// that comes in was typed by a stranger, so it goes into the page as text
// (textContent), never as HTML: "<img src=x onerror=...>" shows as those
// characters and runs nothing.
"use strict";

const log = document.getElementById("log");
const form = document.getElementById("say");
const input = document.getElementById("line");
const me = document.getElementById("me");
const status = document.getElementById("status");

// The same host and port as the page, "wss:" if the page came over https.
const scheme = location.protocol === "https:" ? "wss://" : "ws://";
const socket = new WebSocket(scheme + location.host + "/chat");

// show adds one line to the log. kind picks its colour in chat.css.
function show(text, kind) {
  const li = document.createElement("li");
  li.textContent = text;
  if (kind) li.className = kind;
  // Follow the conversation, unless the user has scrolled up to read.
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  log.append(li);
  if (atBottom) log.scrollTop = log.scrollHeight;
}

// A chat line is "NAME: text"; anything else is the server talking.
const chatLine = /^[A-Za-z0-9_-]{1,20}: /;

socket.addEventListener("open", () => { status.textContent = "connected"; });

// A message holds one or more whole lines, each ending in "\n".
socket.addEventListener("message", (event) => {
  for (const line of String(event.data).split("\n")) {
    if (line === "") continue;
    let m;
    if ((m = /^(?:Welcome|You are now) ([A-Za-z0-9_-]+)/.exec(line))) me.textContent = "you are " + m[1];
    if ((m = /\((\d+) online\)/.exec(line))) status.textContent = m[1] + " online";
    if (line.startsWith("error: ")) show(line, "error");
    else if (chatLine.test(line)) show(line);
    else show(line, "notice");
  }
});

socket.addEventListener("close", () => {
  status.textContent = "disconnected";
  input.disabled = true;
  show("(the connection is closed: reload the page to join again)", "notice");
});

form.addEventListener("submit", (event) => {
  event.preventDefault();
  const text = input.value;
  if (text === "" || socket.readyState !== WebSocket.OPEN) return;
  socket.send(text + "\n"); // one line, ended as nc ends it
  if (!text.startsWith("/")) show("me: " + text, "mine"); // the server does not echo our own lines
  input.value = "";
});
