// jobmatch: what the pages do with JavaScript. Every form works without it.
(function () {
  "use strict";

  // Time spent on an offer's page, sent when the candidate leaves it.
  var offer = document.querySelector("[data-beacon]");
  if (offer) {
    var shown = Date.now();
    addEventListener("pagehide", function () {
      var data = new URLSearchParams();
      data.append("csrf", offer.dataset.csrf);
      data.append("seconds", String(Math.round((Date.now() - shown) / 1000)));
      navigator.sendBeacon(offer.dataset.beacon, data);
    });
  }

  // htmx replaced a section: when the focused element went with the old one (a
  // "Retirer" button), the new section's heading takes the focus, so that keyboard
  // and screen-reader users stay where they were instead of being sent to the top.
  document.addEventListener("htmx:afterSettle", function (event) {
    var focused = document.activeElement;
    if (focused && focused !== document.body && document.contains(focused)) return;
    var heading = event.target.querySelector && event.target.querySelector("h1, h2");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
    }
  });
})();
