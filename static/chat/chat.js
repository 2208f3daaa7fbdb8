// The live part of the chat pages (customer and agent). Without this file the pages still work:
// forms post and redirect, and the conversation shows on reload. With it, the page polls
// /api/v1/chats/<id>/messages/?after=<last sequence> about once a second (every 5 s while the
// tab is hidden or after an error) and sends messages through the same API.
// No inline script or style anywhere (strict CSP): everything hangs off data-* attributes.
(function () {
  "use strict";

  var HIDDEN_MS = 5000;
  var ERROR_MS = 5000;

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function timeText(iso) {
    try {
      return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return "";
    }
  }

  function Chat(root) {
    this.root = root;
    this.api = root.getAttribute("data-api");
    this.after = parseInt(root.getAttribute("data-after") || "0", 10);
    this.pollMs = parseInt(root.getAttribute("data-poll-ms") || "1000", 10);
    this.viewer = root.getAttribute("data-viewer");
    this.status = root.getAttribute("data-status");
    this.ticketBase = root.getAttribute("data-ticket-base") || "";
    this.log = root.querySelector("[data-chat-log]");
    this.empty = root.querySelector("[data-chat-empty]");
    this.statusText = root.querySelector("[data-chat-status]");
    this.form = root.querySelector("form[data-chat-form]");
    this.error = root.querySelector("[data-chat-error]");
    this.timer = null;
    this.inFlight = false;
    this.stopped = false;
  }

  Chat.prototype.start = function () {
    var self = this;
    if (this.form) {
      this.form.addEventListener("submit", function (event) {
        event.preventDefault();
        self.send();
      });
      var box = this.form.querySelector("textarea");
      if (box) {
        box.addEventListener("keydown", function (event) {
          if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
            event.preventDefault();
            self.send();
          }
        });
      }
    }
    document.addEventListener("visibilitychange", function () {
      if (!document.hidden) {
        self.schedule(0);
      }
    });
    this.scrollDown();
    if (this.status !== "ended") {
      this.schedule(this.pollMs);
    }
  };

  Chat.prototype.schedule = function (ms) {
    var self = this;
    if (this.stopped) {
      return;
    }
    if (this.timer) {
      clearTimeout(this.timer);
    }
    this.timer = setTimeout(function () {
      self.poll();
    }, ms);
  };

  Chat.prototype.poll = function () {
    var self = this;
    if (this.inFlight) {
      return;
    }
    this.inFlight = true;
    var began = Date.now();
    fetch(this.api + "?after=" + this.after, {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (data) {
        self.inFlight = false;
        self.add(data.results || []);
        self.update(data.chat);
        // A steady rate (one poll per interval, not an interval after each answer).
        var wait = document.hidden ? HIDDEN_MS : self.pollMs - (Date.now() - began);
        self.schedule(Math.max(wait, 100));
      })
      .catch(function () {
        self.inFlight = false;
        self.schedule(ERROR_MS);
      });
  };

  Chat.prototype.add = function (messages) {
    var self = this;
    messages.forEach(function (m) {
      if (m.sequence <= self.after) {
        return; // already shown (a send and a poll crossing)
      }
      self.after = m.sequence;
      self.log.appendChild(self.render(m));
    });
    if (messages.length) {
      if (this.empty) {
        this.empty.hidden = true;
      }
      this.scrollDown();
    }
  };

  Chat.prototype.render = function (m) {
    var li = document.createElement("li");
    li.className = "chat-msg chat-msg-" + m.kind + (m.kind === this.viewer ? " chat-msg-mine" : "");
    li.setAttribute("data-sequence", String(m.sequence));
    var head = document.createElement("div");
    head.className = "chat-msg-head";
    if (m.kind !== "system") {
      var who = document.createElement("span");
      who.className = "author";
      who.textContent = m.author_name;
      head.appendChild(who);
      head.appendChild(document.createTextNode(" "));
    }
    var time = document.createElement("time");
    time.setAttribute("datetime", m.created_at);
    time.textContent = timeText(m.created_at);
    head.appendChild(time);
    var body = document.createElement("p");
    body.className = "chat-msg-body";
    body.textContent = m.body; // never HTML: what people type is shown as typed
    li.appendChild(head);
    li.appendChild(body);
    return li;
  };

  Chat.prototype.update = function (chat) {
    if (!chat || chat.status === this.status) {
      return;
    }
    var previous = this.status;
    this.status = chat.status;
    this.root.setAttribute("data-status", chat.status);
    if (this.viewer === "agent" && previous === "waiting") {
      window.location.reload(); // accepted elsewhere: the page's actions change
      return;
    }
    if (this.statusText) {
      if (chat.status === "active" && chat.agent) {
        this.statusText.textContent = this.root.getAttribute("data-text-active").replace("%(name)s", chat.agent.name);
      } else if (chat.status === "ended") {
        this.statusText.textContent = this.root.getAttribute("data-text-ended");
      }
    }
    if (chat.status === "ended") {
      this.stopped = true;
      Array.prototype.forEach.call(document.querySelectorAll("[data-open-only]"), function (el) {
        el.hidden = true;
      });
      var ended = this.root.querySelector("[data-chat-ended]");
      if (ended) {
        ended.hidden = false;
        if (chat.ticket && this.ticketBase) {
          var link = ended.querySelector("[data-ticket-link]");
          if (link) {
            link.href = this.ticketBase + chat.ticket.reference + "/";
            link.textContent = chat.ticket.reference;
            link.parentNode.hidden = false;
          }
        }
      }
    }
  };

  Chat.prototype.send = function () {
    var self = this;
    var box = this.form.querySelector("textarea");
    var text = box.value.trim();
    if (!text) {
      this.showError(this.form.getAttribute("data-text-empty"));
      return;
    }
    var button = this.form.querySelector('button[type="submit"]');
    if (button) {
      button.disabled = true;
    }
    fetch(this.api, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        Accept: "application/json",
        "X-CSRFToken": csrfToken(),
      },
      body: JSON.stringify({ body: text }),
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (button) {
          button.disabled = false;
        }
        if (!result.ok) {
          var errors = result.data.errors || {};
          self.showError((errors.body && errors.body[0]) || result.data.detail || "");
          return;
        }
        self.showError("");
        box.value = ""; // kept until the server has it: a failed send loses nothing
        box.focus();
        self.add([result.data]);
        self.schedule(0);
      })
      .catch(function () {
        if (button) {
          button.disabled = false;
        }
        self.showError(self.form.getAttribute("data-text-failed"));
      });
  };

  Chat.prototype.showError = function (text) {
    if (this.error) {
      this.error.textContent = text || "";
      this.error.hidden = !text;
    }
  };

  Chat.prototype.scrollDown = function () {
    if (this.log) {
      this.log.scrollTop = this.log.scrollHeight;
    }
  };

  function ready(fn) {
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", fn);
    } else {
      fn();
    }
  }

  ready(function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-chat]"), function (root) {
      new Chat(root).start();
    });
  });
})();
