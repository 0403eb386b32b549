// Draws every <figure data-chart> of an insights page with Chart.js (static/vendor/chartjs),
// from the JSON the page carries beside its table (templates/insights/_chart.html). Without
// JavaScript, or if Chart.js did not load, the tables stay as they are.
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") return;

  var PHONE = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
  var LABEL_MAX = PHONE ? 18 : 32;  // an axis label: beside the bars
  var LEGEND_MAX = PHONE ? 40 : 56;  // a legend entry: a line of its own at most
  var PALETTE = ["#3b6fd8", "#e07b39", "#2f9e6e", "#b5459b", "#8a6d3b", "#5a5f73", "#c9a227", "#2aa1b3"];

  function shorten(label, most) {
    label = String(label);
    most = most || LABEL_MAX;
    return label.length > most ? label.slice(0, most - 1) + "…" : label;
  }

  function formatter(format) {
    if (format === "percent") return function (v) { return v == null ? "–" : Math.round(v * 100) + " %"; };
    if (format === "decimal") return function (v) { return v == null ? "–" : Number(v).toFixed(2); };
    return function (v) { return v == null ? "–" : Number(v).toLocaleString(); };
  }

  function config(spec) {
    var kind = spec.kind === "hbar" ? "bar" : spec.kind;
    var format = formatter(spec.format);
    var many = spec.series.length > 1;
    var datasets = spec.series.map(function (series, index) {
      var colour = PALETTE[index % PALETTE.length];
      var dataset = { label: series.label, data: series.values, borderColor: colour, backgroundColor: colour };
      if (kind === "line" || kind === "radar") {
        dataset.backgroundColor = colour + "33";
        dataset.fill = kind === "radar";
        // a line through counts: monotone, so it never dips below zero between two days
        // (Chart.js' radar knows no monotone: straight sides there)
        if (kind === "line") dataset.cubicInterpolationMode = "monotone";
        dataset.pointRadius = spec.labels.length > 40 ? 0 : 3;
        dataset.spanGaps = true;
      }
      if (kind === "doughnut") {
        dataset.backgroundColor = spec.labels.map(function (_, i) { return PALETTE[i % PALETTE.length]; });
        dataset.borderColor = "#fff";
      }
      return dataset;
    });
    var options = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: {
        legend: { display: many || kind === "doughnut", position: "bottom", labels: {
          // a long series name ("title — artists") would run off a phone's screen: the legend
          // shows its start; the tooltip and the table's header the whole name
          generateLabels: function (chart) {
            var own = (window.Chart.overrides[chart.config.type] || {}).plugins;
            var make = (own && own.legend && own.legend.labels && own.legend.labels.generateLabels)
              || window.Chart.defaults.plugins.legend.labels.generateLabels;
            return make(chart).map(function (item) { item.text = shorten(item.text, LEGEND_MAX); return item; });
          }
        } },
        tooltip: { callbacks: { label: function (ctx) {
          var value = ctx.parsed && typeof ctx.parsed === "object" ? (spec.kind === "hbar" ? ctx.parsed.x : (kind === "radar" ? ctx.parsed.r : ctx.parsed.y)) : ctx.parsed;
          return (ctx.dataset.label ? ctx.dataset.label + ": " : "") + format(value);
        } } }
      }
    };
    if (kind === "bar" || kind === "line") {
      var valueAxis = { beginAtZero: true, stacked: !!spec.stacked, ticks: { callback: function (v) { return format(v); } } };
      if (spec.max != null) valueAxis.max = spec.max;
      // counts are whole: no 0.2, 0.4 … ticks when the numbers are small (Chart.js' precision
      // rounds the generated ticks; the formatter would still print a fraction it kept)
      if (spec.format !== "percent" && spec.format !== "decimal") valueAxis.ticks.precision = 0;
      var labelAxis = { stacked: !!spec.stacked, ticks: { autoSkip: true, maxRotation: 0 } };
      // long names (artists, "title — artists") would squeeze the bars on a phone: the axis
      // shows the start, the tooltip and the table the whole name
      if (spec.kind === "hbar") labelAxis.ticks.callback = function (value) {
        return shorten(this.getLabelForValue(value));
      };
      if (spec.kind === "hbar") {
        options.indexAxis = "y";
        options.scales = { x: valueAxis, y: labelAxis };
      } else {
        options.scales = { x: labelAxis, y: valueAxis };
      }
    }
    if (kind === "radar") {
      options.scales = { r: { beginAtZero: true, suggestedMax: spec.max != null ? spec.max : (spec.format === "percent" ? 1 : undefined), ticks: { display: false } } };
    }
    return { type: kind, data: { labels: spec.labels, datasets: datasets }, options: options };
  }

  function draw(figure) {
    var data = document.getElementById(figure.getAttribute("data-chart"));
    if (!data) return;
    var spec = JSON.parse(data.textContent);
    var holder = figure.querySelector(".chart-canvas");
    var canvas = holder && holder.querySelector("canvas");
    if (!canvas) return;
    holder.hidden = false;
    // hbar: room for every bar; radar and doughnut: a square-ish shape needs more height
    holder.style.height = spec.kind === "hbar" ? Math.max(160, 28 * spec.labels.length + 40) + "px"
      : (spec.kind === "radar" ? "340px" : "");
    new window.Chart(canvas, config(spec));
    figure.setAttribute("data-drawn", "");
    var table = figure.querySelector("details.chart-table");
    if (table) table.open = false;
  }

  function drawAll(root) {
    (root || document).querySelectorAll("figure[data-chart]:not([data-drawn]):not([data-empty])").forEach(draw);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  else drawAll();
  window.musicrecCharts = { drawAll: drawAll };
})();
