/* The waiting room: ask for the place in the queue every few seconds and open the start
   page when it is this resident's turn. Without it the page reloads itself (Refresh). */
(function () {
  "use strict";
  var box = document.getElementById("rush-status");
  if (!box || !window.fetch) return;
  var every = (Number(box.getAttribute("data-poll")) || 3) * 1000;
  function poll() {
    fetch(box.getAttribute("data-status-url"), { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && s.admitted) { window.location.assign(box.getAttribute("data-start-url")); return; }
        if (s) {
          document.getElementById("rush-position").textContent = s.position;
          document.getElementById("rush-wait").textContent = s.minutes;
          every = s.poll * 1000;
        }
        window.setTimeout(poll, every);
      }, function () { window.setTimeout(poll, every * 2); });
  }
  window.setTimeout(poll, every);
})();
