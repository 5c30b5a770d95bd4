/* The agents' page: search as you type, keyboard navigation, filters in the URL, recent searches,
 * and the "This solved it" / copy actions of one call. The server renders the first view (and
 * everything without JavaScript); this file takes over from there. */
(function () {
  "use strict";

  var K = window.KBCommon;
  var RESULTS_LIMIT = "20";
  var RECENT_KEY = "kb.recent";
  var RECENT_MAX = 8;
  var RECENT_AFTER_MS = 1500;
  var SESSION_KEY = "kb.session";
  var $ = function (id) { return document.getElementById(id); };

  function isTyping(target) {
    var tag = target && target.tagName;
    return tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT" || (target && target.isContentEditable);
  }

  function toast(text, isError) {
    var box = $("toast");
    box.textContent = text;
    box.classList.toggle("toast-error", Boolean(isError));
    box.hidden = false;
    clearTimeout(toast.timer);
    toast.timer = setTimeout(function () { box.hidden = true; }, 2600);
  }

  function copyText(text, what) {
    if (!navigator.clipboard) {
      toast("Copying needs a secure page (https or localhost)", true);
      return Promise.resolve();
    }
    return navigator.clipboard.writeText(text).then(
      function () { toast("Copied " + what); },
      function () { toast("Could not copy: the browser refused access to the clipboard", true); }
    );
  }

  /* The search log's anonymous session: one per browser tab (sessionStorage), random. */
  function sessionId() {
    try {
      var id = sessionStorage.getItem(SESSION_KEY);
      if (!id) sessionStorage.setItem(SESSION_KEY, id = K.newSessionId());
      return id;
    } catch (error) {
      return K.newSessionId();
    }
  }
  var HEADERS = K.apiHeaders("", sessionId(), "page");

  /* ---------- recent searches (this browser only) ---------- */

  function recentLoad() {
    try {
      var list = JSON.parse(localStorage.getItem(RECENT_KEY) || "[]");
      return Array.isArray(list) ? list.filter(function (q) { return typeof q === "string"; }) : [];
    } catch (error) {
      return [];
    }
  }

  function recentSave(query) {
    query = (query || "").trim();
    if (!query) return;
    var list = recentLoad().filter(function (q) { return q.toLowerCase() !== query.toLowerCase(); });
    list.unshift(query);
    try { localStorage.setItem(RECENT_KEY, JSON.stringify(list.slice(0, RECENT_MAX))); } catch (error) { /* full or off */ }
  }

  /* ---------- the search page ---------- */

  function searchPage() {
    var input = $("q");
    var results = $("results");
    var state = stateFromUrl();
    var recentTimer = null;
    var searchId = "";
    var searcher = K.createSearcher("", HEADERS, {onSlow: showSlow, onResult: showResult, onError: showError});
    var callerInput = $("caller");
    var callerTimer = null;
    var callerController = null;
    var lookupController = null;
    var lastTyped = state.caller;

    function stateFromUrl() {
      var params = new URLSearchParams(location.search);
      return {q: params.get("q") || "", product: params.get("product") || "", category: params.get("category") || "",
              caller: (params.get("caller") || "").trim()};
    }

    function urlFor(s) {
      var params = new URLSearchParams();
      if (s.q) params.set("q", s.q);
      if (s.product) params.set("product", s.product);
      if (s.category) params.set("category", s.category);
      if (s.caller) params.set("caller", s.caller);
      var text = params.toString();
      return location.pathname + (text ? "?" + text : "");
    }

    function writeUrl(mode) {
      var url = urlFor(state);
      if (url === location.pathname + location.search) return;
      // A new search from an empty box gets its own history entry; the keystrokes after it replace it.
      if (mode === "push" || (mode === "type" && !stateFromUrl().q)) history.pushState(null, "", url);
      else history.replaceState(null, "", url);
    }

    function clearView() {
      $("status").textContent = "";
      $("slow").hidden = true;
      $("message").textContent = "";
      $("dym").textContent = "";
      $("empty").textContent = "";
      $("filters").textContent = "";
      results.textContent = "";
      delete results.dataset.query;  // an empty list shows no search: a tool waiting for the next one must wait
    }

    function run(mode) {
      writeUrl(mode);
      clearTimeout(recentTimer);
      if (!state.q.trim()) {
        searcher.cancel();
        clearView();
        showRecent();
        return;
      }
      $("recent").hidden = true;
      var params = {q: state.q, limit: RESULTS_LIMIT, facets: "true"};
      if (state.product) params.product = state.product;
      if (state.category) params.category = state.category;
      if (state.caller) params.caller = state.caller;
      var contact = $("contact-channel");
      if (contact && contact.value) params.contact_channel = contact.value;  // for the analytics
      searcher.run(params);
    }

    function showSlow() {
      $("slow").hidden = false;
    }

    function showError(message, status) {
      clearView();
      var box = K.el("div", "state state-error");
      box.setAttribute("role", "alert");
      if (status) {
        box.appendChild(K.el("p", "state-title", "The search failed (" + status + ")"));
        box.appendChild(K.el("p", null, message));
      } else {
        box.appendChild(K.el("p", "state-title", "Could not reach the server"));
        box.appendChild(K.el("p", null, "Check the network connection; the search runs again as you type."));
      }
      $("message").appendChild(box);
      $("status").textContent = "Search failed";
    }

    function showResult(data, params) {
      clearView();
      results.dataset.query = params.q;  // which search the list shows (tests and tools wait for it)
      searchId = data.search_id || "";
      $("status").textContent = K.summaryText(data);
      if (data.did_you_mean) $("dym").appendChild(K.didYouMean(data.did_you_mean, pickSuggestion));
      if (!data.results.length) $("empty").appendChild(emptyState(data));
      data.results.forEach(function (hit) {
        results.appendChild(K.renderHit(hit, {base: "", query: state.q, searchId: searchId}));
      });
      renderFacets(data.facets || {});
      recentTimer = setTimeout(function () { recentSave(state.q); }, RECENT_AFTER_MS);
    }

    function emptyState(data) {
      var box = K.el("div", "state state-empty");
      box.appendChild(K.el("p", "state-title", "No past call matches \u201c" + data.query + "\u201d."));
      var tips = K.el("ul");
      tips.appendChild(K.el("li", null, "Try fewer words, or the words the customer used."));
      tips.appendChild(K.el("li", null, "Product names and error codes work well (e.g. E-1102)."));
      if (state.product || state.category) {
        var item = K.el("li");
        var clear = K.el("a", "clear-filters", "Search all products and categories");
        clear.href = urlFor({q: state.q, caller: state.caller});
        item.appendChild(clear);
        tips.appendChild(item);
      }
      box.appendChild(tips);
      return box;
    }

    /* The commonest values of each facet show; the rest are drawn only when "N more" is opened. A large
     * knowledge base counts hundreds of products, and laying out all their links on every keystroke cost
     * the page more than its frame (issue #16). */
    function renderFacets(facets) {
      var titles = {product: "Product", category: "Category"};
      var shown = Number($("filters").dataset.shown) || 10;
      ["product", "category"].forEach(function (name) {
        var counts = Object.assign({}, facets[name] || {});
        if (state[name] && !(state[name] in counts)) counts[state[name]] = 0;
        // Most calls first, then by name, as the server's own page lists them (the JSON's keys come sorted by name).
        var values = Object.keys(counts).sort(function (a, b) {
          return counts[b] - counts[a] || (a < b ? -1 : a > b ? 1 : 0);
        });
        if (!values.length) return;
        var first = values.slice(0, shown);
        if (state[name] && first.indexOf(state[name]) < 0) first.push(state[name]);
        var rest = values.filter(function (value) { return first.indexOf(value) < 0; });
        var section = K.el("section", "facet");
        section.dataset.facet = name;
        section.appendChild(K.el("h3", null, titles[name]));
        section.appendChild(facetList(name, first, counts));
        if (rest.length) section.appendChild(moreFacets(name, rest, counts));
        $("filters").appendChild(section);
      });
    }

    function moreFacets(name, values, counts) {
      var more = K.el("details", "facet-more");
      more.appendChild(K.el("summary", null, values.length + " more"));
      more.addEventListener("toggle", function () {
        if (more.open && more.children.length === 1) more.appendChild(facetList(name, values, counts));
      });
      return more;
    }

    function facetList(name, values, counts) {
      var list = K.el("ul");
      values.forEach(function (value) {
        var on = state[name] === value;
        var next = Object.assign({}, state);
        next[name] = on ? "" : value;
        var link = K.el("a", "facet-link" + (on ? " active" : ""));
        link.href = urlFor(next);
        link.dataset.facet = name;
        link.dataset.value = value;
        if (on) link.setAttribute("aria-current", "true");
        link.appendChild(K.el("span", "facet-name", value));
        link.appendChild(document.createTextNode(" "));
        link.appendChild(K.el("span", "count", counts[value]));
        if (on) {
          var remove = K.el("span", "facet-remove", " \u00d7");
          remove.setAttribute("aria-label", "remove filter");
          link.appendChild(remove);
        }
        var item = K.el("li");
        item.appendChild(link);
        list.appendChild(item);
      });
      return list;
    }

    function pickSuggestion(text) {
      state.q = text;
      input.value = text;
      recentSave(text);
      run("push");
      input.focus();
    }

    function showRecent() {
      var list = $("recent-list");
      var queries = recentLoad();
      list.textContent = "";
      $("recent").hidden = !queries.length || Boolean(input.value.trim());
      queries.forEach(function (query) {
        var item = K.el("li");
        var button = K.el("button", "recent-item", query);
        button.type = "button";
        button.addEventListener("click", function () { pickSuggestion(query); });
        item.appendChild(button);
        list.appendChild(item);
      });
    }

    /* ---------- the caller's context: their open calls, then past ones with resolutions ---------- */

    /* What the agent typed in the caller box is looked up (account, phone, e-mail or a name as heard): one
     * match, or an exact one first, is taken; several names show as choices; nothing found is read as an
     * account known only from its calls. The URL's caller= holds the account chosen. */
    function setCaller(mode) {
      clearTimeout(callerTimer);
      var value = callerInput.value.trim();
      if (value === lastTyped) return;
      lastTyped = value;
      if (lookupController) lookupController.abort();
      if (!value) {
        chooseCaller("", mode);
        return;
      }
      lookupController = new AbortController();
      fetch("/api/v1/customers?" + new URLSearchParams({q: value, limit: "8"}).toString(), {
        headers: Object.assign({"Accept": "application/json"}, HEADERS), signal: lookupController.signal,
        credentials: "same-origin"
      }).then(function (response) {
        return response.ok ? response.json() : {results: []};
      }).then(function (body) {
        if (value !== lastTyped) return;
        var found = body.results || [];
        var exact = found.length && ["account", "phone", "email"].indexOf(found[0].how) >= 0;
        if (!found.length) chooseCaller(value, mode);
        else if (found.length === 1 || exact) chooseCaller(found[0].customer.id, mode);
        else showChoices(found, mode);
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        chooseCaller(value, mode);
      });
    }

    function showChoices(found, mode) {
      var box = $("caller-choices");
      box.textContent = "";
      box.appendChild(K.el("p", "help", found.length + " customers match; pick one:"));
      var list = K.el("ul");
      found.forEach(function (result) {
        var c = result.customer;
        var button = K.el("button", "caller-choice link-button", (c.name || c.organisation) + " (" + c.id + ")");
        button.type = "button";
        button.dataset.id = c.id;
        var item = K.el("li");
        item.appendChild(button);
        item.appendChild(K.el("span", "meta", " " + [c.organisation, c.city, K.HOW_LABELS[result.how] || result.how].filter(Boolean).join(" \u00b7 ")));
        list.appendChild(item);
      });
      box.appendChild(list);
      box.hidden = false;
      box.onclick = function (event) {
        var picked = event.target.closest(".caller-choice");
        if (picked) chooseCaller(picked.dataset.id, mode);
      };
    }

    function chooseCaller(customerId, mode) {
      $("caller-choices").hidden = true;
      if (customerId === state.caller) return;
      state.caller = customerId;
      loadCaller();
      if (state.q.trim()) run(mode);
      else writeUrl(mode);
    }

    function loadCaller() {
      var box = $("caller-context");
      var tryCaller = $("try-caller");
      if (tryCaller) tryCaller.hidden = Boolean(state.caller);
      newCallLink();
      if (callerController) callerController.abort();
      if (!state.caller) {
        box.hidden = true;
        box.textContent = "";
        return;
      }
      callerController = new AbortController();
      var asked = state.caller;
      fetch("/api/v1/customers/" + encodeURIComponent(asked) + "/calls", {
        headers: Object.assign({"Accept": "application/json"}, HEADERS), signal: callerController.signal, credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) {
          if (asked !== state.caller) return;
          if (!response.ok) throw new Error(body && body.error ? body.error : "the server answered " + response.status);
          renderCaller(body);
        });
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        box.textContent = "";
        box.appendChild(K.el("p", "state state-error", "Could not load the caller's calls: " + error.message));
        box.hidden = false;
      });
    }

    function renderCaller(data) {
      var box = $("caller-context");
      box.textContent = "";
      K.callerPanel("", data).forEach(function (node) { box.appendChild(node); });
      var actions = K.el("p", "caller-actions");
      var add = K.el("a", null, "New call for this caller");
      add.href = "/calls/new?customer_id=" + encodeURIComponent(data.customer_id);
      actions.appendChild(add);
      box.appendChild(actions);
      box.hidden = false;
    }

    function newCallLink() {
      var link = $("new-call");
      if (link) link.href = "/calls/new" + (state.caller ? "?customer_id=" + encodeURIComponent(state.caller) : "");
    }

    /* keyboard: the selected hit is the one whose link has focus */
    function links() {
      return Array.prototype.slice.call(results.querySelectorAll(".hit-link"));
    }

    function currentIndex() {
      return links().indexOf(document.activeElement);
    }

    function move(step) {
      var all = links();
      if (!all.length) return;
      var next = currentIndex() + step;
      if (next < 0) {
        input.focus();
        return;
      }
      all[Math.min(next, all.length - 1)].focus();
    }

    function copySelected() {
      var link = document.activeElement;
      var hit = link && link.closest && link.closest(".hit");
      if (!hit || !results.contains(hit)) return false;
      var text = hit.querySelector(".resolution-text");
      if (!text) {
        toast("This call has no resolution to copy", true);
        return true;
      }
      var value = text.textContent;
      if (value.slice(-1) !== "\u2026") {
        copyText(value, "the resolution of " + hit.dataset.id);
        return true;
      }
      // The list shows at most 600 characters: fetch the whole resolution for the clipboard.
      fetch("/api/v1/calls/" + encodeURIComponent(hit.dataset.id), {headers: {"Accept": "application/json"}})
        .then(function (response) { return response.ok ? response.json() : {resolution: value}; })
        .then(function (call) { return copyText(call.resolution || value, "the resolution of " + hit.dataset.id); });
      return true;
    }

    function rememberSelection(link) {
      var hit = link.closest(".hit");
      if (hit) history.replaceState({selected: hit.dataset.id}, "", location.href);
      if (hit) K.sendOpened("", HEADERS, searchId, hit.dataset.id);
      recentSave(state.q);
    }

    function restoreSelection() {
      var selected = history.state && history.state.selected;
      if (!selected) return;
      var hit = results.querySelector('.hit[data-id="' + CSS.escape(selected) + '"] .hit-link');
      if (hit) hit.focus();
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented) return;
      var typing = isTyping(event.target);
      var inResults = results.contains(event.target);
      if (event.key === "/" && !typing) {
        event.preventDefault();
        input.focus();
        input.select();
      } else if (event.key === "ArrowDown" && (event.target === input || inResults)) {
        event.preventDefault();
        move(1);
      } else if (event.key === "ArrowUp" && inResults) {
        event.preventDefault();
        move(-1);
      } else if (event.key === "Escape" && inResults) {
        event.preventDefault();
        input.focus();
      } else if ((event.key === "c" || event.key === "C") && !typing && inResults) {
        if (copySelected()) event.preventDefault();
      } else if (event.key === "a" && !typing) {
        event.preventDefault();
        callerInput.focus();
        callerInput.select();
      } else if (event.key === "n" && !typing) {
        event.preventDefault();
        location.href = $("new-call").href;
      } else if (event.key === "Enter" && event.target === callerInput) {
        event.preventDefault();
        setCaller("push");
        input.focus();
      }
    });

    /* Enter on a focused link fires a click too, so this one listener sees every opening exactly once. */
    results.addEventListener("click", function (event) {
      var link = event.target.closest(".hit-link");
      if (link) rememberSelection(link);
    });

    $("filters").addEventListener("click", function (event) {
      var link = event.target.closest(".facet-link");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      var name = link.dataset.facet;
      state[name] = state[name] === link.dataset.value ? "" : link.dataset.value;
      run("push");
    });
    document.addEventListener("click", function (event) {
      var link = event.target.closest(".clear-filters, #dym .dym-link[href]:not([href='#'])");
      if (!link || event.ctrlKey || event.metaKey || event.shiftKey) return;
      event.preventDefault();
      if (link.classList.contains("clear-filters")) {
        state.product = "";
        state.category = "";
        run("push");
      } else {
        pickSuggestion(new URL(link.href).searchParams.get("q") || "");
      }
    });

    input.addEventListener("input", function () {
      state.q = input.value;
      run("type");
    });
    $("search-form").addEventListener("submit", function (event) {
      event.preventDefault();
      state.q = input.value;
      if (callerInput.value.trim() !== lastTyped) setCaller("push");  // typed, but its pause has not passed yet
      recentSave(state.q);
      run("push");
    });
    callerInput.addEventListener("input", function () {
      clearTimeout(callerTimer);
      callerTimer = setTimeout(function () { setCaller("replace"); }, 350);
    });
    callerInput.addEventListener("change", function () { setCaller("push"); });
    $("recent-clear").addEventListener("click", function () {
      try { localStorage.removeItem(RECENT_KEY); } catch (error) { /* storage off */ }
      showRecent();
      input.focus();
    });

    window.addEventListener("popstate", function () {
      var before = state.caller;
      state = stateFromUrl();
      input.value = state.q;
      callerInput.value = state.caller;
      lastTyped = state.caller;
      if (state.caller !== before) loadCaller();
      run("none");
    });
    window.addEventListener("pageshow", function (event) {
      if (event.persisted) restoreSelection();
    });

    // Hidden filter inputs were for the no-JavaScript form; the state object carries them now.
    Array.prototype.forEach.call(document.querySelectorAll("#search-form input[type=hidden]"), function (node) {
      node.remove();
    });
    if (!state.q.trim()) showRecent();
    newCallLink();
    restoreSelection();
  }

  /* ---------- one call ---------- */

  function callPage() {
    var article = document.querySelector("article.call");
    var callId = article.dataset.callId;
    var query = article.dataset.query || "";
    var searchId = article.dataset.searchId || "";
    var solved = $("solved");
    var copy = $("copy");
    var resolution = $("resolution");
    var status = $("solved-status");

    solved.hidden = false;
    copy.hidden = !resolution.textContent.trim();

    solved.addEventListener("click", function () {
      solved.disabled = true;
      status.className = "solved-status";
      status.textContent = "Recording\u2026";
      K.sendFeedback("", HEADERS, callId, query, "page", searchId).then(function () {
        solved.textContent = "\u2713 Marked as solved";
        status.textContent = query
          ? "Thanks \u2014 recorded that this call solved \u201c" + query + "\u201d."
          : "Thanks \u2014 recorded that this call solved the problem.";
      }, function (error) {
        solved.disabled = false;
        status.className = "solved-status state-error";
        status.textContent = "Could not record it: " + error.message;
      });
    });

    function copyResolution() {
      copyText(resolution.textContent.trim(), "the resolution of " + callId);
    }
    copy.addEventListener("click", copyResolution);

    function goBack() {
      var referrer = document.referrer ? new URL(document.referrer) : null;
      if (referrer && referrer.origin === location.origin && referrer.pathname === "/" && history.length > 1) {
        history.back();
      } else {
        location.href = $("back").href;
      }
    }

    document.addEventListener("keydown", function (event) {
      if (event.ctrlKey || event.metaKey || event.altKey || event.defaultPrevented || isTyping(event.target)) return;
      if (event.key === "Escape") {
        event.preventDefault();
        goBack();
      } else if (event.key === "/") {
        event.preventDefault();
        location.href = $("back").href;
      } else if ((event.key === "c" || event.key === "C") && resolution.textContent.trim()) {
        event.preventDefault();
        copyResolution();
      } else if (event.key === "e") {
        event.preventDefault();
        location.href = $("edit").href;
      } else if (event.key === "n") {
        event.preventDefault();
        location.href = $("new-call").href;
      }
    });
    if (query) recentSave(query);
    var offset = $("tz_offset");
    if (offset) offset.value = String(new Date().getTimezoneOffset());  // the promise's due time is the agent's
  }

  /* ---------- the capture form: Ctrl+Enter saves from any field ---------- */

  function capturePage() {
    var form = $("capture-form");
    form.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
        event.preventDefault();
        form.requestSubmit();
      }
    });
    var invalid = form.querySelector("[aria-invalid=true]");
    if (invalid) invalid.focus();
  }

  var page = document.body.dataset.page;
  if (page === "search") searchPage();
  else if (page === "call") callPage();
  else if (page === "capture") capturePage();
}());
