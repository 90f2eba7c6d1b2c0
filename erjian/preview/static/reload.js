// Live preview client, served only by `python build.py serve` (never published).
// Speaks python-livereload's protocol over the preview's own websocket (/livereload):
// hello -> hello -> info, then {"command": "reload", "path": <input file, site-relative>}.
// A stylesheet edit swaps the page's matching <link rel=stylesheet> for a fresh copy (the
// page, its scroll position and its script state stay); anything else reloads the page.
// The page knows which build it comes from (data-build on its script tag); when it
// (re)connects, the server says which build is current, and a page that missed a rebuild
// (saved twice while it was reloading, or the server restarted) reloads. When the
// connection drops it is retried every few seconds.
(function () {
  "use strict";
  var script = document.currentScript;
  var build = (script && script.getAttribute("data-build")) || "";
  var url = "ws://" + location.host + "/livereload";
  var delay = 500;          // next reconnect attempt, doubled up to MAX_DELAY
  var MAX_DELAY = 2000;
  var leaving = false;

  window.addEventListener("pagehide", function () { leaving = true; });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {   // back from the back/forward cache: its socket is gone
      location.reload();
    }
  });

  function basename(path) {
    return String(path).split(/[\\/]/).pop().split("?")[0];
  }

  function swapStylesheets(name) {
    var links = Array.prototype.filter.call(
      document.querySelectorAll('link[rel~="stylesheet"][href]'),
      function (link) { return basename(new URL(link.href).pathname) === name; });
    links.forEach(function (link) {
      var fresh = link.cloneNode(false);
      var target = new URL(link.href);
      target.searchParams.set("preview", String(Date.now()));
      fresh.href = target.pathname + target.search;
      fresh.addEventListener("load", function () { link.remove(); });
      fresh.addEventListener("error", function () { location.reload(); });
      link.after(fresh);
    });
    return links.length > 0;
  }

  function handle(message) {
    if (message.command !== "reload") {
      return;
    }
    var path = String(message.path || "");
    if (/\.css$/i.test(path) && swapStylesheets(basename(path))) {
      build = String(message.build || build);   // the page is now that build's
      return;
    }
    location.reload();
  }

  function connect() {
    var socket;
    try {
      socket = new WebSocket(url);
    } catch (error) {
      retry();
      return;
    }
    socket.addEventListener("open", function () {
      delay = 500;
      socket.send(JSON.stringify({
        command: "hello", protocols: ["http://livereload.com/protocols/official-7"]}));
    });
    socket.addEventListener("message", function (event) {
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (error) {
        return;
      }
      if (message.command === "hello") {
        socket.send(JSON.stringify({command: "info", url: location.href, plugins: {}}));
        return;
      }
      if (message.command === "ready") {   // the server will send this page its reloads
        if (message.build && build && message.build !== build) {
          location.reload();                // it rebuilt since this page was served
          return;
        }
        window.__previewConnected = true;   // (read by the preview's own tests)
        return;
      }
      handle(message);
    });
    socket.addEventListener("close", function () {
      window.__previewConnected = false;
      if (leaving) {
        return;
      }
      retry();
    });
  }

  function retry() {
    setTimeout(connect, delay);
    delay = Math.min(delay * 2, MAX_DELAY);
  }

  connect();
})();
