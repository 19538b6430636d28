/* The article form (governance/admin.py ArticleAdminForm): a Markdown editor with toolbar and a preview
   rendered by the server exactly as it would be published; a slug proposed from the title; the audience
   proposed from the space. Without JavaScript the form still works: the server makes the same proposals.
   A static file, not inline: the Content-Security-Policy allows scripts from 'self' only. */
(function () {
  "use strict";

  // kb/slugs.py spells slugs the same way (ä → ae, ß → ss; other accents dropped).
  var TRANSLITERATION = {
    "ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "ß": "ss", "ẞ": "SS",
    "æ": "ae", "Æ": "Ae", "œ": "oe", "Œ": "Oe", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "đ": "d", "Đ": "D",
    "þ": "th", "Þ": "Th"
  };
  var SLUG_MAX_LENGTH = 120;

  function slugFromTitle(title) {
    var text = Array.from(title).map(function (c) { return TRANSLITERATION[c] || c; }).join("");
    var slug = text.normalize("NFKD").replace(/\p{M}/gu, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
    if (slug.length > SLUG_MAX_LENGTH) {
      var cut = slug.slice(0, SLUG_MAX_LENGTH + 1);
      slug = cut.indexOf("-") >= 0 ? cut.slice(0, cut.lastIndexOf("-")) : slug.slice(0, SLUG_MAX_LENGTH);
    }
    return slug.replace(/^-+|-+$/g, "");
  }

  /* The slug follows the title until someone edits it by hand; emptying it hands it back to the title. */
  function proposeSlug(slug) {
    var title = document.getElementById(slug.dataset.slugFrom);
    if (!title) { return; }
    var byHand = slug.value !== "" && slug.value !== slugFromTitle(title.value);
    slug.addEventListener("input", function () { byHand = slug.value !== ""; });
    title.addEventListener("input", function () {
      if (!byHand) { slug.value = slugFromTitle(title.value); }
    });
    if (!byHand && title.value) { slug.value = slugFromTitle(title.value); }
  }

  /* The audience follows the chosen space's default until someone chooses one by hand. */
  function proposeAudience(space) {
    var audience = document.getElementById("id_audience");
    if (!audience) { return; }
    var defaults = JSON.parse(space.dataset.defaultAudiences || "{}");
    var byHand = false;
    audience.addEventListener("change", function () { byHand = true; });
    function follow() {
      if (!byHand && defaults[space.value]) { audience.value = defaults[space.value]; }
    }
    space.addEventListener("change", follow);
    follow();
  }

  function csrfToken(form) {
    var field = form && form.querySelector("input[name=csrfmiddlewaretoken]");
    return field ? field.value : "";
  }

  function fieldValue(id) {
    var field = document.getElementById(id);
    return field ? field.value : "";
  }

  function message(text, className) {
    var p = document.createElement("p");
    p.className = className;
    p.textContent = text;
    return p.outerHTML;  // textContent escaped it
  }

  /* EasyMDE asks for the preview's HTML on every change; the server renders it (debounced), and until
     its answer arrives the pane keeps showing the last rendering. Answers arriving out of order are dropped. */
  function serverPreview(url, form, labels) {
    var timer = null, sequence = 0, shown = null, first = true, html = message(labels.empty, "verity-preview-empty");
    return function (text, pane) {
      if (text === shown) { return html; }
      clearTimeout(timer);
      var delay = first ? 0 : 250;  // the first rendering at once, then once typing pauses
      first = false;
      timer = setTimeout(function () {
        var mine = ++sequence;
        pane.setAttribute("aria-busy", "true");
        fetch(url, {
          method: "POST", credentials: "same-origin",
          headers: {"X-CSRFToken": csrfToken(form), "Content-Type": "application/x-www-form-urlencoded"},
          body: new URLSearchParams({body: text, audience: fieldValue("id_audience"), space: fieldValue("id_space"),
                                     kind: fieldValue("id_kind")}).toString()
        }).then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (answer) {
            if (response.ok && typeof answer.html === "string") {
              var problems = (answer.problems || []).map(function (text) {
                return message(text, "verity-preview-error");
              }).join("");
              return problems + (answer.html.trim() ? answer.html : message(labels.empty, "verity-preview-empty"));
            }
            return message(answer.error || labels.preview_failed, "verity-preview-error");
          });
        }).catch(function () {
          return message(labels.preview_failed, "verity-preview-error");
        }).then(function (rendered) {
          if (mine !== sequence) { return; }
          shown = text;
          html = rendered;
          pane.innerHTML = rendered;  // sanitised by the server (kb/rendering.py); scripts never run here anyway
          pane.removeAttribute("aria-busy");
        });
      }, delay);
      return html;
    };
  }

  function button(name, action, icon, title, extra) {
    var item = {name: name, action: action, className: "fa " + icon, title: title};
    Object.keys(extra || {}).forEach(function (key) { item[key] = extra[key]; });
    return item;
  }

  function markdownEditor(textarea) {
    if (typeof window.EasyMDE === "undefined") { return; }  // the plain textarea still works
    var EasyMDE = window.EasyMDE;
    var labels = JSON.parse(textarea.dataset.labels || "{}");
    var form = textarea.form;
    textarea.removeAttribute("required");  // hidden behind the editor; the server checks it
    var editor = new EasyMDE({
      element: textarea,
      autoDownloadFontAwesome: false,  // no CDN: static/verity/editor.css declares the vendored icon font
      spellChecker: false,  // its dictionaries come from a CDN; the browser's own spell-check works
      nativeSpellcheck: true,  // where CodeMirror edits in place (phones); on desktops it reads a hidden textarea
      forceSync: true,
      status: false,
      autosave: {enabled: false},
      sideBySideFullscreen: false,
      minHeight: "360px",
      maxHeight: "560px",
      unorderedListStyle: "-",
      promptURLs: false,
      previewRender: serverPreview(textarea.dataset.previewUrl, form, labels),
      insertTexts: {
        link: ["[", "](https://)"],
        table: ["", "\n\n| " + labels.column + " 1 | " + labels.column + " 2 |\n| --- | --- |\n| " +
                labels.text + " | " + labels.text + " |\n\n"],
        horizontalRule: ["", "\n\n---\n\n"]
      },
      toolbar: [
        button("bold", EasyMDE.toggleBold, "fa-bold", labels.bold),
        button("italic", EasyMDE.toggleItalic, "fa-italic", labels.italic),
        button("heading", EasyMDE.toggleHeadingSmaller, "fa-header", labels.heading),
        "|",
        button("quote", EasyMDE.toggleBlockquote, "fa-quote-left", labels.quote),
        button("unordered-list", EasyMDE.toggleUnorderedList, "fa-list-ul", labels["unordered-list"]),
        button("ordered-list", EasyMDE.toggleOrderedList, "fa-list-ol", labels["ordered-list"]),
        "|",
        button("link", EasyMDE.drawLink, "fa-link", labels.link),
        button("table", EasyMDE.drawTable, "fa-table", labels.table),
        button("horizontal-rule", EasyMDE.drawHorizontalRule, "fa-minus", labels["horizontal-rule"]),
        button("code", EasyMDE.toggleCodeBlock, "fa-code", labels.code),
        "|",
        button("preview", EasyMDE.togglePreview, "fa-eye", labels.preview, {noDisable: true}),
        button("side-by-side", EasyMDE.toggleSideBySide, "fa-columns", labels["side-by-side"],
               {noDisable: true, noMobile: true}),
        button("fullscreen", EasyMDE.toggleFullScreen, "fa-arrows-alt", labels.fullscreen,
               {noDisable: true, noMobile: true}),
        "|",
        button("undo", EasyMDE.undo, "fa-undo", labels.undo, {noDisable: true}),
        button("redo", EasyMDE.redo, "fa-repeat", labels.redo, {noDisable: true})
      ]
    });
    var input = editor.codemirror.getInputField();
    if (textarea.lang) { input.setAttribute("lang", textarea.lang); }
    input.setAttribute("aria-label", (document.querySelector("label[for=" + textarea.id + "]") || {}).textContent || "");
    textarea.editor = editor;  // for the browser tests
    if (window.matchMedia("(min-width: 1024px)").matches) {
      EasyMDE.toggleSideBySide(editor);  // wide screens: text and preview side by side from the start
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-slug-from]").forEach(proposeSlug);
    document.querySelectorAll("[data-default-audiences]").forEach(proposeAudience);
    document.querySelectorAll("textarea.verity-markdown").forEach(markdownEditor);
  });
}());
