/* Shared by the agents' page (loaded as a script) and the widget (inlined into /widget.js).
 * Rule: only the server's own HTML strings (title_html, snippet, did_you_mean.html: escaped text
 * with <mark>) go through innerHTML; every other string is set with textContent. */
var KBCommon = (function () {
  "use strict";

  var HOW_LABELS = {
    "exact": "exact",
    "stem": "stem",
    "spelling-variant": "UK/US spelling",
    "synonym": "synonym",
    "typo": "typo",
    "sounds-like": "sounds like",
    "caller-product": "your caller's product"
  };
  var SLOW_AFTER_MS = 400;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function setServerHtml(node, html) {
    node.innerHTML = html || "";  // server-made: escaped text plus <mark> only
    return node;
  }

  function badgeText(match) {
    var label = HOW_LABELS[match.how] || match.how;
    if (match.how === "caller-product") return label + ": " + match.matched;
    if (!match.matched || match.matched.toLowerCase() === String(match.query_term).toLowerCase()) {
      return label + ": " + match.query_term;
    }
    return label + ": " + match.query_term + " \u2192 " + match.matched;
  }

  function badges(matches) {
    var list = el("ul", "badges");
    list.setAttribute("aria-label", "Why it matched");
    (matches || []).forEach(function (match) {
      var item = el("li", "badge badge-" + String(match.how).replace(/[^a-z-]/g, ""), badgeText(match));
      list.appendChild(item);
    });
    return list;
  }

  function meta(hit) {
    var parts = [hit.product, hit.category].filter(Boolean);
    return el("p", "meta", parts.join(" \u00b7 "));
  }

  function callUrl(base, id, query, searchId) {
    var params = new URLSearchParams();
    if (query) params.set("q", query);
    if (searchId) params.set("sid", searchId);  // lets the call's "This solved it" name the search
    var text = params.toString().replace(/\+/g, "%20");
    return base + "/calls/" + encodeURIComponent(id) + (text ? "?" + text : "");
  }

  /* Our own page (base "") sends its session cookie: an agent signed in there may search when a key is
   * required. The widget (base = our server, on a host's origin) never sends cookies; it has its key. */
  function credentialsFor(base) {
    return base ? "omit" : "same-origin";
  }

  /* An anonymous id for the search log's sessions: random, never tied to a person. */
  function newSessionId() {
    var bytes = new Uint8Array(12);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  /* Headers of every API call: the widget key (if any), the session and the channel (page or widget). */
  function apiHeaders(key, session, channel) {
    var headers = {"X-KB-Session": session, "X-KB-Channel": channel};
    if (key) headers["Authorization"] = "Bearer " + key;
    return headers;
  }

  /* One hit as an <li>; opts: {base, query, linkTarget, compact, id} */
  function renderHit(hit, opts) {
    var item = el("li", "hit");
    item.dataset.id = hit.id;
    if (opts.id) item.id = opts.id;
    var heading = el("h3", "hit-title");
    var link = el("a", "hit-link");
    link.href = callUrl(opts.base, hit.id, opts.query, opts.searchId);
    if (opts.linkTarget) {
      link.target = opts.linkTarget;
      link.rel = "noopener";
    }
    if (hit.title) setServerHtml(link, hit.title_html);
    else link.textContent = hit.id;
    heading.appendChild(link);
    item.appendChild(heading);
    item.appendChild(meta(hit));
    if (hit.snippet && !opts.compact) item.appendChild(setServerHtml(el("p", "snippet"), hit.snippet));
    if (hit.resolution) {
      var resolution = el("p", "resolution");
      resolution.appendChild(el("span", "label", "Resolution: "));
      resolution.appendChild(el("span", "resolution-text", hit.resolution));
      item.appendChild(resolution);
    }
    item.appendChild(badges(hit.matches));
    return item;
  }

  function didYouMean(dym, onPick) {
    var para = el("p", "did-you-mean");
    para.appendChild(document.createTextNode("Did you mean "));
    var link = el("a", "dym-link");
    link.href = "#";
    setServerHtml(link, dym.html);
    link.addEventListener("click", function (event) {
      event.preventDefault();
      onPick(dym.text);
    });
    para.appendChild(link);
    para.appendChild(document.createTextNode("?"));
    return para;
  }

  function summaryText(data) {
    var n = data.total;
    var counted = data.total_exact === false ? n + "+" : String(n);
    return counted + (n === 1 ? " result" : " results") + " (" + data.took_ms + " ms)";
  }

  /* Runs searches one at a time: a new one aborts the one before, so answers never arrive out of order.
   * handlers: {onSlow(), onResult(data, params), onError(message, status)} */
  function createSearcher(base, headers, handlers) {
    var controller = null;
    var slowTimer = null;
    var seq = 0;

    function finish() {
      clearTimeout(slowTimer);
      controller = null;
    }

    function cancel() {
      if (controller) controller.abort();
      finish();
    }

    function run(params) {
      cancel();
      var mine = ++seq;
      controller = new AbortController();
      slowTimer = setTimeout(function () { if (mine === seq) handlers.onSlow(); }, SLOW_AFTER_MS);
      var query = new URLSearchParams(params).toString();
      return fetch(base + "/api/v1/search?" + query, {
        headers: Object.assign({"Accept": "application/json"}, headers),
        signal: controller.signal,
        credentials: credentialsFor(base)
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          if (mine !== seq) return;
          finish();
          if (!response.ok || !body || body.ok === false) {
            var message = body && body.error ? body.error : "the server answered " + response.status;
            handlers.onError(message, response.status);
          } else {
            handlers.onResult(body, params);
          }
        });
      }).catch(function (error) {
        if (error && error.name === "AbortError") return;
        if (mine !== seq) return;
        finish();
        handlers.onError(null, 0);
      });
    }

    return {run: run, cancel: cancel};
  }

  /* Tell the analytics that a hit was opened; keepalive lets it finish while the page navigates away. */
  function sendOpened(base, headers, searchId, callId) {
    if (!searchId) return;
    fetch(base + "/api/v1/events", {
      method: "POST", keepalive: true, credentials: credentialsFor(base),
      headers: Object.assign({"Content-Type": "application/json"}, headers),
      body: JSON.stringify({search_id: searchId, call_id: callId, kind: "opened"})
    }).catch(function () { /* analytics only: never bother the user */ });
  }

  function sendFeedback(base, headers, callId, query, source, searchId) {
    var body = {call_id: callId, query: query || "", source: source};
    if (searchId) body.search_id = searchId;
    return fetch(base + "/api/v1/feedback", {
      method: "POST",
      headers: Object.assign({"Content-Type": "application/json", "Accept": "application/json"}, headers),
      body: JSON.stringify(body),
      credentials: credentialsFor(base)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (body) {
        if (!response.ok) throw new Error(body && body.error ? body.error : "the server answered " + response.status);
        return body;
      });
    });
  }

  return {
    el: el, setServerHtml: setServerHtml, badgeText: badgeText, badges: badges, renderHit: renderHit,
    didYouMean: didYouMean, summaryText: summaryText, createSearcher: createSearcher,
    sendFeedback: sendFeedback, sendOpened: sendOpened, callUrl: callUrl, newSessionId: newSessionId,
    apiHeaders: apiHeaders, HOW_LABELS: HOW_LABELS
  };
}());
