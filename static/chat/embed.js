/* Helpdesk embed: put live chat and a "Create a ticket" button on your own site.
 *
 *   <script src="https://SLUG.example.com/chat/embed.js" defer></script>
 *
 * Options (data-* attributes on the script tag):
 *   data-mode="popup" (default) opens the portal in a small window; "iframe" shows the chat in a
 *     panel on the page (the portal lets only the origins its admins listed frame it).
 *   data-chat-label, data-ticket-label: the buttons' words.
 *   data-target="#some-id": put the buttons inside that element instead of a floating corner.
 *
 * The script touches nothing but the elements it creates, sets no cookies and loads nothing
 * else; styles are set through the DOM (allowed under a strict style-src).
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !script.src) {
    return;
  }
  var base = new URL(script.src).origin;
  var mode = script.getAttribute("data-mode") === "iframe" ? "iframe" : "popup";
  var chatLabel = script.getAttribute("data-chat-label") || "Chat with us";
  var ticketLabel = script.getAttribute("data-ticket-label") || "Create a ticket";
  var targetSelector = script.getAttribute("data-target");
  var here = window.location.origin;

  function style(el, rules) {
    Object.keys(rules).forEach(function (key) {
      el.style[key] = rules[key];
    });
    return el;
  }

  function button(label, primary) {
    var b = document.createElement("button");
    b.type = "button";
    b.textContent = label;
    style(b, {
      font: "inherit",
      fontSize: "15px",
      cursor: "pointer",
      borderRadius: "6px",
      padding: "8px 14px",
      marginLeft: "8px",
      border: "1px solid #1f6feb",
      background: primary ? "#1f6feb" : "#ffffff",
      color: primary ? "#ffffff" : "#1f6feb",
    });
    return b;
  }

  function popup(path) {
    var url = base + path + (path.indexOf("?") === -1 ? "?" : "&") + "origin=" + encodeURIComponent(here);
    var win = window.open(url, "helpdesk-" + path.replace(/\W+/g, ""), "width=460,height=680");
    if (!win) {
      window.location.href = url; // a blocked popup: go there instead
    }
  }

  var frame = null;
  function toggleFrame() {
    if (frame) {
      frame.hidden = !frame.hidden;
      return;
    }
    frame = document.createElement("iframe");
    frame.src = base + "/chat/?embed=1&origin=" + encodeURIComponent(here);
    frame.title = chatLabel;
    style(frame, {
      position: "fixed",
      right: "16px",
      bottom: "72px",
      width: "380px",
      height: "560px",
      maxWidth: "calc(100vw - 32px)",
      maxHeight: "calc(100vh - 96px)",
      border: "1px solid #d0d7de",
      borderRadius: "8px",
      background: "#ffffff",
      zIndex: "2147483000",
      boxShadow: "0 8px 24px rgba(0,0,0,.2)",
    });
    document.body.appendChild(frame);
  }

  function mount() {
    var box = document.createElement("div");
    box.setAttribute("data-helpdesk-embed", "");
    var chat = button(chatLabel, true);
    var ticket = button(ticketLabel, false);
    chat.addEventListener("click", function () {
      if (mode === "iframe") {
        toggleFrame();
      } else {
        popup("/chat/");
      }
    });
    ticket.addEventListener("click", function () {
      popup("/tickets/new/");
    });
    box.appendChild(ticket);
    box.appendChild(chat);
    var target = targetSelector ? document.querySelector(targetSelector) : null;
    if (target) {
      target.appendChild(box);
    } else {
      style(box, { position: "fixed", right: "16px", bottom: "16px", zIndex: "2147483000" });
      document.body.appendChild(box);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
