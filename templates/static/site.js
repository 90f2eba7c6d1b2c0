/* Progressive enhancement only: every page is complete without this file.
   1. Re-computes statuses against the reader's own date (pages may be weeks old).
   2. Moves the "today" marker of SVG timelines.
   3. Filters the home page's region list by 汉字, pinyin or initials. */
(function () {
  "use strict";
  var DAY = 86400000;
  var STATUSES = ["upcoming", "open", "past", "announced"];
  function parse(iso) {
    var p = iso.split("-");
    return Date.UTC(+p[0], p[1] - 1, +p[2]);
  }
  var now = new Date();
  var today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  function status(first, last, announced) {
    if (announced) { return today < first ? "announced" : "past"; }
    if (today < first) { return "upcoming"; }
    return today <= last ? "open" : "past";
  }
  function md(ms) {
    var d = new Date(ms);
    return (d.getUTCMonth() + 1) + "月" + d.getUTCDate() + "日";
  }
  // Statuses are kept per exam sitting: a page may show several ([data-cycle]), and a
  // [data-when] line follows the statuses of its own sitting.
  function scope(el) {
    var box = el.closest("[data-cycle]");
    return box ? box.getAttribute("data-cycle") + "/" : "";
  }
  var current = {};
  Array.prototype.forEach.call(document.querySelectorAll("[data-status-kind]"), function (el) {
    var kind = el.getAttribute("data-status-kind");
    var s = status(parse(el.getAttribute("data-first")), parse(el.getAttribute("data-last")),
      el.hasAttribute("data-announced"));
    el.className = "status status-" + s;
    el.textContent = el.getAttribute("data-labels").split("|")[STATUSES.indexOf(s)];
    current[scope(el) + kind] = s;
    var item = el.closest(".ms");
    if (item) { item.className = "ms ms-" + s; }
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-when]"), function (el) {
    var prefix = scope(el);
    var show = el.getAttribute("data-when").split(" ").some(function (cond) {
      var kv = cond.split(":");
      return current[prefix + kv[0]] === kv[1];
    });
    el.hidden = !show;
  });
  Array.prototype.forEach.call(document.querySelectorAll("svg[data-start]"), function (svg) {
    var marker = svg.querySelector(".tl-today");
    if (!marker) { return; }
    var left = +svg.getAttribute("data-left");
    var perDay = +svg.getAttribute("data-per-day") / 1000;
    var days = Math.round((today - parse(svg.getAttribute("data-start"))) / DAY);
    var width = +svg.getAttribute("viewBox").split(" ")[2];
    var x = left + (days + 0.5) * perDay;
    var inside = days >= 0 && x <= width;
    marker.setAttribute("visibility", inside ? "visible" : "hidden");
    var off = svg.querySelector(".tl-off");
    if (off) {
      off.setAttribute("visibility", inside ? "hidden" : "visible");
      off.textContent = "今天（" + md(today) + "）不在图的时间范围内";
    }
    Array.prototype.forEach.call(marker.querySelectorAll("line"), function (line) {
      line.setAttribute("x1", x.toFixed(1));
      line.setAttribute("x2", x.toFixed(1));
    });
    Array.prototype.forEach.call(marker.querySelectorAll("text"), function (text) {
      text.setAttribute("x", x.toFixed(1));
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-milestones]"), function (el) {
    var raw = el.getAttribute("data-milestones");
    if (!raw) { return; }
    var list = JSON.parse(raw);
    var next = null;
    list.some(function (m) {
      var announced = m[0] === "release" && m[3] === 1;
      if (status(parse(m[1]), parse(m[2]), announced) !== "past") { next = m; return true; }
      return false;
    });
    var text;
    var year = function (m) { return m[1].slice(0, 4); };
    if (!next) {
      var last = +year(list.filter(function (m) { return m[0] === "exam"; }).pop());
      text = last + "年成绩周期已结束；" + (last + 1) + "年考试时间待公布";
    } else if (next[0] === "release") {
      var exam = list.slice(0, list.indexOf(next)).filter(function (m) {
        return m[0] === "exam";
      }).pop();
      text = year(exam) + "年成绩" + (next[3] ? " " + md(parse(next[1])) + " 发布（已公布）" :
        "预计 " + md(parse(next[1])) + "–" + md(parse(next[2])) + (next[4] ? "（暂定）" : ""));
    } else if (next[0] === "exam") {
      text = year(next) + "年考试 " + md(parse(next[1])) + (next[4] ? "（未核实）" : "");
    } else if (next[0] === "review") {
      text = "复核申请截止 " + md(parse(next[2])) + (next[3] ? "" : "（估算）");
    } else {
      text = next[5] + " " + md(parse(next[1])) +
        (next[2] !== next[1] ? "–" + md(parse(next[2])) : "") + (next[4] ? "（未核实）" : "");
    }
    el.textContent = text;
  });
  standingLine();
  var input = document.getElementById("region-filter");
  if (input) {
    var box = document.getElementById("filter-box");
    var empty = document.getElementById("filter-empty");
    var results = document.getElementById("filter-results");
    var groups = document.getElementById("province-groups");
    var base = box.getAttribute("data-base");
    var index = null;
    var loading = false;
    box.hidden = false;
    var show = function () {
      var q = input.value.toLowerCase().replace(/\s+/g, "");
      groups.hidden = q !== "";
      results.hidden = q === "";
      results.textContent = "";
      if (!q || !index) { empty.hidden = true; return; }
      var hits = index.filter(function (entry) {
        return entry[2].split(" ").some(function (t) { return t.indexOf(q) !== -1; });
      }).slice(0, 50);
      hits.forEach(function (entry) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = base + entry[1];
        a.textContent = entry[0];
        li.appendChild(a);
        if (entry[3]) {
          var small = document.createElement("small");
          small.className = "muted";
          small.textContent = " " + entry[3];
          li.appendChild(small);
        }
        results.appendChild(li);
      });
      empty.hidden = hits.length !== 0;
    };
    input.addEventListener("input", function () {
      if (index) { show(); return; }
      if (loading) { return; }
      loading = true;
      fetch(box.getAttribute("data-index")).then(function (r) { return r.json(); })
        .then(function (data) { index = data; show(); });
    });
  }

  // Guide pages' answer block: the status line of the period the reader's date falls in
  // (the build wrote one line per period, the build date's shown); "截至" names that date.
  function standingLine() {
    Array.prototype.forEach.call(document.querySelectorAll(".answer-when"), function (line) {
      var spans = Array.prototype.slice.call(line.querySelectorAll("[data-since]"));
      var times = line.querySelectorAll("time");
      if (!spans.length || today <= parse(times[0].getAttribute("datetime"))) { return; }
      var chosen = spans.filter(function (s) {
        return parse(s.getAttribute("data-since")) <= today;
      }).pop() || spans[0];
      spans.forEach(function (s) { s.hidden = s !== chosen; });
      var d = new Date(today);
      Array.prototype.forEach.call(times, function (time) {
        time.setAttribute("datetime", d.toISOString().slice(0, 10));
        time.textContent = d.getUTCFullYear() + "年" + md(today);
      });
    });
  }
}());
