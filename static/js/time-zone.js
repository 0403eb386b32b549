/* Onboarding step 1: preselect the browser's time zone while the listener still has the site's
   default (the form says so with data-suggest-time-zone). Only when the zone is in the list. */
(function () {
  "use strict";
  var form = document.querySelector("form[data-suggest-time-zone]");
  if (!form || typeof Intl === "undefined") return;
  var select = form.querySelector("select[name=time_zone]");
  var zone;
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  } catch (error) {
    return;
  }
  if (!select || !zone || select.value === zone) return;
  for (var i = 0; i < select.options.length; i += 1) {
    if (select.options[i].value === zone) {
      select.value = zone;
      return;
    }
  }
})();
