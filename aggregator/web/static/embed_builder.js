// /embed: every change to the form updates the <iframe> code and the preview at once, and
// the address bar, so that the page reloads as shown. Without this script the form's
// "update" button does the same through a GET.
"use strict";

(function () {
  const form = document.querySelector("form.embed-builder");
  const code = document.getElementById("embed-code");
  const preview = document.getElementById("embed-preview");
  if (!form || !code || !preview) {
    return;
  }

  function escapeAttribute(text) {
    return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
  }

  function update() {
    if (!form.checkValidity()) {
      return; // a limit out of range: the code keeps its last good value
    }
    const category = form.elements.category;
    const options = new URLSearchParams();
    for (const [field, name] of [["limit", "limit"], ["theme", "theme"], ["embed_lang", "lang"]]) {
      const element = form.elements[field];
      const fallback = element.dataset.default ?? "";
      if (element.value && element.value !== fallback) {
        options.set(name, element.value);
      }
    }
    const query = options.toString();
    const path = "/embed/" + encodeURIComponent(category.value) + (query ? "?" + query : "");
    preview.src = path;
    const title = category.options[category.selectedIndex].text;
    code.value = code.value
      .replace(/src="([^"]*?)\/embed\/[^"]*"/, (_, origin) => 'src="' + origin + escapeAttribute(path) + '"')
      .replace(/title="[^"]*"/, 'title="' + escapeAttribute(title) + '"');
    preview.title = preview.title.replace(/[^:：]*$/, " " + title);
    const shown = new URLSearchParams(new FormData(form));
    history.replaceState(null, "", "?" + shown.toString());
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
})();
