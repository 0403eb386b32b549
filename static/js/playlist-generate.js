/* The generate form (templates/playlists/generate.html), progressive enhancement:
   - shows only the part of the form the chosen kind needs;
   - the track pickers search as you type (htmx fills the results); choosing a result sets the
     picker's track in place instead of following its link, and Enter in a picker's search box
     searches instead of sending the form.
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

  form.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-picker] input[type=search]")) {
      event.preventDefault();
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
