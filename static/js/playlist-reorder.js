/* Playlist reordering (templates/playlists/detail.html), progressive enhancement:
   - drag a track (native HTML5 drag and drop) to another place;
   - the ↑ / ↓ buttons move a track in place, keeping the keyboard focus on the button.
   Each move is ONE request, the same one the buttons send without JavaScript
   ({track_id, position} to the playlist's move URL), asking for JSON: the server answers the new
   order, which is checked against the page (a difference, e.g. a change made in another tab,
   reloads the page); a refusal puts the track back and says why. Without this script the
   buttons are plain POST forms and the page reloads. */
(function () {
  "use strict";

  var list = document.querySelector("[data-reorder]");
  if (!list) return;
  var url = list.dataset.moveUrl;
  var status = document.getElementById("reorder-status");
  var tokenInput = list.querySelector("input[name=csrfmiddlewaretoken]");
  var csrf = tokenInput ? tokenInput.value : "";
  var dragged = null;
  var draggedFrom = null; // the sibling the dragged row was before (to put it back)

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll(".playlist-entry"));
  }

  function renumber() {
    var all = rows();
    all.forEach(function (row, index) {
      var position = index + 1;
      row.querySelector(".entry-position").textContent = String(position);
      var up = row.querySelector("[data-move=up]");
      var down = row.querySelector("[data-move=down]");
      up.querySelector("input[name=position]").value = String(position - 1);
      up.querySelector("button").disabled = position === 1;
      down.querySelector("input[name=position]").value = String(position + 1);
      down.querySelector("button").disabled = position === all.length;
    });
  }

  function say(text) {
    if (status) status.textContent = text;
  }

  function order() {
    return rows().map(function (row) { return row.dataset.trackId; });
  }

  function send(row, position, putBack) {
    list.setAttribute("aria-busy", "true");
    var body = new URLSearchParams();
    body.set("track_id", row.dataset.trackId);
    body.set("position", String(position));
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRFToken": csrf },
      body: body
    })
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        if (!answer.ok) throw new Error(answer.data.error || "the move was refused");
        if (answer.data.order.map(String).join(",") !== order().join(",")) {
          window.location.reload(); // the playlist changed elsewhere: show what is stored
          return;
        }
        list.dataset.moved = String(Number(list.dataset.moved || "0") + 1);
        say("Moved “" + row.dataset.title + "” to position " + position + " of " + rows().length + ".");
      })
      .catch(function (error) {
        putBack();
        renumber();
        say("“" + row.dataset.title + "” was not moved: " + error.message + ".");
      })
      .finally(function () { list.removeAttribute("aria-busy"); });
  }

  function placeBack(row, next) {
    return function () { list.insertBefore(row, next && next.parentNode === list ? next : null); };
  }

  // --- the buttons: move in place
  list.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form.entry-move")) return;
    event.preventDefault();
    var row = form.closest(".playlist-entry");
    var all = rows();
    var position = Number(form.querySelector("input[name=position]").value);
    if (position < 1 || position > all.length) return;
    var next = row.nextElementSibling;
    list.removeChild(row);
    list.insertBefore(row, rows()[position - 1] || null);
    renumber();
    var button = form.querySelector("button");
    if (button.disabled) {
      var other = row.querySelector(form.dataset.move === "up" ? "[data-move=down] button" : "[data-move=up] button");
      if (other) other.focus();
    } else {
      button.focus();
    }
    send(row, position, placeBack(row, next));
  });

  // --- drag and drop
  function clearMarks() {
    list.querySelectorAll(".drop-before, .drop-after").forEach(function (row) {
      row.classList.remove("drop-before", "drop-after");
    });
  }

  function after(row, event) {
    var box = row.getBoundingClientRect();
    return event.clientY >= box.top + box.height / 2;
  }

  list.addEventListener("dragstart", function (event) {
    var row = event.target.closest && event.target.closest(".playlist-entry");
    if (!row) return;
    dragged = row;
    draggedFrom = row.nextElementSibling;
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.trackId);
    row.classList.add("dragging");
  });

  list.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var row = event.target.closest && event.target.closest(".playlist-entry");
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    if (row && row !== dragged) row.classList.add(after(row, event) ? "drop-after" : "drop-before");
  });

  list.addEventListener("dragleave", function (event) {
    if (!list.contains(event.relatedTarget)) clearMarks();
  });

  list.addEventListener("drop", function (event) {
    if (!dragged) return;
    event.preventDefault();
    var row = event.target.closest && event.target.closest(".playlist-entry");
    var moving = dragged;
    var from = rows().indexOf(moving) + 1;
    clearMarks();
    if (!row || row === moving) return;
    list.insertBefore(moving, after(row, event) ? row.nextElementSibling : row);
    var position = rows().indexOf(moving) + 1;
    if (position === from) return;
    renumber();
    send(moving, position, placeBack(moving, draggedFrom));
  });

  list.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    clearMarks();
  });
})();
