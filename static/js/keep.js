// Reload right after typing: the keep-what-was-typed beacon (app.js) sent on leaving may
// reach the server after the reloaded page was made, which then shows the old answers.
// What was typed is also kept in this tab's sessionStorage, with the draft version the
// page was made from (`_seen`, the draft's updated_at). On load, when the page comes from
// that same version (the save has not landed yet), the typed values are put back. A page
// from a newer version (the save landed, or another tab or device saved since) is left
// as the server made it. No clock is compared, so a wrong device clock cannot matter.
(() => {
  "use strict";
  const form = document.querySelector("form[data-filing-form]");
  if (!form || !window.sessionStorage) return;
  const key = "typed:" + location.pathname, seen = (form.elements._seen || {}).value || "";
  const fields = () => [...form.elements].filter((el) => el.name && el.name[0] !== "_" && !/file|submit|button|hidden/.test(el.type));
  let kept = null;
  try { kept = JSON.parse(sessionStorage.getItem(key) || "null"); } catch (e) { /* none */ }
  if (kept && kept.seen === seen && !document.getElementById("error-summary")) {
    for (const el of fields()) {
      const v = kept.values[el.name + (/checkbox|radio/.test(el.type) ? "=" + el.value : "")];
      if (v === undefined) continue;
      if (/checkbox|radio/.test(el.type)) el.checked = v; else el.value = v;
    }
    form.dispatchEvent(new Event("input", { bubbles: true })); // unsaved: sent again on leaving
    form.dispatchEvent(new Event("change", { bubbles: true })); // conditions follow
  }
  sessionStorage.removeItem(key);
  form.addEventListener("input", () => {
    const values = {};
    for (const el of fields()) {
      if (/checkbox|radio/.test(el.type)) values[el.name + "=" + el.value] = el.checked;
      else values[el.name] = el.value;
    }
    try { sessionStorage.setItem(key, JSON.stringify({ seen, values })); } catch (e) { /* full */ }
  });
  form.addEventListener("submit", () => sessionStorage.removeItem(key));
})();
