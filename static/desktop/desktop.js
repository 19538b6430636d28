/* Verity agent desktop: results as you type, answer drafts, copy, feedback, keyboard navigation.
 * Plain JavaScript, no build step. Every form also works without it (normal GET/POST). */
(function () {
  "use strict";

  var DEBOUNCE_MS = 180;
  var FRAGMENT = { "X-Verity-Fragment": "1" };

  function isTypingTarget(element) {
    if (!element) return false;
    var tag = element.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || element.isContentEditable;
  }

  // "/" focuses the search box (the main one, or the header one on article pages).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "/" || event.ctrlKey || event.metaKey || event.altKey || isTypingTarget(event.target)) return;
    var input = document.querySelector("[data-search-input]");
    if (!input) return;
    event.preventDefault();
    input.focus();
    input.select();
  });

  var form = document.getElementById("search-form");
  if (!form) return;
  var input = document.getElementById("q");
  var results = document.getElementById("results");
  var answerForm = document.getElementById("answer-form");
  var answerSlot = document.getElementById("answer");
  var resultsUrl = form.getAttribute("data-results-url");
  var timer = null;
  var pending = null;
  var lastQuery = input.value.trim();

  // --- results as you type ---------------------------------------------------------------------
  function loadResults(query) {
    if (pending) pending.abort();
    var controller = new AbortController();
    pending = controller;
    results.setAttribute("aria-busy", "true");
    fetch(resultsUrl + "?q=" + encodeURIComponent(query), { headers: FRAGMENT, signal: controller.signal, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) {
        if (pending !== controller) return;
        results.innerHTML = html;
      })
      .catch(function (error) {
        if (error.name !== "AbortError") console.warn("search failed", error);
      })
      .finally(function () {
        if (pending === controller) {
          pending = null;
          results.setAttribute("aria-busy", "false");
        }
      });
  }

  function syncQuery(query) {
    answerForm.elements.q.value = query;
    var url = new URL(window.location.href);
    if (query) url.searchParams.set("q", query); else url.searchParams.delete("q");
    window.history.replaceState(null, "", url.pathname + url.search);
    var next = document.querySelector(".lang-switch [name=next]");
    if (next) next.value = url.pathname + url.search;  // switching language keeps the query
  }

  input.addEventListener("input", function () {
    var query = input.value.trim();
    clearTimeout(timer);
    if (query === lastQuery) return;
    timer = setTimeout(function () {
      lastQuery = query;
      syncQuery(query);
      loadResults(query);
    }, DEBOUNCE_MS);
  });

  // Enter in the search box: results now, and an answer draft for the question.
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var query = input.value.trim();
    clearTimeout(timer);
    if (query !== lastQuery || !results.querySelector(".results-count")) {
      lastQuery = query;
      syncQuery(query);
      loadResults(query);
    }
    if (query) requestAnswer();
  });

  // --- keyboard: ArrowDown/ArrowUp through results, Enter opens (native link behaviour) ----------
  function resultLinks() {
    return Array.prototype.slice.call(results.querySelectorAll(".result-link"));
  }

  input.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown") return;
    var links = resultLinks();
    if (!links.length) return;
    event.preventDefault();
    links[0].focus();
  });

  results.addEventListener("keydown", function (event) {
    if (event.key !== "ArrowDown" && event.key !== "ArrowUp") return;
    var links = resultLinks();
    var index = links.indexOf(document.activeElement);
    if (index < 0) return;
    event.preventDefault();
    if (event.key === "ArrowDown") {
      links[Math.min(index + 1, links.length - 1)].focus();
    } else if (index === 0) {
      input.focus();
    } else {
      links[index - 1].focus();
    }
  });

  // --- answer draft --------------------------------------------------------------------------------
  // The draft streams: each verified sentence appears as the model writes it, then the whole draft
  // (citations, copy, feedback) replaces it. Without streaming support, the fragment in one piece.
  function showStreamedSentence(text) {
    var draft = answerSlot.querySelector(".answer-streaming");
    if (!draft) {
      answerSlot.innerHTML = '<div class="answer answer-streaming" aria-live="polite"><div class="answer-text"></div></div>';
      draft = answerSlot.querySelector(".answer-streaming");
    }
    var paragraph = document.createElement("p");
    paragraph.textContent = text;
    draft.querySelector(".answer-text").appendChild(paragraph);
  }

  function handleEvent(block) {
    var kind = "message", data = "";
    block.split("\n").forEach(function (line) {
      if (line.indexOf("event: ") === 0) kind = line.slice(7);
      else if (line.indexOf("data: ") === 0) data += line.slice(6);
    });
    if (!data) return false;
    var payload = JSON.parse(data);
    if (kind === "text") { showStreamedSentence(payload.text); return false; }
    if (kind === "final") { showAnswer(payload.html); return true; }
    throw new Error("stream error");
  }

  function streamAnswer(url) {
    return fetch(url, { method: "POST", body: new FormData(answerForm), headers: FRAGMENT, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok || !response.body) throw new Error("HTTP " + response.status);
        var reader = response.body.getReader();
        var decoder = new TextDecoder();
        var buffer = "";
        function pump() {
          return reader.read().then(function (chunk) {
            if (chunk.done) { if (!answerSlot.querySelector("article.answer")) throw new Error("no final event"); return; }
            buffer += decoder.decode(chunk.value, { stream: true });
            var parts = buffer.split("\n\n");
            buffer = parts.pop();
            for (var i = 0; i < parts.length; i++) { if (handleEvent(parts[i])) return; }
            return pump();
          });
        }
        return pump();
      });
  }

  function fetchAnswer() {
    return fetch(answerForm.action, { method: "POST", body: new FormData(answerForm), headers: FRAGMENT, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(showAnswer);
  }

  function showAnswer(html) {
    answerSlot.innerHTML = html;
    var toggle = answerSlot.querySelector("[data-frame-toggle]");
    if (toggle) {
      toggle.checked = readFramePreference();
      showFrame(toggle.checked);
    }
  }

  function requestAnswer() {
    answerForm.elements.q.value = input.value.trim();
    var button = document.getElementById("answer-button");
    button.disabled = true;
    answerSlot.setAttribute("aria-busy", "true");
    answerSlot.innerHTML = '<p class="hint">' + escapeHtml(answerForm.getAttribute("data-msg-loading")) + "</p>";
    var streamUrl = answerForm.getAttribute("data-stream");
    var request = streamUrl && window.ReadableStream && window.TextDecoder ? streamAnswer(streamUrl) : fetchAnswer();
    request
      .catch(function () {
        answerSlot.innerHTML = '<p class="field-error" role="alert">' + escapeHtml(answerForm.getAttribute("data-msg-error")) + "</p>";
      })
      .finally(function () {
        button.disabled = false;
        answerSlot.setAttribute("aria-busy", "false");
      });
  }

  answerForm.addEventListener("submit", function (event) {
    event.preventDefault();
    if (input.value.trim()) requestAnswer(); else input.focus();
  });

  // --- copy ----------------------------------------------------------------------------------------
  function copyWithTextarea(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.style.position = "fixed";
    area.style.top = "-1000px";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copyText(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).then(
        function () { return true; },
        function () { return copyWithTextarea(text); }
      );
    }
    return Promise.resolve(copyWithTextarea(text));
  }

  // The reply without [n] markers; with the space's greeting and closing when the box is ticked
  // (the choice is remembered in this browser).
  var FRAME_KEY = "verity.desktop.copyWithFrame";

  function readFramePreference() {
    try { return window.localStorage.getItem(FRAME_KEY) === "1"; } catch (error) { return false; }
  }

  function showFrame(on) {
    answerSlot.querySelectorAll("[data-frame]").forEach(function (paragraph) { paragraph.hidden = !on; });
  }

  answerSlot.addEventListener("change", function (event) {
    if (!event.target.matches("[data-frame-toggle]")) return;
    showFrame(event.target.checked);
    try { window.localStorage.setItem(FRAME_KEY, event.target.checked ? "1" : "0"); } catch (error) { /* private mode */ }
  });

  answerSlot.addEventListener("click", function (event) {
    var button = event.target.closest("[data-copy]");
    if (!button) return;
    var toggle = answerSlot.querySelector("[data-frame-toggle]");
    var framed = toggle && toggle.checked && document.getElementById(button.getAttribute("data-copy-framed"));
    var source = framed || document.getElementById(button.getAttribute("data-copy"));
    var status = answerSlot.querySelector(".copy-status");
    copyText(source.value).then(function (ok) {
      status.textContent = answerSlot.getAttribute(ok ? "data-msg-copied" : "data-msg-copy-failed");
    });
  });

  // Thumbs down opens the reasons: the first one gets the focus.
  answerSlot.addEventListener("toggle", function (event) {
    var details = event.target;
    if (!details.open || !details.matches || !details.matches(".feedback-down, .gap-report")) return;
    var first = details.querySelector("input[type=radio], textarea");
    if (first) first.focus();
  }, true);

  // --- feedback ------------------------------------------------------------------------------------
  answerSlot.addEventListener("submit", function (event) {
    var feedback = event.target.closest("form.feedback");
    if (!feedback) return;
    event.preventDefault();
    var data = new FormData(feedback);
    if (event.submitter && event.submitter.name) data.set(event.submitter.name, event.submitter.value);
    fetch(feedback.action, { method: "POST", body: data, headers: FRAGMENT, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.text();
      })
      .then(function (html) { (feedback.closest(".feedback-box, .gap-report") || feedback).outerHTML = html; })
      .catch(function () {
        feedback.insertAdjacentHTML("beforeend", '<p class="field-error" role="alert">' +
          escapeHtml(answerSlot.getAttribute("data-msg-error")) + "</p>");
      });
  });

  var initialToggle = answerSlot.querySelector("[data-frame-toggle]");
  if (initialToggle) {
    initialToggle.checked = readFramePreference();
    showFrame(initialToggle.checked);
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text || "";
    return div.innerHTML;
  }
})();
