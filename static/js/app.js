// Progressive enhancement only: every flow works without this file. No inline script or style
// anywhere (the CSP allows neither): behaviour hangs off data-* attributes.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // htmx requests carry the CSRF token from the page's meta tag.
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) {
      event.detail.headers["X-CSRFToken"] = meta.getAttribute("content");
    }
    // An input whose own name differs from the parameter an endpoint expects
    // (the ticket subject → /kb/suggest/?q=).
    var elt = event.detail.elt;
    var param = elt && elt.getAttribute && elt.getAttribute("data-suggest-param");
    if (param) {
      event.detail.parameters[param] = elt.value;
      if (elt.name && elt.name !== param) {
        delete event.detail.parameters[elt.name];
      }
    }
  });

  // The viewer's time zone, for times shown in their zone until they pick one in their profile.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) {
    /* old browsers: server default applies */
  }

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  // --- files: a normal <input type=file multiple> that also takes drag and drop ------------
  function listFiles(zone, input) {
    var list = zone.querySelector("[data-file-list]");
    if (!list) {
      return;
    }
    list.textContent = "";
    Array.prototype.forEach.call(input.files, function (file) {
      var li = document.createElement("li");
      li.textContent = file.name + " (" + Math.max(1, Math.round(file.size / 1024)) + " KB)";
      list.appendChild(li);
    });
  }

  function setUpDropzone(zone) {
    var input = zone.querySelector('input[type="file"]');
    if (!input || zone.getAttribute("data-dropzone-ready")) {
      return;
    }
    zone.setAttribute("data-dropzone-ready", "1");
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("is-dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () {
        zone.classList.remove("is-dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      if (!event.dataTransfer || !event.dataTransfer.files.length) {
        return;
      }
      var merged = new DataTransfer();
      Array.prototype.forEach.call(input.files, function (f) { merged.items.add(f); });
      Array.prototype.forEach.call(event.dataTransfer.files, function (f) { merged.items.add(f); });
      input.files = merged.files;
      listFiles(zone, input);
    });
    input.addEventListener("change", function () { listFiles(zone, input); });
  }

  // --- canned responses: picking one inserts its text into the reply ------------------------
  function setUpMacroPicker(select) {
    if (select.getAttribute("data-macro-ready")) {
      return;
    }
    select.setAttribute("data-macro-ready", "1");
    select.addEventListener("change", function () {
      var option = select.options[select.selectedIndex];
      var target = document.getElementById(select.getAttribute("data-macro-target"));
      if (!option || !option.value || !target) {
        return;
      }
      var body = option.getAttribute("data-body") || "";
      target.value = target.value ? target.value.replace(/\s*$/, "") + "\n\n" + body : body;
      target.focus();
      select.selectedIndex = 0;
    });
  }

  // --- KB article links: "Insert link" puts the article's Markdown link into the reply -------
  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-insert-text]") : null;
    if (!button) {
      return;
    }
    var target = document.getElementById(button.getAttribute("data-insert-target"));
    if (!target) {
      return;
    }
    event.preventDefault(); // the control is also a link, for browsers without JavaScript
    var text = button.getAttribute("data-insert-text") || "";
    target.value = target.value ? target.value.replace(/\s*$/, "") + "\n\n" + text : text;
    target.focus();
  });

  // --- bulk selection ------------------------------------------------------------------------
  function setUpCheckAll(box) {
    if (box.getAttribute("data-check-ready")) {
      return;
    }
    box.setAttribute("data-check-ready", "1");
    box.addEventListener("change", function () {
      var form = box.form || document;
      Array.prototype.forEach.call(
        form.querySelectorAll('input[type="checkbox"][name="' + box.getAttribute("data-check-all") + '"]'),
        function (c) { c.checked = box.checked; }
      );
    });
  }

  // --- presence: "replying" while the agent writes -----------------------------------------
  function setUpPresence(region) {
    var state = document.getElementById(region.getAttribute("data-presence-state"));
    if (!state || region.getAttribute("data-presence-ready")) {
      return;
    }
    region.setAttribute("data-presence-ready", "1");
    document.querySelectorAll("[data-presence-compose]").forEach(function (area) {
      area.addEventListener("focus", function () {
        if (state.value !== "replying") {
          state.value = "replying";
          if (window.htmx) { window.htmx.trigger(region, "presence"); }
        }
      });
      area.addEventListener("blur", function () {
        if (!area.value.trim()) { state.value = "viewing"; }
      });
    });
  }

  function enhance(root) {
    root.querySelectorAll("[data-dropzone]").forEach(setUpDropzone);
    root.querySelectorAll("select[data-macro-target]").forEach(setUpMacroPicker);
    root.querySelectorAll("[data-check-all]").forEach(setUpCheckAll);
    root.querySelectorAll("[data-presence-state]").forEach(setUpPresence);
  }

  ready(function () { enhance(document); });
  document.addEventListener("htmx:load", function (event) { enhance(event.detail.elt); });

  // --- keyboard shortcuts: j/k move in the queue, o/Enter opens, r reply, n note, / search --
  function typing(target) {
    if (!target || !target.tagName) {
      return false;
    }
    var tag = target.tagName.toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function queueRows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-queue-row]"));
  }

  function moveInQueue(step) {
    var rows = queueRows();
    if (!rows.length) {
      var link = document.querySelector(step > 0 ? "a[data-shortcut-next]" : "a[data-shortcut-prev]");
      if (link) { window.location.href = link.href; }
      return;
    }
    var current = rows.findIndex(function (r) { return r.classList.contains("is-current"); });
    var next = current === -1 ? 0 : Math.min(rows.length - 1, Math.max(0, current + step));
    rows.forEach(function (r) { r.classList.remove("is-current"); });
    rows[next].classList.add("is-current");
    var a = rows[next].querySelector("a[data-ticket-link]");
    if (a) { a.focus(); }
    rows[next].scrollIntoView({ block: "nearest" });
  }

  function focusShortcut(name) {
    var el = document.querySelector('[data-shortcut="' + name + '"]');
    if (!el) {
      return false;
    }
    var details = el.closest("details");
    if (details) { details.open = true; }
    el.focus();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    var handled = true;
    switch (event.key) {
      case "j": moveInQueue(1); break;
      case "k": moveInQueue(-1); break;
      case "o": {
        var row = document.querySelector("[data-queue-row].is-current a[data-ticket-link]");
        if (row) { window.location.href = row.href; } else { handled = false; }
        break;
      }
      case "r": handled = focusShortcut("reply"); break;
      case "n": handled = focusShortcut("note"); break;
      case "/": handled = focusShortcut("search"); break;
      default: handled = false;
    }
    if (handled) {
      event.preventDefault();
    }
  });
})();
