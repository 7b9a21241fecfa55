/**
 * The chat page served at `/`: one small HTML file, no build step, no external assets. It lists the chat's
 * messages, sends with POST, follows the live stream (SSE), and shows the WhatsApp QR code while pairing.
 * Its URLs are relative to the page's own address, so it works behind a path prefix (Boilerhouse's gateway
 * serves it at /{workload}/{tenant}/) as well as at a host's root.
 */
import { escapeXml } from '../router/prompt.ts';

/** `heartbeatMs`: how often the stream pings; a page that hears nothing for two pings opens it again. */
export function chatPage(assistantName: string, heartbeatMs: number): string {
  const name = escapeXml(assistantName);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${name}</title>
<style>
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.4 system-ui, sans-serif; background: #f4f4f5; color: #18181b;
    display: flex; flex-direction: column; height: 100dvh; }
  header { padding: .6rem 1rem; background: #18181b; color: #fafafa; display: flex; gap: .5rem; align-items: baseline; }
  header h1 { font-size: 1.1rem; margin: 0; }
  header small { opacity: .7; }
  #pairing { display: none; padding: 1rem; background: #fff7ed; text-align: center; }
  #pairing svg { width: 240px; height: 240px; }
  #log { flex: 1; overflow-y: auto; padding: 1rem; display: flex; flex-direction: column; gap: .5rem; }
  .msg { max-width: 85%; padding: .5rem .75rem; border-radius: .75rem; background: #fff; white-space: pre-wrap;
    overflow-wrap: anywhere; box-shadow: 0 1px 1px #0001; }
  .msg.mine { align-self: flex-end; background: #dbeafe; }
  .msg .meta { font-size: .75rem; opacity: .6; margin-bottom: .15rem; }
  #typing { min-height: 1.4rem; padding: 0 1rem; font-size: .85rem; opacity: .7; }
  form { display: flex; gap: .5rem; padding: .6rem; background: #fff; border-top: 1px solid #e4e4e7; }
  #sender { width: 6.5rem; }
  #text { flex: 1; }
  input, button { font: inherit; padding: .5rem .6rem; border: 1px solid #d4d4d8; border-radius: .5rem; }
  button { background: #18181b; color: #fff; border: 0; }
  #error { color: #b91c1c; padding: 0 1rem; font-size: .85rem; }
</style>
</head>
<body>
<header><h1>${name}</h1><small id="chat"></small><small id="state"></small></header>
<div id="pairing"><p>Link WhatsApp: scan this code in WhatsApp, Settings, Linked devices.</p><div id="qr"></div><p id="code"></p></div>
<main id="log" aria-live="polite"></main>
<div id="typing"></div>
<div id="error" role="alert"></div>
<form id="form">
  <input id="sender" aria-label="Your name" placeholder="Your name" required maxlength="64">
  <input id="text" aria-label="Message" placeholder="Message" autocomplete="off" required maxlength="32000">
  <button>Send</button>
</form>
<script>
const chat = new URLSearchParams(location.search).get('chat') || 'main';
// The page's own directory, with or without the trailing slash it was opened at (a prefix serves both).
const root = location.pathname.endsWith('/') ? location.pathname : location.pathname + '/';
const api = root + 'api/chats/' + encodeURIComponent(chat);
const log = document.getElementById('log');
const seen = new Set();
const senderInput = document.getElementById('sender');
senderInput.value = localStorage.getItem('sender') || 'me';
document.getElementById('chat').textContent = chat;

function show(message) {
  if (seen.has(message.id)) return;
  seen.add(message.id);
  const item = document.createElement('div');
  item.className = 'msg' + (message.from_assistant ? '' : ' mine');
  item.dataset.fromAssistant = String(message.from_assistant);
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.textContent = message.sender + ' · ' + new Date(message.timestamp).toLocaleTimeString();
  const body = document.createElement('div');
  body.className = 'text';
  body.textContent = message.text;
  item.append(meta, body);
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function showStatus(status) {
  const wa = status.channels && status.channels.whatsapp;
  const pairing = document.getElementById('pairing');
  if (wa && (wa.qrSvg || wa.pairingCode)) {
    pairing.style.display = 'block';
    document.getElementById('qr').innerHTML = wa.qrSvg || '';
    document.getElementById('code').textContent = wa.pairingCode ? 'Or enter this code on your phone: ' + wa.pairingCode : '';
  } else {
    pairing.style.display = 'none';
  }
}

async function load() {
  const response = await fetch(api + '/messages');
  if (!response.ok) {
    document.getElementById('error').textContent = (await response.json()).error.message;
    return;
  }
  for (const message of await response.json()) show(message);
  fetch(root + 'api/status').then((r) => r.json()).then(showStatus);
}

// A stream can die without a word (a proxy in between that keeps the page's end open when the host's
// goes, a NAT that forgets it): silence for two pings means a dead stream, opened again. A stream closed
// for good (an error answer) is tried again the same way.
let stream;
let quiet;
function heard() {
  clearTimeout(quiet);
  quiet = setTimeout(() => {
    stream.close();
    document.getElementById('state').textContent = '(reconnecting)';
    listen();
  }, ${2 * heartbeatMs + 5000});
}
function listen() {
  stream = new EventSource(api + '/stream');
  stream.addEventListener('message', (event) => { heard(); show(JSON.parse(event.data)); });
  stream.addEventListener('typing', (event) => {
    heard();
    document.getElementById('typing').textContent = JSON.parse(event.data).typing ? '${name} is typing…' : '';
  });
  stream.addEventListener('status', (event) => { heard(); showStatus(JSON.parse(event.data)); });
  stream.addEventListener('ping', heard);
  stream.addEventListener('open', () => { heard(); document.getElementById('state').textContent = ''; load(); });
  stream.addEventListener('error', () => {
    // Closed for good (e.g. the chat does not exist): load() shows why.
    if (stream.readyState === EventSource.CLOSED) load();
    else document.getElementById('state').textContent = '(reconnecting)';
  });
  heard();
}
listen();

document.getElementById('form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = document.getElementById('text');
  localStorage.setItem('sender', senderInput.value);
  const response = await fetch(api + '/messages', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sender: senderInput.value, text: text.value }),
  });
  if (response.ok) {
    document.getElementById('error').textContent = '';
    show(await response.json());
    text.value = '';
  } else {
    document.getElementById('error').textContent = (await response.json()).error.message;
  }
});
</script>
</body>
</html>
`;
}

/** What `/` shows while the chat must not be served: the reason, for whoever opened it. */
export function closedPage(reason: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Chat closed</title></head>
<body style="font: 16px/1.5 system-ui, sans-serif; max-width: 40rem; margin: 3rem auto; padding: 0 1rem">
<h1>This chat is closed</h1>
<p id="closed">${escapeXml(reason)}</p>
</body>
</html>
`;
}
