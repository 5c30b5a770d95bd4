/* The embeddable widget (served inside /widget.js, after kb-common.js and WIDGET_CSS, in one closure).
 * <script src="https://KB/widget.js" data-kb-key="KEY" data-kb-target="#kb-search" async></script>
 * data-kb-caller="ACC-1001" names the customer on the line: the caller panel shows who they are (local time, key
 * account, products, notes, open calls, promises, last contact) and their products rank first among equal matches.
 * data-kb-channel="email" says how they got in touch (phone, email, web, chat, in_person), for the analytics.
 * The host may change either attribute at any time (script.dataset.kbCaller = "ACC-1002"); the widget follows. */
var K = KBCommon;
var script = document.currentScript || document.querySelector("script[src$='/widget.js'][data-kb-target]");
var scriptUrl = new URL(script.src, location.href);
// Our server's URL comes from the script's own src, so the host page configures nothing else.
var BASE = scriptUrl.origin + scriptUrl.pathname.replace(/\/widget\.js$/, "");
var KEY = script.getAttribute("data-kb-key") || "";
var TARGET = script.getAttribute("data-kb-target") || "#kb-search";
// The session lives only in this page's memory: the widget writes nothing into the host's storage.
var HEADERS = K.apiHeaders(KEY, K.newSessionId(), "widget");
var LIMIT = "8";

function adoptStyles(root) {
  if ("adoptedStyleSheets" in root && typeof CSSStyleSheet === "function" && "replaceSync" in CSSStyleSheet.prototype) {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(WIDGET_CSS);  // a constructed sheet: no <style> element for a host's CSP to refuse
    root.adoptedStyleSheets = [sheet];
  } else {
    root.appendChild(K.el("style", null, WIDGET_CSS));
  }
}

function skeleton(root) {
  var box = K.el("div", "kb");
  var form = K.el("form", "kb-search");
  form.setAttribute("role", "search");
  var label = K.el("label", "kb-label", "Search the support knowledge base");
  label.htmlFor = "kb-q";
  var row = K.el("div", "kb-row");
  var input = K.el("input", "kb-input");
  input.id = "kb-q";
  input.type = "search";
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = "Describe the problem, e.g. printer offline";
  row.appendChild(input);
  form.appendChild(label);
  form.appendChild(row);
  box.appendChild(form);
  var parts = {
    box: box, form: form, input: input,
    status: K.el("p", "kb-status"), slow: K.el("p", "kb-slow", "Still searching\u2026"),
    message: K.el("div", "kb-message"), dym: K.el("div", "kb-dym"), results: K.el("ol", "results"),
    caller: K.el("section", "kb-caller caller-context")
  };
  parts.caller.hidden = true;
  parts.caller.setAttribute("aria-label", "The caller");
  box.insertBefore(parts.caller, form);
  parts.status.setAttribute("role", "status");
  parts.status.setAttribute("aria-live", "polite");
  parts.slow.hidden = true;
  parts.results.setAttribute("aria-label", "Knowledge base results");
  ["status", "slow", "message", "dym", "results"].forEach(function (name) { box.appendChild(parts[name]); });
  var foot = K.el("p", "kb-foot");
  var home = K.el("a", null, "Open the knowledge base");
  home.href = BASE + "/";
  home.target = "_blank";
  home.rel = "noopener";
  foot.appendChild(home);
  box.appendChild(foot);
  root.appendChild(box);
  return parts;
}

