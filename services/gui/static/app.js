// jobmatch: what the pages do with JavaScript. Every form works without it.
(function () {
  "use strict";

  // An offer's page records the view once shown (GET changes nothing, so that a
  // prefetch is not a view), then the time spent on it when the candidate leaves it.
  var offer = document.querySelector("[data-beacon]");
  if (offer) {
    var view = new URLSearchParams();
    view.append("csrf", offer.dataset.csrf);
    fetch(offer.dataset.view, { method: "POST", body: view, credentials: "same-origin", keepalive: true });
    var shown = Date.now();
    addEventListener("pagehide", function () {
      var data = new URLSearchParams();
      data.append("csrf", offer.dataset.csrf);
      data.append("seconds", String(Math.round((Date.now() - shown) / 1000)));
      navigator.sendBeacon(offer.dataset.beacon, data);
    });
  }

  // A CV over the size limit is refused by the browser before it is sent (the server
  // refuses it anyway, but only after the whole file crossed the network).
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      var tooLarge = file && file.size > Number(input.dataset.maxBytes);
      input.setCustomValidity(tooLarge ? input.dataset.tooLarge : "");
      if (tooLarge) input.reportValidity();
    });
  });

  // htmx replaced a section: when the focused element went with the old one (a
  // "Retirer" button), the new section's heading takes the focus, so that keyboard
  // and screen-reader users stay where they were instead of being sent to the top.
  document.addEventListener("htmx:afterSettle", function (event) {
    // What the new section says of the change (its role=status line) is read out by the
    // page's own live region, which, unlike the replaced section, was there all along.
    var status = event.target.querySelector && event.target.querySelector("[role=status]");
    var announcer = document.getElementById("annonce");
    if (status && announcer) announcer.textContent = status.textContent;
    var focused = document.activeElement;
    if (focused && focused !== document.body && document.contains(focused)) return;
    var heading = event.target.querySelector && event.target.querySelector("h1, h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
})();
