// Direct uploads: the browser sends a file's bytes straight to object storage, in parts,
// through presigned URLs that our server hands out. Uppy's S3 multipart plugin runs the
// protocol (parts in parallel, a failed part retried, a paused upload resumed from the parts
// storage already holds); this file only wires it to our endpoints and draws the page.
//
// Built by `npm run build` (scripts/build-uploader.mjs) into static/js/uploader.js, which is
// committed, and loaded only on pages with a file input marked data-upload-url. Without
// JavaScript, or without that mark (local files), the form posts the file as before.
//
// Every text comes from the page (the JSON in #uploader-texts, translated by Django).
import Uppy from "@uppy/core";
import AwsS3 from "@uppy/aws-s3";

const MiB = 1024 * 1024;
// The contract's part size: small enough for a mobile link, over S3's 5 MiB minimum.
const PART_SIZE = 8 * MiB;
// Part URLs asked for in one request, and how long one is used: the server signs them for
// 15 minutes; an older one is asked for again before a part is sent with it.
const SIGN_BATCH = 10;
const URL_FRESH_MS = 10 * 60 * 1000;
// Waits before a failed part is sent again (Uppy's retryDelays); offline, Uppy waits for
// the connection instead and goes on from the part that failed.
const RETRY_DELAYS = [0, 1000, 3000, 5000, 10000];

const $ = (tag, props, ...children) => {
  const el = Object.assign(document.createElement(tag), props);
  el.append(...children.filter((c) => c != null));
  return el;
};
const fill = (text, values) => String(text || "").replace(/\{(\w+)\}/g, (m, k) => (k in values ? values[k] : m));

// As filekinds.format_size on the server: binary units, the format's own sizes.
function formatSize(n) {
  n = Math.max(0, +n || 0);
  for (const [unit, size] of [["GB", 1 << 30], ["MB", 1 << 20], ["KB", 1 << 10]]) {
    if (n >= size) {
      const v = n / size;
      return (v >= 10 || v === Math.floor(v) ? Math.round(v) : v.toFixed(1)) + unit;
    }
  }
  return n + "B";
}

function readTexts() {
  const el = document.getElementById("uploader-texts");
  try {
    return el ? JSON.parse(el.textContent) : null;
  } catch (e) {
    return null;
  }
}

// A refusal by our server (400 with a translated message) is shown as it is and not tried
// again; anything else (the network, a 5xx) is an interruption the resident may retry.
class Refused extends Error {}

function api(texts, csrf, method, url, body) {
  const headers = { "X-CSRFToken": csrf, Accept: "application/json" };
  if (body) headers["Content-Type"] = "application/json";
  return fetch(url, { method, headers, credentials: "same-origin", body: body && JSON.stringify(body) })
    .then((res) => (res.status === 204 ? [res, null] : res.json().then((d) => [res, d], () => [res, null])))
    .then(([res, data]) => {
      if (res.ok) return data;
      const message = data && typeof data.error === "string" && data.error;
      if (message && res.status >= 400 && res.status < 500 && res.status !== 429) throw new Refused(message);
      throw new Error(texts.failed);
    });
}

