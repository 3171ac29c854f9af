/* The dashboard's charts (issue #9 §4), drawn with the vendored ECharts from the data the page
   passes as JSON (json_script: the Content-Security-Policy allows no inline script).  Each chart
   draws the rows of its section's table; clicking a bar, point or slice opens the same drill-down
   as the number in the table.  The SVG renderer keeps the charts sharp when printed. */
(function () {
  "use strict";
  var source = document.getElementById("dashboard-data");
  if (!source || typeof echarts === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#1d4ed8", "#0891b2", "#94a3b8", "#cbd5e1", "#b91c1c", "#15803d", "#a16207", "#7c3aed"];
  var charts = [];

  function value(cell) {
    if (!cell) {
      return 0;
    }
    return typeof cell.value === "number" ? cell.value : 0;
  }

  function seriesData(section, column) {
    return section.rows.map(function (row) {
      var cell = row.cells[column];
      return { name: row.label, value: value(cell), url: cell && cell.url ? cell.url : "" };
    });
  }

  function option(section) {
    var labels = section.rows.map(function (row) { return row.label; });
    var base = { animation: false, color: palette, tooltip: { trigger: section.chart === "pie" ? "item" : "axis" } };
    if (section.chart === "pie") {
      base.legend = { type: "scroll", bottom: 0 };
      base.series = [{ type: "pie", radius: ["35%", "65%"], data: seriesData(section, section.series[0]),
        label: { formatter: "{b}: {c}" } }];
      return base;
    }
    var horizontal = section.chart === "hbar";
    var rows = horizontal ? section.rows.slice().reverse() : section.rows;
    var copy = { rows: rows };
    var categoryAxis = { type: "category", data: horizontal ? labels.slice().reverse() : labels,
      axisLabel: { interval: 0, width: 140, overflow: "truncate" } };
    var valueAxis = { type: "value", minInterval: 1 };
    base.grid = { left: horizontal ? 150 : 50, right: 30, top: 40, bottom: 40 };
    base.legend = { top: 0 };
    base.xAxis = horizontal ? valueAxis : categoryAxis;
    base.yAxis = horizontal ? categoryAxis : valueAxis;
    base.series = section.series.map(function (column, i) {
      var kind = section.chart === "line" ? "line" : "bar";
      var entry = { type: kind, name: section.columns[column], data: seriesData(copy, column) };
      if (kind === "line" && i >= 2) {
        entry.lineStyle = { type: "dashed" };  // the year before
      }
      if (kind === "bar") {
        entry.barMaxWidth = 32;
        entry.label = { show: true, position: horizontal ? "right" : "top" };
      }
      return entry;
    });
    return base;
  }

  data.sections.forEach(function (section) {
    var box = document.getElementById("chart-" + section.key);
    if (!box || section.empty) {
      return;
    }
    var chart = echarts.init(box, null, { renderer: "svg" });
    chart.setOption(option(section));
    chart.on("click", function (params) {
      if (params.data && params.data.url) {
        window.location.href = params.data.url;
      }
    });
    charts.push(chart);
  });

  // The tables are always there for screen readers; on screen they are shown on request.
  document.querySelectorAll(".table-toggle").forEach(function (button) {
    var table = document.getElementById(button.getAttribute("aria-controls"));
    if (!table) {
      return;
    }
    table.classList.add("visually-hidden");
    button.hidden = false;
    button.addEventListener("click", function () {
      var shown = table.classList.toggle("visually-hidden") === false;
      button.setAttribute("aria-expanded", shown ? "true" : "false");
      button.textContent = button.getAttribute(shown ? "data-hide" : "data-show");
    });
  });

  function resize() {
    charts.forEach(function (chart) { chart.resize(); });
  }
  window.addEventListener("resize", resize);
  // Printing sets the charts to the width of A4 (dashboard.css): draw them again at that size.
  window.addEventListener("beforeprint", resize);
  window.addEventListener("afterprint", resize);
  if (window.matchMedia) {
    window.matchMedia("print").addEventListener("change", resize);
  }
})();