function mount(host) {
  var root = host.attachShadow({mode: "open"});
  adoptStyles(root);
  var ui = skeleton(root);
  var query = "";
  var searchId = "";
  var searcher = K.createSearcher(BASE, HEADERS, {onSlow: onSlow, onResult: onResult, onError: onError});

  function clear() {
    ui.status.textContent = "";
    ui.slow.hidden = true;
    ui.message.textContent = "";
    ui.dym.textContent = "";
    ui.results.textContent = "";
    delete ui.results.dataset.query;  // an empty list shows no search: a tool waiting for the next one must wait
  }

  function run() {
    query = ui.input.value;
    if (!query.trim()) {
      searcher.cancel();
      clear();
      return;
    }
    var params = {q: query, limit: LIMIT};
    var caller = (script.getAttribute("data-kb-caller") || "").trim();
    if (caller) params.caller = caller;
    var channel = (script.getAttribute("data-kb-channel") || "").trim();
    if (channel) params.contact_channel = channel;
    searcher.run(params);
  }

  var shownCaller = null;
  var callerController = null;

  function loadCaller() {
    var caller = (script.getAttribute("data-kb-caller") || "").trim();
    if (caller === shownCaller) return;
    shownCaller = caller;
    if (callerController) callerController.abort();
    ui.caller.textContent = "";
    ui.caller.hidden = !caller;
    if (!caller) return;
    callerController = new AbortController();
    fetch(BASE + "/api/v1/customers/" + encodeURIComponent(caller) + "/calls", {
      headers: Object.assign({"Accept": "application/json"}, HEADERS), signal: callerController.signal, credentials: "omit"
    }).then(function (response) {
      return response.json().then(function (body) {
        if (caller !== shownCaller) return;
        if (!response.ok) throw new Error(body && body.error ? body.error : "the server answered " + response.status);
        K.callerPanel(BASE, body).forEach(function (node) { ui.caller.appendChild(node); });
      });
    }).catch(function (error) {
      if (error && error.name === "AbortError") return;
      ui.caller.appendChild(K.el("p", "kb-error", "Could not load the caller: " + error.message));
    });
  }

  function onSlow() {
    ui.slow.hidden = false;
  }

  function onError(message, status) {
    clear();
    var box = K.el("div", "kb-error");
    box.setAttribute("role", "alert");
    if (status === 401 || status === 403) {
      box.appendChild(K.el("p", "kb-error-title", "The knowledge base refused this widget's key"));
      box.appendChild(K.el("p", null, message));
    } else if (status) {
      box.appendChild(K.el("p", "kb-error-title", "The search failed (" + status + ")"));
      box.appendChild(K.el("p", null, message));
    } else {
      box.appendChild(K.el("p", "kb-error-title", "Could not reach the knowledge base"));
      box.appendChild(K.el("p", null, "The server may be down, or this site (" + location.origin +
        ") is not among the origins it allows (KB_WIDGET_ORIGINS)."));
    }
    ui.message.appendChild(box);
  }

  function onResult(data, params) {
    clear();
    ui.results.dataset.query = params.q;  // which search the list shows (tests and host tools wait for it)
    searchId = data.search_id || "";
    ui.status.textContent = data.total ? K.summaryText(data) : "No past call matches \u201c" + data.query + "\u201d. Try fewer words.";
    if (data.did_you_mean) {
      ui.dym.appendChild(K.didYouMean(data.did_you_mean, function (text) {
        ui.input.value = text;
        run();
        ui.input.focus();
      }));
    }
    data.results.forEach(function (hit) {
      var item = K.renderHit(hit, {base: BASE, query: query, searchId: searchId, linkTarget: "_blank", compact: true});
      item.appendChild(solvedButton(hit.id));
      ui.results.appendChild(item);
    });
  }

  function solvedButton(callId) {
    var row = K.el("div", "kb-hit-actions");
    var button = K.el("button", "kb-solved", "This solved it");
    button.type = "button";
    var note = K.el("span", "kb-note");
    note.setAttribute("role", "status");
    button.addEventListener("click", function () {
      button.disabled = true;
      K.sendFeedback(BASE, HEADERS, callId, query, "widget", searchId).then(function () {
        button.textContent = "\u2713 Thanks";
      }, function (error) {
        button.disabled = false;
        note.textContent = "Not recorded: " + error.message;
      });
    });
    row.appendChild(button);
    row.appendChild(note);
    return row;
  }

  function links() {
    return Array.prototype.slice.call(ui.results.querySelectorAll(".hit-link"));
  }

  // Arrows move between the input and the hits; Esc returns to the input. No page-wide keys: the host owns those.
  ui.box.addEventListener("keydown", function (event) {
    var all = links();
    var at = all.indexOf(root.activeElement);
    if (event.key === "ArrowDown" && all.length && (event.target === ui.input || at >= 0)) {
      event.preventDefault();
      all[Math.min(at + 1, all.length - 1)].focus();
    } else if (event.key === "ArrowUp" && at >= 0) {
      event.preventDefault();
      (at === 0 ? ui.input : all[at - 1]).focus();
    } else if (event.key === "Escape" && event.target !== ui.input) {
      event.preventDefault();
      ui.input.focus();
    }
  });
  ui.results.addEventListener("click", function (event) {
    var link = event.target.closest(".hit-link");
    if (link) K.sendOpened(BASE, HEADERS, searchId, link.closest(".hit").dataset.id);
  });
  ui.input.addEventListener("input", run);
  // A new caller on the host (its ticket changed) reruns the search for them; no global names needed.
  if (typeof MutationObserver === "function") {
    new MutationObserver(function () { loadCaller(); run(); }).observe(
      script, {attributes: true, attributeFilter: ["data-kb-caller", "data-kb-channel"]});
  }
  loadCaller();
  ui.form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });
}

function start() {
  var host = document.querySelector(TARGET);
  if (!host) {
    if (window.console) console.warn("kb widget: no element matches data-kb-target " + TARGET);
    return;
  }
  if (host.shadowRoot) return;  // mounted already (the script was included twice)
  mount(host);
}

if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
else start();
