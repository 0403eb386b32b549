/* The home page's live client: keeps the list of recommendations current without a reload.

   Connects to /ws/recommendations/ (the session cookie signs it in), reconnects with
   exponential backoff (1 s doubling to 30 s, with jitter), pings every 25 s. On
   {"type": "recommendations.update", "reason", "impression_id", …} it fetches the
   server-rendered list fragment (GET /recommendations/list/?impression=…: one template renders
   every list; the server computed and recorded the pushed list already, of the page's length,
   so the fragment shows that list under that impression, and feedback on it names it) and swaps it into
   #rec-list; on {"type": "history.changed", "count"} it updates [data-history-count]. The status
   line says "Live", "Offline — reconnecting…" or "Updated just now (because …)".

   Plain script, no build step, no CDN. Without it the page still works: forms post and redirect. */
(function () {
  "use strict";

  var list = document.getElementById("rec-list");
  var status = document.querySelector("[data-live-status]");
  if (!list || !status || !("WebSocket" in window)) return;

  var state = status.querySelector("[data-live-state]");
  var because = status.querySelector("[data-live-reason]");
  var LIST_URL = "/recommendations/list/";
  var SOCKET_PATH = "/ws/recommendations/";
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var PING_EVERY_MS = 25000;
  var CLOSE_UNAUTHORISED = 4401;

  var REASONS = {
    history: "your history changed",
    "import": "your listening import was added",
    context: "your mood or activity changed",
    discovery: "your discovery setting changed",
    preferences: "your genres changed",
    demographics: "your details changed",
    blocks: "you blocked or unblocked an artist",
    skip: "you skipped two tracks in a row",
    feedback: "you rated a track",
    training: "the recommender learned from new listening",
    model: "the recommender learned from new listening",
    refresh: "you asked for a fresh list"
  };

  var socket = null;
  var backoff = BACKOFF_MIN_MS;
  var pingTimer = null;
  var reconnectTimer = null;
  var updatedAt = null;
  var updatedReason = "";
  var fetching = null;

  function say(text, kind) {
    state.textContent = text;
    status.setAttribute("data-state", kind);
  }

  function ago(ms) {
    var minutes = Math.floor(ms / 60000);
    if (minutes < 1) return "just now";
    if (minutes === 1) return "a minute ago";
    if (minutes < 60) return minutes + " minutes ago";
    return "at " + updatedAt.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
  }

  function showUpdated() {
    if (!updatedAt) return;
    because.textContent =
      "Updated " + ago(Date.now() - updatedAt.getTime()) +
      (updatedReason ? " (because " + updatedReason + ")" : "") + ".";
  }
  setInterval(showUpdated, 30000);

  function swapList(html) {
    list.innerHTML = html;
    if (window.htmx) window.htmx.process(list);
  }

  function refreshList(reason, impressionId) {
    // One fetch at a time; an update that arrives meanwhile is folded into the next one.
    if (fetching) {
      fetching.again = { reason: reason, impressionId: impressionId };
      return;
    }
    fetching = { again: null };
    var url = LIST_URL + (impressionId ? "?impression=" + encodeURIComponent(impressionId) : "");
    fetch(url, {
      credentials: "same-origin",
      headers: { "HX-Request": "true", "HX-Target": "rec-list" }
    })
      .then(function (response) {
        if (!response.ok) throw new Error("list " + response.status);
        return response.text();
      })
      .then(function (html) {
        swapList(html);
        updatedAt = new Date();
        updatedReason = REASONS[reason] || "";
        showUpdated();
        list.dispatchEvent(new CustomEvent("recommendations:updated", { bubbles: true, detail: { reason: reason } }));
      })
      .catch(function () {
        because.textContent = "A new list is ready: reload the page to see it.";
      })
      .then(function () {
        var again = fetching.again;
        fetching = null;
        if (again !== null) refreshList(again.reason, again.impressionId);
      });
  }

  function sameAsShown(results) {
    if (!Array.isArray(results) || !results.length) return false;
    var shown = Array.prototype.map.call(list.querySelectorAll("[data-track-id]"), function (el) {
      return el.getAttribute("data-track-id");
    });
    var pushed = results.map(function (result) {
      return String(result && result.track && result.track.id);
    });
    return shown.length === pushed.length && shown.every(function (id, i) { return id === pushed[i]; });
  }

  function onMessage(event) {
    var message;
    try {
      message = JSON.parse(event.data);
    } catch (error) {
      return;
    }
    if (!message || typeof message !== "object") return;
    if (message.type === "recommendations.update") {
      // The page that made the change (new controls, a block) shows the new list already: a
      // push of the very tracks it shows changes nothing here.
      if (sameAsShown(message.results)) return;
      refreshList(String(message.reason || ""), String(message.impression_id || ""));
    } else if (message.type === "history.changed" && typeof message.count === "number") {
      document.querySelectorAll("[data-history-count]").forEach(function (el) {
        el.textContent = String(message.count);
      });
    }
  }

  function stopPing() {
    if (pingTimer) clearInterval(pingTimer);
    pingTimer = null;
  }

  function scheduleReconnect() {
    if (reconnectTimer) return;
    var delay = backoff + Math.floor(Math.random() * backoff * 0.3);
    backoff = Math.min(backoff * 2, BACKOFF_MAX_MS);
    say("Offline — reconnecting…", "offline");
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      connect();
    }, delay);
  }

  function connect() {
    var scheme = window.location.protocol === "https:" ? "wss://" : "ws://";
    try {
      socket = new WebSocket(scheme + window.location.host + SOCKET_PATH);
    } catch (error) {
      scheduleReconnect();
      return;
    }
    socket.addEventListener("open", function () {
      backoff = BACKOFF_MIN_MS;
      say("Live", "live");
      stopPing();
      pingTimer = setInterval(function () {
        if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: "ping" }));
      }, PING_EVERY_MS);
    });
    socket.addEventListener("message", onMessage);
    socket.addEventListener("close", function (event) {
      stopPing();
      socket = null;
      if (event.code === CLOSE_UNAUTHORISED) {
        say("Offline — sign in again for live updates.", "offline");
        return;
      }
      scheduleReconnect();
    });
  }

  // Coming back to a tab or onto the network: try at once instead of waiting out the backoff.
  window.addEventListener("online", function () {
    if (reconnectTimer) {
      clearTimeout(reconnectTimer);
      reconnectTimer = null;
      backoff = BACKOFF_MIN_MS;
      connect();
    }
  });

  // A list swapped in by the page's own controls (htmx): say when it was made, unless a live
  // update is what the line is about.
  document.body.addEventListener("htmx:afterSwap", function (event) {
    if (event.target !== list || updatedAt) return;
    because.textContent =
      "List made at " + new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", hourCycle: "h23" }) + ".";
  });

  say("Connecting…", "connecting");
  connect();
})();
