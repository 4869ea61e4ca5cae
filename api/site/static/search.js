// Search-as-you-type for the help-center search boxes. Without this file each box is a plain GET form
// to the search page, so everything here is an enhancement: it turns the input into an ARIA combobox
// (https://www.w3.org/WAI/ARIA/apg/patterns/combobox/) whose listbox shows the top articles from /v1/search.
(function () {
  "use strict";

  var DEBOUNCE_MS = 150;

  // Snippets arrive HTML-escaped with matches in <mark>. They are parsed in an inert document and
  // copied as text and <mark> elements only, so nothing else in them could ever become markup.
  function snippetNodes(html) {
    var parsed = new DOMParser().parseFromString("<body>" + html, "text/html").body;
    var nodes = [];
    parsed.childNodes.forEach(function (node) {
      if (node.nodeName === "MARK") {
        var mark = document.createElement("mark");
        mark.textContent = node.textContent;
        nodes.push(mark);
      } else {
        nodes.push(document.createTextNode(node.textContent));
      }
    });
    return nodes;
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text) node.textContent = text;
    return node;
  }

  function Autocomplete(form) {
    this.form = form;
    this.input = form.querySelector("input[name=q]");
    this.listbox = form.querySelector("[role=listbox]");
    this.status = form.querySelector("[data-search-status]");
    this.locale = form.dataset.locale;
    this.endpoint = form.dataset.suggestUrl;
    this.limit = form.dataset.limit || "5";
    this.options = [];
    this.active = -1;
    this.timer = 0;
    this.controller = null;
    this.shownQuery = "";

    var input = this.input;
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.listbox.id);

    input.addEventListener("input", this.schedule.bind(this));
    input.addEventListener("keydown", this.onKeyDown.bind(this));
    input.addEventListener("focus", this.onFocus.bind(this));
    input.addEventListener("blur", this.close.bind(this));
    // Keep the focus in the input while an option is pressed, so blur does not close the list first.
    this.listbox.addEventListener("mousedown", function (event) { event.preventDefault(); });
    this.listbox.addEventListener("click", this.onClick.bind(this));
  }

  Autocomplete.prototype.schedule = function () {
    window.clearTimeout(this.timer);
    this.timer = window.setTimeout(this.fetchSuggestions.bind(this), DEBOUNCE_MS);
  };

  Autocomplete.prototype.fetchSuggestions = async function () {
    var query = this.input.value.trim();
    if (this.controller) this.controller.abort();  // a slower, older answer must never replace a newer one
    this.controller = null;
    if (!query) {
      this.clear();
      return;
    }
    var controller = new AbortController();
    this.controller = controller;
    var params = new URLSearchParams({ q: query, locale: this.locale, limit: this.limit });
    try {
      var response = await fetch(this.endpoint + "?" + params.toString(), {
        signal: controller.signal,
        // Every keystroke is a search: kb's analytics count the search the reader submits, not these.
        headers: { Accept: "application/json", "X-KB-Surface": "typeahead" },
      });
      if (!response.ok) throw new Error("search answered " + response.status);
      var data = await response.json();
      if (controller.signal.aborted || this.input.value.trim() !== query) return;
      this.render(query, data.hits || []);
    } catch (error) {
      if (error.name !== "AbortError") this.clear();
    } finally {
      if (this.controller === controller) this.controller = null;
    }
  };

  Autocomplete.prototype.render = function (query, hits) {
    var listbox = this.listbox;
    var prefix = listbox.id + "-option-";
    var options = hits.map(function (hit, index) {
      var option = element("li", "suggestion");
      option.id = prefix + index;
      option.setAttribute("role", "option");
      option.setAttribute("aria-selected", "false");
      option.dataset.href = hit.url;
      option.appendChild(element("span", "suggestion-title", hit.title));
      if (hit.heading_path && hit.heading_path.length) {
        option.appendChild(element("span", "suggestion-path", hit.heading_path.join(" › ")));
      }
      var snippet = element("span", "suggestion-snippet");
      snippetNodes(hit.snippet || "").forEach(function (node) { snippet.appendChild(node); });
      option.appendChild(snippet);
      return option;
    });
    var all = element("li", "suggestion suggestion-all", this.form.dataset.labelAll.replace("{query}", query));
    all.id = prefix + "all";
    all.setAttribute("role", "option");
    all.setAttribute("aria-selected", "false");
    all.dataset.href = this.form.action + "?" + new URLSearchParams({ q: query }).toString();
    options.push(all);

    listbox.replaceChildren.apply(listbox, options);
    this.options = options;
    this.active = -1;
    this.shownQuery = query;
    this.status.textContent = hits.length
      ? this.form.dataset.labelCount.replace("{count}", String(hits.length))
      : this.form.dataset.labelNone;
    if (document.activeElement === this.input) this.open();
  };

  Autocomplete.prototype.open = function () {
    if (!this.options.length) return;
    this.listbox.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  Autocomplete.prototype.close = function () {
    this.listbox.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.highlight(-1);
  };

  Autocomplete.prototype.clear = function () {
    this.close();
    this.listbox.replaceChildren();
    this.options = [];
    this.shownQuery = "";
    this.status.textContent = "";
  };

  Autocomplete.prototype.isOpen = function () {
    return !this.listbox.hidden;
  };

  Autocomplete.prototype.highlight = function (index) {
    if (this.active >= 0 && this.options[this.active]) {
      this.options[this.active].setAttribute("aria-selected", "false");
    }
    this.active = index;
    if (index < 0) {
      this.input.removeAttribute("aria-activedescendant");
      return;
    }
    var option = this.options[index];
    option.setAttribute("aria-selected", "true");
    this.input.setAttribute("aria-activedescendant", option.id);
    option.scrollIntoView({ block: "nearest" });
  };

  Autocomplete.prototype.move = function (step) {
    if (!this.options.length) return;
    if (!this.isOpen()) this.open();
    var count = this.options.length;
    // From "nothing chosen", down goes to the first option and up to the last.
    var next = this.active < 0 ? (step > 0 ? 0 : count - 1) : (this.active + step + count) % count;
    this.highlight(next);
  };

  Autocomplete.prototype.go = function (option) {
    window.location.assign(option.dataset.href);
  };

  Autocomplete.prototype.onKeyDown = function (event) {
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        this.move(1);
        break;
      case "ArrowUp":
        event.preventDefault();
        this.move(-1);
        break;
      case "Enter":
        // With no option chosen, Enter submits the form as usual: the search page.
        if (this.isOpen() && this.active >= 0) {
          event.preventDefault();
          this.go(this.options[this.active]);
        }
        break;
      case "Escape":
        if (this.isOpen()) {
          event.preventDefault();
          this.close();
        }
        break;
      default:
        break;
    }
  };

  Autocomplete.prototype.onFocus = function () {
    if (this.options.length && this.input.value.trim() === this.shownQuery) this.open();
  };

  Autocomplete.prototype.onClick = function (event) {
    var option = event.target.closest("[role=option]");
    if (option) this.go(option);
  };

  function start() {
    document.querySelectorAll("form[data-autocomplete]").forEach(function (form) {
      if (form.querySelector("input[name=q]") && form.querySelector("[role=listbox]")) new Autocomplete(form);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
