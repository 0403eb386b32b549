/* The generate form (templates/playlists/generate.html), progressive enhancement:
   - shows only the part of the form the chosen kind needs;
   - the track pickers search as you type (the picker page's results, fetched as a fragment:
     the same server-rendered, escaped list the page shows); choosing a result sets the picker's
     track in place instead of following its link, and Enter in a picker's search box searches
     at once instead of sending the form.
   Without this script every part is shown, and a picker's "Find" button opens a page of results
   whose links come back to the form with the track chosen. */
(function () {
  "use strict";

  var form = document.querySelector("[data-generate]");
  if (!form) return;

  function showParts() {
    var checked = form.querySelector("input[name=kind]:checked");
    var kind = checked ? checked.value : "";
    form.querySelectorAll("[data-kind-part]").forEach(function (part) {
      part.hidden = part.dataset.kindPart !== kind;
    });
  }

  form.addEventListener("change", function (event) {
    if (event.target.name === "kind") showParts();
  });

  var pickUrl = form.dataset.pickUrl;
  var timers = {};
  var asked = {}; // the latest request of each picker: older answers are dropped

  function search(box) {
    var picker = box.closest("[data-picker]");
    var field = picker.dataset.picker;
    var results = picker.querySelector(".pick-results");
    var query = box.value.trim();
    var number = (asked[field] || 0) + 1;
    asked[field] = number;
    if (query.length < 2) {
      results.textContent = "";
      return;
    }
    var params = new URLSearchParams({ field: field, q: query });
    fetch(pickUrl + "?" + params.toString(), {
      credentials: "same-origin",
      headers: { "HX-Request": "true" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error("search failed");
        return response.text();
      })
      .then(function (html) {
        if (asked[field] === number) results.innerHTML = html; // escaped by the server
      })
      .catch(function () {
        if (asked[field] === number) results.textContent = "The search did not answer; try again.";
      });
  }

  form.addEventListener("input", function (event) {
    var box = event.target;
    if (!box.matches("[data-picker] input[type=search]")) return;
    var field = box.closest("[data-picker]").dataset.picker;
    clearTimeout(timers[field]);
    timers[field] = setTimeout(function () { search(box); }, 250);
  });

  form.addEventListener("keydown", function (event) {
    var box = event.target;
    if (event.key === "Enter" && box.matches("[data-picker] input[type=search]")) {
      event.preventDefault();
      clearTimeout(timers[box.closest("[data-picker]").dataset.picker]);
      search(box);
    }
  });

  form.addEventListener("click", function (event) {
    var choice = event.target.closest && event.target.closest("a.pick-choice");
    if (!choice) return;
    var picker = form.querySelector('[data-picker="' + choice.dataset.pickField + '"]');
    if (!picker) return;
    event.preventDefault();
    picker.querySelector("[data-picker-value]").value = choice.dataset.pickId;
    var chosen = picker.querySelector("[data-picker-chosen]");
    chosen.textContent = "";
    var title = document.createElement("strong");
    title.textContent = choice.dataset.pickTitle;
    var artists = document.createElement("span");
    artists.className = "muted";
    artists.textContent = " " + choice.dataset.pickArtists;
    chosen.appendChild(title);
    chosen.appendChild(artists);
    picker.querySelector(".pick-results").textContent = "";
    var box = picker.querySelector("input[type=search]");
    box.value = "";
    box.focus();
  });

  showParts();
})();
