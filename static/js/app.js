// Progressive enhancement: all works without it. Helpers exported for node tests.
(() => {
"use strict";

const ERAS = [["令和", 20190501, "R"], ["平成", 19890108, "H"], ["昭和", 19261225, "S"], ["大正", 19120730, "T"], ["明治", 18680125, "M"]];
const fold = (s) => String(s == null ? "" : s).normalize("NFKC").trim();
const pad = (n) => String(n).padStart(2, "0");

// "1985", "1985年", "令和8", "R8", "令和元年" -> 1985, 2026, 2019
function parseYear(s) {
  const t = fold(s).replace(/\s/g, "");
  let m = /^([1-9]\d{3})年?$/.exec(t);
  if (m) return +m[1];
  for (const [name, start, letter] of ERAS) {
    for (const key of [name, letter, letter.toLowerCase()]) {
      m = t.startsWith(key) && /^\.?(\d\d?|元)年?$/.exec(t.slice(key.length));
      if (m) return +m[1] === 0 ? null : (start / 1e4 | 0) + (m[1] === "元" ? 0 : m[1] - 1);
    }
  }
  return null;
}

// -> "YYYY-MM-DD" or null
function parseDateParts(year, month, day) {
  const y = parseYear(year), m = +(/^(\d\d?)月?$/.exec(fold(month)) || [])[1], d = +(/^(\d\d?)日?$/.exec(fold(day)) || [])[1];
  const dt = new Date(Date.UTC(y, m - 1, d));
  return y !== null && dt.getUTCMonth() === m - 1 && dt.getUTCDate() === d ? `${y}-${pad(m)}-${pad(d)}` : null;
}

// "2019-05-01" -> "令和元年5月1日"
function wareki(iso) {
  const m = /^(\d{4})-(\d\d)-(\d\d)$/.exec(iso || "");
  if (!m) return "";
  const era = ERAS.find((e) => +(m[1] + m[2] + m[3]) >= e[1]), n = era && m[1] - (era[1] / 1e4 | 0) + 1;
  return `${era ? era[0] + (n === 1 ? "元" : n) : +m[1]}年${+m[2]}月${+m[3]}日`;
}

function parseNumber(s) {
  const t = fold(s);
  return /^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d*)?$/.test(t) && /\d/.test(t) ? +t.replace(/,/g, "") : null;
}

// Enabled controls -> answers as on the server: f-x, f-x-part (object, date), f-g-<i>-<child>.
function collectAnswers(controls) {
  const fields = {}, counts = {}, answers = {}, groups = {};
  for (const c of controls) {
    let p = c.name.split("-"), [, id, part] = p, group = null, index = 0;
    if (p[0] !== "f" || c.type === "file") continue;
    if (part === "count" && c.type === "hidden") { counts[id] = +c.value || 0; continue; }
    if (/^\d+$/.test(part) && p[3]) [group, index, id, part] = p.slice(1);
    const key = [group, index, id].join(), box = /radio|checkbox/.test(c.type), on = !box || c.checked;
    const f = fields[key] = fields[key] || { group, index: +index, id, list: [] };
    if (part) {
      f.parts = f.parts || {};
      if (on || !(part in f.parts)) f.parts[part] = on ? c.value : "";
      continue;
    }
    if (c.type === "checkbox") f.kind = c.id === c.name ? "consent" : "checks";
    else if (c.type === "radio") f.kind = f.kind === "yesno" || c.id === `${c.name}-yes` || c.id === `${c.name}-no` ? "yesno" : "";
    else f.kind = /\binput--number\b/.test(c.className) && "number";
    if (on) f.list.push(c.value);
  }
  const valueOf = ({ parts: p, kind, list, list: [v] }) => {
    if (p) {
      const out = {};
      if (Object.keys(p).sort().join() === "day,month,year") return parseDateParts(p.year, p.month, p.day);
      for (const k in p) out[k] = fold(p[k]) || null;
      return Object.values(out).some((x) => x !== null) ? out : null;
    }
    if (kind === "yesno") return v ? v === "yes" : null;
    if (kind === "checks") return list.length ? list : null;
    if (kind === "consent") return v === "yes" || null;
    return kind ? parseNumber(v) : fold(v) || null;
  };
  const entries = (g, n) => {
    for (groups[g] = groups[g] || []; groups[g].length < n;) groups[g].push({});
    return groups[g];
  };
  for (const f of Object.values(fields)) {
    if (f.group === null) answers[f.id] = valueOf(f);
    else entries(f.group, f.index + 1)[f.index][f.id] = valueOf(f);
  }
  for (const g in counts) entries(g, counts[g]).length = counts[g];
  for (const g in groups) answers[g] = groups[g].length ? groups[g] : null;
  return answers;
}

// In group entry "f-g-3" its own fields are top-level names.
function scoped(answers, scope) {
  const m = /^f-(\w+)-(\d+)$/.exec(scope || "");
  return m ? { ...answers, ...((answers[m[1]] || [])[m[2]] || {}) } : answers;
}

if (typeof module !== "undefined") module.exports = { parseYear, parseDateParts, wareki, parseNumber, collectAnswers, scoped };
if (typeof document === "undefined") return;

const t = (ja, en) => (/^ja/i.test(document.documentElement.lang) ? ja : en);
const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));
const busy = (el, on) => (on ? el.setAttribute("aria-busy", "true") : el.removeAttribute("aria-busy"));

