/**
 * The chat page served at `/`: one small HTML file, no build step, no external assets. It lists the chat's
 * messages, sends with POST, follows the live stream (SSE), and shows the WhatsApp QR code while pairing.
 * Files go with a message: picked with the attach button (a phone offers its camera and gallery there),
 * dropped on the page or pasted, checked against the limits the page states before they are sent; images
 * in messages are shown, other files are download links. Its URLs are relative to the page's own address,
 * so it works behind a path prefix (Boilerhouse's gateway serves it at /{workload}/{tenant}/) as well as
 * at a host's root.
 */
import { megabytes } from '../files/limits.ts';
import { IMAGE_TYPES } from '../files/sniff.ts';
import { escapeXml } from '../router/prompt.ts';

export interface PageLimits {
  maxFiles: number;
  maxFileBytes: number;
}

/** `heartbeatMs`: how often the stream pings; a page that hears nothing for two pings opens it again. */
export function chatPage(assistantName: string, heartbeatMs: number, limits: PageLimits): string {
  const name = escapeXml(assistantName);
  const limitText = `Up to ${limits.maxFiles} files of ${megabytes(limits.maxFileBytes)} each: attach, drop or paste them.`;
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
  #text { flex: 1; min-width: 0; }
  input, button { font: inherit; padding: .5rem .6rem; border: 1px solid #d4d4d8; border-radius: .5rem; }
  button { background: #18181b; color: #fff; border: 0; }
  #attach { background: #e4e4e7; color: #18181b; padding: .5rem; }
  #error { color: #b91c1c; padding: 0 1rem; font-size: .85rem; }
  #files { display: flex; flex-wrap: wrap; gap: .4rem; padding: 0 .6rem; }
  #files:not(:empty) { padding-top: .4rem; background: #fff; }
  .pending { font-size: .8rem; background: #f4f4f5; border-radius: .5rem; padding: .2rem .2rem .2rem .5rem; }
  .pending button { background: none; color: inherit; padding: 0 .3rem; }
  #limits { font-size: .75rem; opacity: .6; padding: .2rem .6rem 0; background: #fff; }
  .msg img { display: block; max-width: 100%; max-height: 20rem; border-radius: .5rem; margin-top: .3rem; }
  .msg a.file { display: block; margin-top: .3rem; }
  body.dropping #log { outline: 3px dashed #2563eb; outline-offset: -6px; }
  @media (max-width: 480px) { #sender { width: 4.5rem; } }
</style>
</head>
<body>
<header><h1>${name}</h1><small id="chat"></small><small id="state"></small></header>
<div id="pairing"><p>Link WhatsApp: scan this code in WhatsApp, Settings, Linked devices.</p><div id="qr"></div><p id="code"></p></div>
<main id="log" aria-live="polite"></main>
<div id="typing"></div>
<div id="error" role="alert"></div>
<div id="files" aria-label="Files to send"></div>
<div id="limits">${escapeXml(limitText)}</div>
<form id="form">
  <input id="sender" aria-label="Your name" placeholder="Your name" required maxlength="64">
  <input id="text" aria-label="Message" placeholder="Message" autocomplete="off" maxlength="32000">
  <button id="send">Send</button>
  <button id="attach" type="button" aria-label="Attach files" title="Attach files">&#128206;</button>
  <input id="picker" type="file" multiple hidden>
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
  for (const file of message.attachments || []) {
    // Only the types the host serves inline are shown; anything else is a download.
    if (${JSON.stringify(IMAGE_TYPES)}.includes(file.type)) {
      const image = document.createElement('img');
      image.src = root + file.url;
      image.alt = file.name;
      image.addEventListener('load', () => { log.scrollTop = log.scrollHeight; });
      item.append(image);
    } else {
      const link = document.createElement('a');
      link.className = 'file';
      link.href = root + file.url;
      link.download = file.name;
      link.textContent = file.name + ' (' + size(file.size) + ')';
      item.append(link);
    }
  }
  log.append(item);
  log.scrollTop = log.scrollHeight;
}

function size(bytes) {
  return bytes >= 1e6 ? (bytes / 1e6).toFixed(1) + ' MB' : Math.max(1, Math.round(bytes / 1e3)) + ' kB';
}

// Files waiting to go with the next message, checked against the limits the host keeps to.
const limits = { files: ${limits.maxFiles}, bytes: ${limits.maxFileBytes} };
const pending = [];
function addFiles(list) {
  const problems = [];
  for (const file of list) {
    if (pending.length >= limits.files) problems.push(file.name + ': a message may carry ' + limits.files + ' files');
    else if (file.size > limits.bytes) problems.push(file.name + ' is ' + size(file.size) + '; a file may have at most ' + size(limits.bytes));
    else pending.push(file);
  }
  document.getElementById('error').textContent = problems.join('; ');
  showPending();
}
function showPending() {
  const box = document.getElementById('files');
  box.replaceChildren(...pending.map((file, index) => {
    const chip = document.createElement('span');
    chip.className = 'pending';
    chip.textContent = file.name + ' (' + size(file.size) + ')';
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = '×';
    remove.setAttribute('aria-label', 'Remove ' + file.name);
    remove.addEventListener('click', () => { pending.splice(index, 1); showPending(); });
    chip.append(remove);
    return chip;
  }));
}
const picker = document.getElementById('picker');
document.getElementById('attach').addEventListener('click', () => picker.click());
picker.addEventListener('change', () => { addFiles(picker.files); picker.value = ''; });
document.addEventListener('paste', (event) => {
  if (event.clipboardData && event.clipboardData.files.length > 0) {
    event.preventDefault();
    addFiles(event.clipboardData.files);
  }
});
document.addEventListener('dragover', (event) => {
  if (!event.dataTransfer || !event.dataTransfer.types.includes('Files')) return;
  event.preventDefault();
  document.body.classList.add('dropping');
});
document.addEventListener('dragleave', (event) => {
  if (event.relatedTarget === null) document.body.classList.remove('dropping');
});
document.addEventListener('drop', (event) => {
  document.body.classList.remove('dropping');
  if (!event.dataTransfer || event.dataTransfer.files.length === 0) return;
  event.preventDefault();
  addFiles(event.dataTransfer.files);
});

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
  if (text.value.trim() === '' && pending.length === 0) return;
  localStorage.setItem('sender', senderInput.value);
  let body;
  if (pending.length > 0) {
    body = new FormData();
    body.append('sender', senderInput.value);
    body.append('text', text.value);
    for (const file of pending) body.append('files', file, file.name);
  } else {
    body = JSON.stringify({ sender: senderInput.value, text: text.value });
  }
  const response = await fetch(api + '/messages', {
    method: 'POST',
    headers: typeof body === 'string' ? { 'content-type': 'application/json' } : {},
    body,
  });
  if (response.ok) {
    document.getElementById('error').textContent = '';
    show(await response.json());
    text.value = '';
    pending.length = 0;
    showPending();
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
