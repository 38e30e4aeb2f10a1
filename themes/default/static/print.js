// Printing: paper has no links and no clock. Before a page prints, each
// link in its text gets its full address to show after it, and the page
// header the date it was printed, in the site's date format.
(function () {
  "use strict";
  var MONTHS = ["January", "February", "March", "April", "May", "June", "July",
    "August", "September", "October", "November", "December"];
  function prepare() {
    var d = new Date();
    var when = "Printed " + d.getDate() + " " + MONTHS[d.getMonth()] + " " + d.getFullYear();
    document.querySelectorAll(".print-date").forEach(function (e) { e.textContent = when; });
    document.querySelectorAll(".prose a[href], .report-case-studies .card-title a[href]").forEach(function (a) {
      var href = a.getAttribute("href");
      if (href.charAt(0) === "#" || a.closest(".footnote-ref, .footnote-back")) return;
      a.setAttribute("data-print-url", a.href);
    });
  }
  window.addEventListener("beforeprint", prepare);
  // Headless printing (a PDF made by a browser) may not announce itself.
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", prepare);
  else prepare();
})();