// a. Conditions; inputs of hidden fields are disabled.
function refreshConditions(form) {
  const conds = $$(".conditional[data-show-if]", form);
  const today = form.dataset.today || new Intl.DateTimeFormat("en-CA", { timeZone: "Asia/Tokyo" }).format(new Date());
  for (let round = 0, changed = true; changed && round < 8; round++) {
    const answers = collectAnswers($$("[name]:enabled", form));
    changed = false;
    for (const el of conds) {
      let show = true;
      try {
        el.ast = el.ast || JSON.parse(el.dataset.showIf);
        show = !!el.querySelector(".field--error") || DSExpr.truthy(DSExpr.evaluate(el.ast, scoped(answers, el.dataset.scope), today));
      } catch (e) { /* visible */ }
      if (show === el.hidden) [el.hidden, changed] = [!show, true];
    }
    for (const c of form.elements) {
      const off = conds.some((el) => el.hidden && el.contains(c));
      if (off !== !!c.offByCondition) c.disabled = c.offByCondition = off;
    }
  }
}

// b. Postal code -> address; on failure the button submits.
function postalLookup(button, event) {
  const form = button.form, name = button.value.slice(7), input = form.elements[name];
  const el = (part) => form.elements[`${button.dataset.postalTarget}-${part}`] || {};
  const status = document.getElementById(`${name}-status`) || {};
  if (button.fallback || !input || !window.fetch) return;
  event.preventDefault();
  if (button.hasAttribute("aria-busy")) return;
  busy(button, true);
  fetch("/api/postal/", {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRFToken": (form.elements.csrfmiddlewaretoken || {}).value },
    body: `code=${encodeURIComponent(input.value)}`,
  }).then((res) => (res.ok ? res.json() : /^4(00|29)$/.test(res.status) ? {} : Promise.reject(res.status))).then(({ results = [] }) => {
    const [r] = results;
    busy(button, false);
    if (!r) return (status.textContent = t("郵便番号に該当する住所が見つかりませんでした。", "No address found for this postal code."));
    const id = (s) => document.getElementById(button.dataset.postalTarget + s) || {}, f = id("-field");
    if (id("-error").remove) id("-error").remove();
    ["prefecture", "city", "town"].forEach((p) => { if (r[p] != null) { el(p).value = r[p]; settle(el(p)); } });
    status.textContent = t("住所を入力しました。番地を入力してください。", "Address filled in. Add the block number.") + (results.length < 2 ? "" :
      t(`（候補${results.length}件のうち最初の住所です。）`, ` (${results.length} matches: the first is used.)`));
    if (f.querySelector && !f.querySelector(".field__error")) f.classList.remove("field--error");
    form.dispatchEvent(new Event("change"));
    // Typing after the filled town answers the status' request for the block number.
    const town = el("town"), filled = town.value;
    if (town.addEventListener) town.addEventListener("input", () => { if (town.value !== filled) status.textContent = ""; });
    if (town.focus) town.focus();
  }).catch(() => {
    busy(button, false);
    button.fallback = true;
    button.click();
  });
}

// A filled input drops the server's error: message, aria-invalid, describedby link.
function settle(i) {
  if (!i || !i.id || !i.value) return;
  const e = document.getElementById(`${i.id}-error`);
  if (e) e.remove();
  i.removeAttribute("aria-invalid");
  const ids = (i.getAttribute("aria-describedby") || "").split(" ").filter((d) => d && document.getElementById(d));
  i.setAttribute("aria-describedby", ids.join(" "));
}

// d. Submit once; a hidden copy posts the disabled button's value.
function setBusy(form, button, on) {
  form.dsBusy = on;
  clearTimeout(form.dsTimer);
  if (on) form.dsTimer = setTimeout(() => setBusy(form, button, false), 10000);
  else if (form.dsCopy) form.dsCopy.remove();
  if (!button) return;
  if (on && button.name) {
    form.dsCopy = form.appendChild(Object.assign(document.createElement("input"), { type: "hidden", name: button.name, value: button.value }));
  }
  button.disabled = on;
  busy(button, on);
}

// e. Shrink photos, then upload with progress.
async function shrink(file, max, accept) {
  try {
    const bmp = /^image\/(jpeg|png)$/.test(file.type) && await createImageBitmap(file, { imageOrientation: "from-image" });
    const scale = bmp ? max / Math.max(bmp.width, bmp.height) : 1, jpeg = !accept || /jpe?g/i.test(accept);
    if (scale >= 1) return file;
    const type = jpeg ? "image/jpeg" : file.type, c = document.createElement("canvas"), ctx = c.getContext("2d");
    c.width = Math.round(bmp.width * scale);
    c.height = Math.round(bmp.height * scale);
    ctx.fillStyle = "#fff";
    ctx.fillRect(0, 0, c.width, c.height);
    ctx.drawImage(bmp, 0, 0, c.width, c.height);
    const blob = await new Promise((resolve) => c.toBlob(resolve, type, 0.85));
    return blob && blob.size < file.size ? new File([blob], jpeg ? file.name.replace(/\.\w*$/, "") + ".jpg" : file.name, { type }) : file;
  } catch (e) {
    return file;
  }
}

