/* Genre picker (templates/accounts/_genre_picker.html), progressive enhancement:
   - shows a search box that filters the genres of both groups as you type;
   - keeps the "n chosen: …" lines current (the chosen genres stay in view while filtering);
   - a genre ticked in one group is unticked in the other (it cannot be both).
   Without this script the page is plain checkboxes and the server checks everything. */
(function () {
  "use strict";

  function fold(text) {
    // case- and accent-insensitive: "Música" matches "musica"
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase().trim();
  }

  function setUp(picker) {
    var groups = Array.prototype.slice.call(picker.querySelectorAll("[data-genre-group]"));
    var options = Array.prototype.slice.call(picker.querySelectorAll(".genre-option"));
    var filter = picker.querySelector("[data-genre-filter]");
    var box = filter && filter.querySelector("input[type=search]");
    var status = filter && filter.querySelector("[data-genre-filter-status]");

    options.forEach(function (option) {
      option.dataset.genreKey = fold(option.dataset.genreName || option.textContent);
    });

    function updateChosen() {
      groups.forEach(function (group) {
        var line = group.querySelector("[data-chosen]");
        if (!line) return;
        var checked = group.querySelectorAll("input[type=checkbox]:checked");
        line.textContent = checked.length + " chosen" + (checked.length ? ": " : "");
        checked.forEach(function (input) {
          var name = document.createElement("span");
          name.className = "chosen-name";
          name.textContent = input.parentNode.textContent.trim();
          line.appendChild(name);
        });
      });
    }

    function applyFilter() {
      var needle = fold(box.value);
      var shown = 0;
      options.forEach(function (option) {
        var match = !needle || option.dataset.genreKey.indexOf(needle) !== -1;
        option.hidden = !match;
        if (match) shown += 1;
      });
      var perGroup = groups.length ? shown / groups.length : shown;
      status.textContent = needle
        ? (perGroup === 0 ? "No genre matches “" + box.value.trim() + "”." : perGroup + " genre" + (perGroup === 1 ? "" : "s") + " match.")
        : "";
    }

    picker.addEventListener("change", function (event) {
      var input = event.target;
      if (!input.matches || !input.matches("input[type=checkbox]")) return;
      if (input.checked) {
        groups.forEach(function (group) {
          if (group.contains(input)) return;
          group.querySelectorAll("input[type=checkbox]").forEach(function (other) {
            if (other.value === input.value) other.checked = false;
          });
        });
      }
      updateChosen();
    });

    if (filter && box) {
      filter.hidden = false;
      box.addEventListener("input", applyFilter);
      // Enter in the search box must not submit the form.
      box.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    updateChosen();
  }

  document.querySelectorAll("[data-genre-picker]").forEach(setUp);
})();
