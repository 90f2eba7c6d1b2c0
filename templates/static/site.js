/* Progressive enhancement only: every page is complete without this file.
   1. Re-computes statuses against the reader's own date (pages may be weeks old).
   2. Moves the "today" marker of SVG timelines.
   3. Searches the home page's regions by 汉字, pinyin or initials (the second block). */
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
}());

// The home page's search. The index is in small shards (api/search/<key>.json: one per first
// letter of the pinyin, and per first character of the name by code point modulo 10). When
// the box gets focus or the page is idle, the shards are fetched one after another, the one
// for the reader's first character first, so the first results need one small file even on
// a slow link. Ranked: exact name, name prefix, full-pinyin prefix, exact initials, initials
// prefix, name containing the text; within a rank prefecture-level first, then shorter names.
(function () {
  "use strict";
  var input = document.getElementById("region-filter");
  if (!input) { return; }
  var box = document.getElementById("filter-box");
  var state = document.getElementById("filter-status");
  var results = document.getElementById("filter-results");
  var groups = document.getElementById("province-groups");
  var base = box.getAttribute("data-base");
  var KEYS = "abcdefghijklmnopqrstuvwxyz".split("").concat(
    "0123456789".split("").map(function (n) { return "h" + n; }));
  var MAX = 30;
  var rows = [];
  var seen = {};
  var loaded = {};
  var pending = null;
  var started = false;
  box.hidden = false;

  // The live region is written only when its text changes, so nothing is announced twice.
  function say(text) {
    if (state.textContent !== text) { state.textContent = text; }
  }

  function keyOf(q) {
    var c = q.charAt(0);
    if (/[a-z]/.test(c)) { return c; }
    return /[\u3400-\u9fff]/.test(c) ? "h" + (c.charCodeAt(0) % 10) : null;
  }

  function add(data) {
    data.rows.split("|").forEach(function (line) {
      if (!line) { return; }
      var f = line.split(",");
      var place = data.places[+f[7]];
      var path = place[1] + "/" + (f[1] || f[2]) + "/";
      if (seen[path]) { return; }
      seen[path] = true;
      rows.push({name: f[0], stem: f[0].slice(0, f[0].length - f[5].length), path: path,
                 pinyin: [f[2], f[2] + f[4]], initials: [f[3], f[3] + f[5]],
                 level: +f[6], where: place[0], order: rows.length});
    });
  }

  // Fetches the shards one at a time (the query's own first), so a shard never waits
  // behind the whole index; the results are shown again as each arrives.
  function next() {
    if (pending) { return; }
    var q = query();
    var key = keyOf(q);
    if (!key || loaded[key]) {
      key = KEYS.filter(function (k) { return !loaded[k]; })[0];
    }
    if (!key) { show(); return; }
    pending = fetch(box.getAttribute("data-base") + "api/search/" + key + ".json")
      .then(function (r) {
        if (!r.ok) { throw new Error(r.status); }
        return r.json();
      })
      .then(function (data) {
        add(data);
        loaded[key] = true;
        pending = null;
        show();
        next();
      })
      .catch(function () {
        pending = null;
        started = false;
        say("地名没有载入，请检查网络后再输入一次。");
      });
  }

  function start() {
    if (started) { return; }
    started = true;
    show();
    next();
  }

  function query() { return input.value.toLowerCase().replace(/\s+/g, ""); }
  function starts(list, q) { return list.some(function (t) { return t.indexOf(q) === 0; }); }
  function rank(row, q) {
    if (row.name === q || row.stem === q) { return 0; }
    if (row.name.indexOf(q) === 0) { return 1; }
    if (starts(row.pinyin, q)) { return 2; }
    if (row.initials.indexOf(q) !== -1) { return 3; }
    if (starts(row.initials, q)) { return 4; }
    if (row.name.indexOf(q) !== -1) { return 5; }
    return -1;
  }

  function item(row) {
    var li = document.createElement("li");
    var a = document.createElement("a");
    a.href = base + row.path;
    a.textContent = row.name;
    li.appendChild(a);
    var small = document.createElement("small");
    small.className = "muted";
    small.textContent = " " + row.where;
    li.appendChild(small);
    return li;
  }

  var shown = null;
  function show() {
    var q = query();
    var key = keyOf(q);
    var complete = KEYS.every(function (k) { return loaded[k]; });
    groups.hidden = q !== "";
    results.hidden = q === "";
    if (!q) {
      results.textContent = "";
      shown = null;
      say(complete || !started ? "" : "正在载入地名…");
      return;
    }
    if (!(key ? loaded[key] : complete)) {
      say("正在载入地名…");
      if (started) { next(); } else { start(); }
      return;
    }
    var hits = [];
    rows.forEach(function (row) {
      var r = rank(row, q);
      if (r >= 0) { hits.push([r, row]); }
    });
    hits.sort(function (a, b) {
      return a[0] - b[0] || a[1].level - b[1].level ||
        a[1].name.length - b[1].name.length || a[1].order - b[1].order;
    });
    var top = hits.slice(0, MAX);
    var signature = q + "|" + hits.length + "|" +
      top.map(function (h) { return h[1].path; }).join(" ");
    if (signature === shown) { return; }   // nothing new to show or announce
    shown = signature;
    results.textContent = "";
    top.forEach(function (hit) { results.appendChild(item(hit[1])); });
    say(hits.length === 0 ? "没有找到匹配的地区。" :
      "找到 " + hits.length + " 个地区" + (hits.length > MAX ? "，显示前 " + MAX + " 个" : "") +
      "。");
  }

  input.addEventListener("focus", start);
  input.addEventListener("input", function () { shown = null; show(); });
  if ("requestIdleCallback" in window) { window.requestIdleCallback(start, {timeout: 4000}); }
}());