// The direct uploader (uploader.js, on pages with direct upload) shrinks photos with it too.
window.DSShrink = shrink;

async function upload(form, button, inputs) {
  $$(".upload", form).forEach((old) => old.remove());
  const box = document.createElement("div"), action = form.action.split("#")[0], xhr = new XMLHttpRequest();
  box.className = "upload";
  box.innerHTML = '<progress class="progress__bar" max="100" value="0"></progress><p class="upload__text" role="status"></p>';
  const [bar, text] = box.children;
  (button.closest(".actions") || button).before(box);
  let shown = -10;
  const progress = (pct) => {
    bar.value = pct;
    if (pct - shown >= 10 || pct === 100) text.textContent = t("アップロード中… ", "Uploading… ") + (shown = pct) + "%";
  };
  const failed = () => {
    text.textContent = t("送信できませんでした。もう一度送信してください。入力した内容は残っています。",
      "Sending failed. Try again: what you entered is still here.");
    text.className += " upload__text--error";
    bar.remove();
    setBusy(form, button, false);
  };
  progress(0);
  for (const input of inputs.filter((i) => i.dataset.resize > 0)) {
    try {
      const dt = new DataTransfer();
      for (const f of input.files) dt.items.add(await shrink(f, +input.dataset.resize, input.accept));
      input.files = dt.files;
    } catch (e) { /* originals */ }
  }
  xhr.open("POST", action);
  xhr.upload.onprogress = (e) => e.lengthComputable && progress(Math.round((e.loaded / e.total) * 100));
  xhr.onload = () => {
    const url = xhr.responseURL.split("#")[0];
    if (xhr.status === 200 && url && url !== action) return location.assign(url);
    document.open(); // errors
    document.write(xhr.responseText);
    document.close();
  };
  xhr.onerror = xhr.ontimeout = xhr.onabort = failed;
  xhr.send(new FormData(form));
}

function onSubmit(e) {
  const form = e.target, button = e.submitter || form.dsClicked;
  const files = $$("[type=file]:enabled", form).filter((i) => i.files.length);
  if (!form.matches("[data-filing-form], [data-submit-once]")) return;
  if (form.dsBusy) return e.preventDefault();
  setBusy(form, button, true);
  if (files.length && form.matches("[data-filing-form][enctype^=multipart]") && button && button.name === "_action" && button.value === "next") {
    e.preventDefault();
    clearTimeout(form.dsTimer);
    upload(form, button, files);
  }
}

function init() {
  for (const form of window.DSExpr ? $$("form") : []) {
    const run = () => refreshConditions(form);
    if (!form.querySelector(".conditional[data-show-if]")) continue;
    form.addEventListener("input", run);
    form.addEventListener("change", run);
    run();
  }
  for (const box of $$(".subfields--date[data-era='1']")) { // c. 和暦 under the date
    const out = box.nextElementSibling, get = (p) => (box.querySelector(`[name$='-${p}']`) || {}).value;
    const era = () => { out.textContent = wareki(parseDateParts(get("year"), get("month"), get("day"))); };
    if (out && out.matches(".date__era")) { box.addEventListener("input", era); era(); }
  }
  document.addEventListener("click", (e) => {
    const b = e.target.closest("[type=submit]");
    if (b && b.form) b.form.dsClicked = b;
    if (b && b.form && b.dataset.postalTarget) postalLookup(b, e);
  });
  document.addEventListener("submit", onSubmit);
  const summary = document.getElementById("error-summary");
  if (summary) summary.focus();
  keepOnLeave(document.querySelector("form[data-filing-form]"));
  if (window.DSExpr) for (const n of $$(".conditional__note")) n.hidden = true;
}

// Leaving a page by the browser's Back or a link, not by its buttons: send what was typed
// so the server keeps it (as it does for the page's own buttons). Files are not re-sent.
function keepOnLeave(form) {
  if (!form || !navigator.sendBeacon) return;
  let dirty = false, leaving = false;
  form.addEventListener("input", () => { dirty = true; });
  form.addEventListener("submit", () => { leaving = true; });
  addEventListener("pagehide", () => {
    if (!dirty || leaving) return;
    const data = new FormData();
    for (const el of form.elements) {
      if (!el.name || el.disabled || el.name === "_action" || /file|submit|button/.test(el.type)) continue;
      if (/checkbox|radio/.test(el.type) && !el.checked) continue;
      data.append(el.name, el.value);
    }
    data.append("_action", "autosave");
    navigator.sendBeacon(location.pathname, data);
  });
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
else init();
})();
