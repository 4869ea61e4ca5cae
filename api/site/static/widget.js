/* kb's in-product help widget: one <script> tag on the company's own pages opens a help panel with the
   articles for that page (their `contexts:`), any active announcement, and instant search; an article
   opens inside the panel.

     <script src="https://help.example.com/hc/static/widget.js" data-locale="en" data-areas="billing" async></script>

   Everything it draws lives in a shadow root, so the host page's styles never reach it and its own never
   leak out; it defines one global, `kbWidget`: open(), close(), identify(token) hands it a signed-in
   customer's token (their segments' articles then show), setContext({path, areas}) for single-page apps.
   The page's origin must be in the help center's KB_CORS_ORIGINS. */
(() => {
  "use strict";
  const script = document.currentScript;
  if (!script || window.kbWidget) return;

  const base = new URL(script.src).origin;
  const locale = script.dataset.locale === "ja" || (!script.dataset.locale && document.documentElement.lang.startsWith("ja")) ? "ja" : "en";
  const TEXT = {
    en: {
      help: "Help", close: "Close help", search: "Search help articles", placeholder: "Search for answers",
      forPage: "Suggested for this page", popular: "Browse the help center", results: "Search results",
      none: "No articles match. Try other words, or visit the help center.", back: "Back", open: "Open in the help center",
      visit: "Visit the help center", loading: "Loading…", failed: "Help could not be loaded. Try again later.",
      announcements: "Service announcements", count: (n) => `${n} ${n === 1 ? "result" : "results"}`,
      contact: "Contact support",
      severity: { info: "Notice", maintenance: "Maintenance", incident: "Incident" },
    },
    ja: {
      help: "ヘルプ", close: "ヘルプを閉じる", search: "ヘルプ記事を検索", placeholder: "キーワードで検索",
      forPage: "このページのヘルプ", popular: "ヘルプセンターを見る", results: "検索結果",
      none: "該当する記事はありません。別の言葉で検索するか、ヘルプセンターをご覧ください。", back: "戻る",
      open: "ヘルプセンターで開く", visit: "ヘルプセンターへ", loading: "読み込み中…",
      failed: "ヘルプを読み込めませんでした。しばらくしてからお試しください。", announcements: "サービスからのお知らせ",
      contact: "サポートに問い合わせる", count: (n) => `${n} 件`, severity: { info: "お知らせ", maintenance: "メンテナンス", incident: "障害" },
    },
  }[locale];

  const CSS = `
    :host { all: initial; position: fixed; inset: auto 16px 16px auto; z-index: 2147483000; color-scheme: light dark; }
    /* On the panel and the launcher, not only :host: the page's own rules (* { font-family: … }) win on the host. */
    .panel, .launcher { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Hiragino Sans",
              "Hiragino Kaku Gothic ProN", "Noto Sans JP", "Noto Sans CJK JP", "Yu Gothic UI", Meiryo, sans-serif;
              letter-spacing: normal; text-align: left; }
    .panel { color: #1f2937; }
    * { box-sizing: border-box; }
    [hidden] { display: none !important; }
    .vh { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
    :focus-visible { outline: 3px solid #2563eb; outline-offset: 2px; }
    button, input { font: inherit; color: inherit; }
    .launcher { display: flex; align-items: center; gap: 8px; margin-left: auto; padding: 10px 18px; border: 0;
                border-radius: 999px; background: #4338ca; color: #fff; font-weight: 600; cursor: pointer;
                box-shadow: 0 8px 24px rgb(16 24 40 / 24%); }
    .launcher:hover { background: #3730a3; }
    .panel { display: flex; flex-direction: column; width: min(380px, calc(100vw - 32px)); height: min(600px, calc(100vh - 96px));
             margin-bottom: 12px; background: #fff; border: 1px solid #e3e6ec; border-radius: 14px; overflow: hidden;
             box-shadow: 0 16px 40px rgb(16 24 40 / 24%); }
    .top { display: flex; align-items: center; justify-content: space-between; padding: 12px 16px; background: #4338ca; color: #fff; }
    .top h2 { margin: 0; font-size: 17px; }
    .close { border: 0; background: transparent; color: #fff; font-size: 22px; line-height: 1; padding: 4px 8px; border-radius: 6px; cursor: pointer; }
    .news { margin: 0; padding: 8px 12px 0; list-style: none; }
    .news li { margin: 0 0 8px; padding: 8px 10px; border-left: 4px solid; border-radius: 6px; font-size: 14px; }
    .news b { display: block; font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
    .info { background: #eff6ff; border-color: #1d4ed8; color: #1e3a8a; }
    .maintenance { background: #fffbeb; border-color: #b45309; color: #78350f; }
    .incident { background: #fef2f2; border-color: #b91c1c; color: #7f1d1d; }
    .news a, .list a { color: inherit; }
    form { padding: 12px; border-bottom: 1px solid #e3e6ec; }
    input { width: 100%; padding: 9px 12px; border: 1px solid #9aa3b2; border-radius: 8px; background: #fff; }
    .body { flex: 1; overflow: auto; padding: 4px 16px 12px; }
    h3 { font-size: 13px; color: #5b6472; text-transform: uppercase; letter-spacing: .04em; margin: 12px 0 6px; }
    .list { list-style: none; margin: 0; padding: 0; }
    .list li { border-bottom: 1px solid #eef0f4; }
    .list a { display: block; padding: 9px 2px; text-decoration: none; font-weight: 600; color: #3730a3; }
    .list a:hover { text-decoration: underline; }
    .list p { margin: 0 0 9px; font-size: 13px; color: #4b5563; }
    mark { background: #fde68a; color: #1f2937; }
    .message { color: #5b6472; }
    .reader h3 { font-size: 19px; text-transform: none; letter-spacing: 0; color: #111827; margin: 8px 0; }
    .reader .content { font-size: 14px; overflow-wrap: anywhere; }
    .reader .content img { max-width: 100%; }
    .reader .content pre { overflow: auto; background: #f3f4f6; padding: 8px; border-radius: 6px; }
    .reader .content a { color: #3730a3; }
    .back { border: 0; background: transparent; color: #3730a3; padding: 6px 0; cursor: pointer; font-weight: 600; }
    .foot { display: flex; justify-content: space-between; gap: 12px; padding: 10px 16px; border-top: 1px solid #e3e6ec; font-size: 14px; }
    .foot a, .out { color: #3730a3; }
    @media (prefers-color-scheme: dark) {
      .panel { background: #111827; border-color: #374151; color: #e5e7eb; }
      mark { background: #854d0e; color: #e5e7eb; }
      input { background: #1f2937; border-color: #6b7280; }
      form, .foot { border-color: #374151; } .list li { border-color: #1f2937; }
      .list a, .back, .foot a, .out, .reader .content a { color: #c7d2fe; }
      .list p, .message, h3 { color: #9ca3af; } .reader h3 { color: #f9fafb; }
      .reader .content pre { background: #1f2937; }
    }
    @media print { :host { display: none; } }
  `;

  const state = { token: null, path: location.pathname, areas: script.dataset.areas || "", loaded: false, context: null, read: [] };

  // The host element and its shadow root: the page's styles cannot reach inside, nor the panel's out.
  const host = document.createElement("div");
  host.setAttribute("data-kb-widget", "");
  host.lang = locale; // read aloud in its own language, whatever the page's
  const root = host.attachShadow({ mode: "open" });
  const sheet = new CSSStyleSheet();
  sheet.replaceSync(CSS);
  root.adoptedStyleSheets = [sheet];

  const el = (tag, attributes = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === "text") node.textContent = value;
      else if (value !== false && value != null) node.setAttribute(name, value === true ? "" : value);
    }
    node.append(...children);
    return node;
  };
  const absolute = (path) => new URL(path, base).href;

  const title = el("h2", { id: "kb-title", text: TEXT.help });
  const closeButton = el("button", { class: "close", type: "button", "aria-label": TEXT.close, text: "×" });
  const news = el("ul", { class: "news", "aria-label": TEXT.announcements, hidden: true });
  const input = el("input", { id: "kb-q", type: "search", placeholder: TEXT.placeholder, autocomplete: "off", enterkeyhint: "search" });
  const form = el("form", { role: "search" }, el("label", { for: "kb-q", class: "vh", text: TEXT.search }), input);
  const status = el("p", { class: "vh", role: "status", "aria-live": "polite" });
  const listTitle = el("h3", { id: "kb-list-title", text: TEXT.forPage });
  const list = el("ul", { class: "list", "aria-labelledby": "kb-list-title" });
  const message = el("p", { class: "message", hidden: true });
  const browse = el("section", { class: "browse" }, listTitle, list, message);
  const back = el("button", { class: "back", type: "button", text: `← ${TEXT.back}` });
  const readerTitle = el("h3", { tabindex: "-1" });
  const content = el("div", { class: "content" });
  const openLink = el("a", { class: "out", target: "_blank", rel: "noopener", text: TEXT.open });
  const reader = el("article", { class: "reader", hidden: true, "aria-labelledby": "kb-reader-title" }, back, readerTitle, content, el("p", {}, openLink));
  readerTitle.id = "kb-reader-title";
  const helpCenter = el("a", { href: absolute(`/hc/${locale}`), target: "_blank", rel: "noopener", text: TEXT.visit });
  // A person, with what the reader searched and read here, when the company names a support channel.
  const contact = el("a", { class: "contact", target: "_blank", rel: "noopener", text: TEXT.contact, hidden: true });
  const panel = el(
    "section",
    { id: "kb-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "kb-title", hidden: true },
    el("div", { class: "top" }, title, closeButton),
    news,
    form,
    status,
    el("div", { class: "body" }, browse, reader),
    el("div", { class: "foot" }, helpCenter, contact),
  );
  const launcher = el("button", { class: "launcher", type: "button", "aria-expanded": "false", "aria-controls": "kb-panel" });
  launcher.append(el("span", { "aria-hidden": "true", text: "?" }), el("span", { text: TEXT.help }));
  root.append(panel, launcher);

  async function api(path) {
    // Named so that kb's analytics count the widget's searches and reads apart from other API callers.
    const headers = { "X-KB-Surface": "widget", ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}) };
    const response = await fetch(absolute(path), { headers, credentials: "omit" });
    if (!response.ok) throw new Error(`${response.status}`);
    return response.json();
  }

  function showList(heading, items, empty) {
    listTitle.textContent = heading;
    list.replaceChildren(
      ...items.map((item) => {
        const link = el("a", { href: absolute(item.url), text: item.title, lang: item.locale !== locale ? item.locale : false });
        link.addEventListener("click", (event) => {
          if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey) return;
          event.preventDefault();
          openArticle(item.id, item.locale, link);
        });
        const row = el("li", {}, link);
        if (item.snippet) {
          const snippet = el("p");
          snippet.innerHTML = item.snippet; // kb escapes the text and adds only <mark>
          row.append(snippet);
        }
        return row;
      }),
    );
    message.hidden = items.length > 0;
    message.textContent = items.length ? "" : empty;
  }

  function updateContact() {
    const page = state.context && state.context.contact;
    contact.hidden = !page;
    if (!page) return;
    const params = new URLSearchParams();
    if (input.value.trim()) params.set("q", input.value.trim());
    if (state.read.length) params.set("read", state.read.join(","));
    contact.href = absolute(params.size ? `${page}?${params}` : page);
  }

  function showContext() {
    const context = state.context;
    if (!context) return;
    updateContact();
    news.replaceChildren(
      ...context.announcements.map((item) => {
        const severity = (item.announcement && item.announcement.severity) || "info";
        return el("li", { class: severity }, el("b", { text: TEXT.severity[severity] }),
          el("a", { href: absolute(item.url), target: "_blank", rel: "noopener", text: item.title }));
      }),
    );
    news.hidden = context.announcements.length === 0;
    if (!input.value.trim()) showList(context.articles.length ? TEXT.forPage : TEXT.popular, context.articles, TEXT.none);
  }

  async function loadContext() {
    const params = new URLSearchParams({ locale, path: state.path });
    if (state.areas) params.set("areas", state.areas);
    try {
      state.context = await api(`/v1/widget?${params}`);
      state.loaded = true;
      showContext();
    } catch {
      showList(TEXT.forPage, [], TEXT.failed);
    }
  }

  let searchTimer = 0;
  let searchNumber = 0;
  async function search() {
    const query = input.value.trim();
    const number = ++searchNumber;
    showReader(false);
    if (!query) {
      showContext();
      status.textContent = "";
      return;
    }
    try {
      const found = await api(`/v1/search?${new URLSearchParams({ q: query, locale, limit: "8" })}`);
      if (number !== searchNumber) return; // a newer query is on its way
      showList(TEXT.results, found.hits, TEXT.none);
      status.textContent = TEXT.count(found.total);
    } catch {
      if (number === searchNumber) showList(TEXT.results, [], TEXT.failed);
    }
  }

  let returnFocus = null;
  async function openArticle(id, articleLocale, from) {
    returnFocus = from;
    readerTitle.textContent = TEXT.loading;
    content.replaceChildren();
    showReader(true);
    try {
      const article = await api(`/v1/articles/${encodeURIComponent(id)}?${new URLSearchParams({ locale: articleLocale })}`);
      readerTitle.textContent = article.title;
      state.read = [...state.read.filter((read) => read !== article.id), article.id].slice(-10);
      updateContact();
      readerTitle.lang = article.locale;
      content.innerHTML = article.html; // sanitised by kb (nh3) before it left the server
      for (const link of content.querySelectorAll("a[href]")) {
        link.href = absolute(link.getAttribute("href"));
        link.target = "_blank";
        link.rel = "noopener";
      }
      openLink.href = absolute(article.url);
    } catch {
      readerTitle.textContent = TEXT.failed;
    }
    readerTitle.focus();
  }

  function showReader(shown) {
    reader.hidden = !shown;
    browse.hidden = shown;
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!state.loaded) loadContext();
    input.focus();
  }

  function close() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", () => (panel.hidden ? open() : close()));
  closeButton.addEventListener("click", close);
  back.addEventListener("click", () => {
    showReader(false);
    if (returnFocus && returnFocus.isConnected) returnFocus.focus();
    else input.focus();
  });
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.stopPropagation();
      close();
    }
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(searchTimer);
    search();
  });
  input.addEventListener("input", () => {
    updateContact();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(search, 150);
  });

  window.kbWidget = Object.freeze({
    open,
    close,
    /** Hand over a signed-in customer's kb token (null signs them out); the panel reloads for their segments. */
    identify(token) {
      state.token = token || null;
      state.loaded = false;
      if (!panel.hidden) loadContext();
    },
    /** For single-page apps: the page changed without a load. */
    setContext({ path = location.pathname, areas = "" } = {}) {
      state.path = path;
      state.areas = Array.isArray(areas) ? areas.join(",") : areas;
      state.loaded = false;
      if (!panel.hidden) loadContext();
    },
  });

  if (document.body) document.body.append(host);
  else document.addEventListener("DOMContentLoaded", () => document.body.append(host));
})();