function setup(input, texts) {
  const form = input.form, base = input.dataset.uploadUrl, resize = +input.dataset.resize || 0;
  const csrf = ((form && form.elements.csrfmiddlewaretoken) || {}).value || "";
  const call = (method, url, body) => api(texts, csrf, method, url, body);
  const list = $("ul", { className: "files uploader" });
  const live = $("p", { className: "visually-hidden", role: "status" });
  live.setAttribute("aria-live", "polite");
  input.after(list, live);
  const records = new Map(); // Uppy file id -> { id, uploadId, key, item, state, ... }
  const say = (text) => { live.textContent = text; };
  let offline = navigator.onLine === false, serial = 0;

  const uppy = new Uppy({
    autoProceed: true,
    // The same file chosen twice gets its own entry; the server counts files, not Uppy.
    onBeforeFileAdded: (file) => ({ ...file, id: `${file.id}-${++serial}` }),
  });
  uppy.use(AwsS3, {
    shouldUseMultipart: true, // small files too: one part, the same endpoints
    limit: 4,
    retryDelays: RETRY_DELAYS,
    getChunkSize: () => PART_SIZE,
    createMultipartUpload(file) {
      const rec = records.get(file.id);
      if (rec.id) return { uploadId: rec.uploadId, key: rec.key }; // a retry: the same upload
      return call("POST", base, {
        input: input.name, page: input.dataset.page, name: file.name, size: file.size, type: file.type || "",
      }).then((d) => {
        Object.assign(rec, { id: d.id, uploadId: d.uploadId, key: d.key });
        if (rec.state === "cancelled") discard(rec);
        return { uploadId: d.uploadId, key: d.key };
      });
    },
    signPart(file, { partNumber }) {
      const rec = records.get(file.id), batch = Math.floor((partNumber - 1) / SIGN_BATCH);
      let urls = rec.urls.get(batch);
      if (!urls || urls.failed || Date.now() - urls.at > URL_FRESH_MS) {
        const last = Math.min(Math.max(1, Math.ceil(file.size / PART_SIZE)), (batch + 1) * SIGN_BATCH), numbers = [];
        for (let n = batch * SIGN_BATCH + 1; n <= last; n++) numbers.push(n);
        urls = { at: Date.now(), promise: call("POST", `${base}${rec.id}/parts`, { partNumbers: numbers }) };
        urls.promise.catch(() => { urls.failed = true; });
        rec.urls.set(batch, urls);
      }
      return urls.promise.then((d) => ({ method: "PUT", url: d.urls[String(partNumber)] }));
    },
    listParts(file) {
      return call("GET", `${base}${records.get(file.id).id}/parts`).then((d) => d.parts);
    },
    completeMultipartUpload(file, { parts }) {
      const body = { parts: parts.map((p) => ({ PartNumber: p.PartNumber, ETag: p.ETag })) };
      return call("POST", `${base}${records.get(file.id).id}/complete`, body);
    },
    // Uppy aborts the upload in storage when a part fails for good; ours stays so that
    // Retry goes on from the parts already stored. Cancel and Remove call DELETE (discard).
    abortMultipartUpload: () => Promise.resolve(),
  });

  function discard(rec) {
    if (rec.id && !rec.discarded) {
      rec.discarded = true;
      call("DELETE", `${base}${rec.id}`).catch(() => { /* housekeeping aborts it later */ });
    }
  }

  function button(label, name, onClick) {
    const b = $("button", { type: "button", className: "button button--text" }, label, $("span", { className: "visually-hidden" }, ` ${name}`));
    b.addEventListener("click", onClick);
    return b;
  }

  function render(rec, text, { error = false, buttons = [] } = {}) {
    rec.text.textContent = text;
    rec.text.className = `uploader__text${error ? " uploader__text--error" : ""}`;
    // Only when they change: a button taken out of the page loses the keyboard focus.
    const now = Array.from(rec.actions.children);
    if (now.length !== buttons.length || now.some((b, i) => b !== buttons[i])) rec.actions.replaceChildren(...buttons);
  }

  function progressText(rec, done, total) {
    const percent = total ? Math.floor((done / total) * 100) : 0;
    const text = fill(texts.progress, { percent, done: formatSize(done), total: formatSize(total) });
    return { percent, text: offline ? `${texts.offline} ${text}` : text };
  }

  function showProgress(rec, done, total) {
    const { percent, text } = progressText(rec, done, total);
    rec.done = done;
    rec.bar.value = percent;
    rec.bar.setAttribute("aria-valuetext", text);
    render(rec, text, { buttons: [rec.cancel] });
    if (percent >= rec.announced + 25 && percent < 100) {
      rec.announced = percent - (percent % 25);
      say(fill(texts.announceProgress, { name: rec.name, percent: rec.announced }));
    }
  }

  function forget(rec) {
    rec.item.remove();
    records.delete(rec.uppyId);
    if (uppy.getFile(rec.uppyId)) uppy.removeFile(rec.uppyId);
    input.focus(); // the item that had focus is gone
  }

  function cancel(rec) {
    rec.state = "cancelled";
    discard(rec);
    forget(rec);
    say(fill(texts.cancelled, { name: rec.name }));
  }

  function remove(rec) {
    rec.state = "removed";
    discard(rec);
    forget(rec);
    say(fill(texts.removed, { name: rec.name }));
  }

  function retry(rec) {
    rec.state = "uploading";
    showProgress(rec, rec.done || 0, rec.size);
    // Resume: Uppy asks the server which parts storage holds (listParts) and sends the rest.
    if (rec.id) uppy.setFileState(rec.uppyId, { s3Multipart: { uploadId: rec.uploadId, key: rec.key } });
    uppy.retryUpload(rec.uppyId);
  }

  async function add(original) {
    const rec = { name: original.name, size: original.size, state: "preparing", urls: new Map(), announced: 0 };
    rec.label = $("span", { className: "files__name" }, rec.name);
    rec.sizeText = $("span", { className: "muted" }, `(${formatSize(rec.size)})`);
    rec.bar = $("progress", { className: "progress__bar uploader__bar", max: 100, value: 0 });
    rec.bar.setAttribute("aria-label", fill(texts.progressLabel, { name: rec.name }));
    rec.text = $("span", { className: "uploader__text" });
    rec.actions = $("span", { className: "uploader__actions" });
    rec.item = $("li", { className: "files__item uploader__item" }, rec.label, " ", rec.sizeText, rec.bar, rec.text, rec.actions);
    rec.cancel = button(texts.cancel, rec.name, () => cancel(rec));
    list.append(rec.item);
    let file = original;
    if (resize && window.DSShrink) {
      render(rec, texts.preparing, { buttons: [rec.cancel] });
      file = await window.DSShrink(original, resize, input.accept); // the original when it cannot
      if (rec.state === "cancelled") return;
      if (file !== original) {
        rec.size = file.size;
        rec.sizeText.textContent = `(${formatSize(file.size)})`;
      }
    }
    rec.state = "uploading";
    showProgress(rec, 0, file.size);
    say(fill(texts.announceStart, { name: rec.name }));
    try {
      rec.uppyId = uppy.addFile({ name: file.name, type: file.type, data: file, source: "Local" });
      records.set(rec.uppyId, rec);
    } catch (e) {
      render(rec, texts.failed, { error: true, buttons: [button(texts.remove, rec.name, () => rec.item.remove())] });
    }
  }

  uppy.on("upload-progress", (file, progress) => {
    const rec = records.get(file.id);
    if (rec && rec.state === "uploading") showProgress(rec, progress.bytesUploaded, progress.bytesTotal || rec.size);
  });
  uppy.on("upload-success", (file, response) => {
    const rec = records.get(file.id);
    if (!rec || rec.state !== "uploading") return;
    const body = (response && response.body) || {};
    rec.state = "done";
    rec.bar.remove();
    render(rec, body.statusText || "", { buttons: [button(texts.remove, rec.name, () => remove(rec))] });
    say(fill(texts.announceDone, { name: rec.name, status: body.statusText || "" }));
  });
  uppy.on("upload-error", (file, error) => {
    const rec = records.get(file.id);
    if (!rec || rec.state !== "uploading") return;
    if (error instanceof Refused) {
      // Refused by the server (size, type, what the file really is): the file is not kept.
      rec.state = "refused";
      rec.bar.remove();
      render(rec, error.message, { error: true, buttons: [button(texts.remove, rec.name, () => forget(rec))] });
      say(fill(texts.announceRefused, { name: rec.name, error: error.message }));
    } else {
      rec.state = "interrupted";
      render(rec, texts.interrupted, { error: true, buttons: [button(texts.retry, rec.name, () => retry(rec)), rec.cancel] });
      say(fill(texts.announceInterrupted, { name: rec.name }));
    }
  });

  const onLine = (on) => () => {
    offline = !on;
    for (const rec of records.values()) if (rec.state === "uploading") showProgress(rec, rec.done || 0, rec.size);
  };
  addEventListener("offline", onLine(false));
  addEventListener("online", onLine(true));

  input.addEventListener("change", () => {
    const files = Array.from(input.files || []);
    input.value = ""; // the bytes go to storage, never in the form's own post
    files.forEach(add);
  });

  return () => Array.from(records.values()).some((r) => r.state === "uploading" || r.state === "preparing");
}

function init() {
  const texts = readTexts();
  const inputs = Array.from(document.querySelectorAll("input[type=file][data-upload-url]"));
  if (!texts || !inputs.length || !window.fetch) return; // the plain form post stays
  const busy = inputs.map((input) => setup(input, texts));
  const uploading = () => busy.some((b) => b());
  for (const form of new Set(inputs.map((i) => i.form).filter(Boolean))) {
    // Leaving the page stops an upload: ask the resident to wait (or cancel) first.
    form.addEventListener("submit", (e) => {
      let note = form.querySelector(".uploader__wait");
      if (!uploading()) return note && note.remove();
      e.preventDefault();
      e.stopImmediatePropagation();
      note = note || $("p", { className: "field__error uploader__wait", role: "alert", tabIndex: -1 });
      note.textContent = texts.wait;
      (form.querySelector(".actions") || form).before(note);
      note.focus();
    });
  }
  addEventListener("beforeunload", (e) => {
    if (uploading()) e.preventDefault();
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
