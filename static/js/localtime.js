// Herald: rewrite <time datetime> elements into the visitor's local time,
// in the visitor's locale (its order, words and 12- or 24-hour clock).
// The server renders UTC so the page is complete without this script;
// the tooltip keeps the UTC time, in the same locale. The year is shown
// when it is not the current one, as the server does.
(function () {
  "use strict";
  var thisYear = new Date().getFullYear();
  function format(d, utc) {
    var o = { month: "short", day: "numeric", hour: "numeric", minute: "2-digit", timeZoneName: "short" };
    if ((utc ? d.getUTCFullYear() : d.getFullYear()) !== thisYear) o.year = "numeric";
    if (utc) o.timeZone = "UTC";
    return new Intl.DateTimeFormat(undefined, o).format(d);
  }
  function localise() {
    var els = document.querySelectorAll("time[datetime]");
    for (var i = 0; i < els.length; i++) {
      var d = new Date(els[i].getAttribute("datetime"));
      if (isNaN(d.getTime())) continue;
      try {
        els[i].title = format(d, true);
        els[i].textContent = format(d, false);
      } catch (e) { return; } // no Intl: keep the server's UTC text
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", localise);
  else localise();
})();
