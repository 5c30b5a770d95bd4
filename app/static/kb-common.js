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
    "meaning": "by meaning",
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
    if (match.how === "meaning") return label + " (" + Number(match.similarity).toFixed(2) + ")";
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

  /* ---------- the caller panel (issue #18), shared by the page and the widget ---------- */

  var CHANNEL_LABELS = {phone: "Phone", email: "E-mail", web: "Web", chat: "Chat", in_person: "In person"};

  function callerCall(base, call, past) {
    var item = el("li", "caller-call");
    item.dataset.id = call.id;
    var link = el("a", "caller-call-link", call.title || call.id);
    link.href = callUrl(base, call.id, "", "");
    if (base) { link.target = "_blank"; link.rel = "noopener"; }
    item.appendChild(link);
    item.appendChild(document.createTextNode(" "));
    var when = [call.product, (call.created_at || "").slice(0, 10), CHANNEL_LABELS[call.channel]].filter(Boolean);
    item.appendChild(el("span", "meta", when.join(" \u00b7 ")));
    if (!past) {
      [["status-" + call.status, call.status], ["priority-" + call.priority, call.priority],
       ["escalated", call.escalated_at ? "escalated" : ""]].forEach(function (pill) {
        if (!pill[1]) return;
        item.appendChild(document.createTextNode(" "));
        item.appendChild(el("span", "pill " + pill[0], pill[1]));
      });
    }
    if (call.resolution) {
      var text = el("p", "caller-resolution");
      text.appendChild(el("span", "label", (past ? "Resolution" : "So far") + ": "));
      text.appendChild(document.createTextNode(call.resolution));
      item.appendChild(text);
    }
    return item;
  }

  function callerList(base, calls, className, past, none) {
    if (!calls.length) return el("p", "caller-none", none);
    var list = el("ul", className);
    calls.forEach(function (call) { list.appendChild(callerCall(base, call, past)); });
    return list;
  }

  function followUpItem(base, f) {
    var item = el("li", "follow-up state-" + f.state);
    item.dataset.id = f.id;
    item.appendChild(el("span", "pill follow-up-state " + f.state, f.state));
    if (f.escalated_at) {
      item.appendChild(document.createTextNode(" "));
      item.appendChild(el("span", "pill escalated", "escalated"));
    }
    item.appendChild(document.createTextNode(" "));
    item.appendChild(el("span", "follow-up-what", f.what));
    item.appendChild(document.createTextNode(" "));
    item.appendChild(el("span", "meta", "due " + f.due_at.slice(0, 16).replace("T", " ") + " UTC \u00b7 " + f.owner));
    return item;
  }

  /* The caller panel as a list of nodes: who, local time, key account, products, notes, open and past calls,
   * promised follow-ups, last contact on each channel. */
  function callerPanel(base, data) {
    var nodes = [];
    var record = data.customer;
    var title = el("h2");
    title.id = "caller-title";
    if (data.customer_name) {
      title.appendChild(document.createTextNode(data.customer_name + " "));
      title.appendChild(el("span", "account", data.customer_id));
    } else {
      title.textContent = "Account " + data.customer_id;
    }
    if (record && record.key_account) {
      title.appendChild(document.createTextNode(" "));
      title.appendChild(el("span", "pill key-account", "key account"));
    }
    nodes.push(title);
    if (record) {
      var who = [record.name && record.organisation ? record.organisation : "", record.city, record.country];
      if (who.filter(Boolean).length) nodes.push(el("p", "caller-org", who.filter(Boolean).join(" \u00b7 ")));
      if (data.local_time) {
        var time = el("p", "caller-local-time");
        time.appendChild(el("span", "label", "Local time: "));
        time.appendChild(el("time", "local-time", data.local_time.display));
        time.lastChild.setAttribute("datetime", data.local_time.local_time);
        time.appendChild(document.createTextNode(" (" + data.local_time.time_zone + ", UTC" + data.local_time.utc_offset + ")"));
        nodes.push(time);
      }
      if (record.products.length) {
        var owned = el("ul", "caller-products");
        owned.setAttribute("aria-label", "Products owned");
        record.products.forEach(function (p) {
          owned.appendChild(el("li", null, [p.name, p.version, p.serial ? "SN " + p.serial : ""].filter(Boolean).join(" ")));
        });
        nodes.push(owned);
      }
      if (record.notes) nodes.push(el("p", "caller-notes", record.notes));
    }
    if (!data.open.length && !data.past.length) {
      nodes.push(el("p", "caller-none", "No calls on record for account " + data.customer_id + ". Results are not reordered."));
    } else {
      nodes.push(el("h3", null, "Open calls (" + data.open.length + ")"));
      nodes.push(callerList(base, data.open, "caller-open", false, "None open."));
      nodes.push(el("h3", null, "Past calls (" + data.past.length + ")"));
      nodes.push(callerList(base, data.past, "caller-past", true, "None yet."));
    }
    var promises = data.follow_ups || [];
    if (promises.length) {
      nodes.push(el("h3", null, "Promised follow-ups (" + promises.length + ")"));
      var list = el("ul", "follow-ups");
      promises.forEach(function (f) { list.appendChild(followUpItem(base, f)); });
      nodes.push(list);
    }
    var channels = Object.keys(data.last_contact || {});
    if (channels.length) {
      nodes.push(el("h3", null, "Last contact"));
      var last = el("ul", "last-contact");
      channels.forEach(function (channel) {
        var item = el("li", null, (CHANNEL_LABELS[channel] || channel) + ": " + data.last_contact[channel].slice(0, 16).replace("T", " "));
        item.dataset.channel = channel;
        last.appendChild(item);
      });
      nodes.push(last);
    }
    return nodes;
  }

  return {
    callerPanel: callerPanel,
    el: el, setServerHtml: setServerHtml, badgeText: badgeText, badges: badges, renderHit: renderHit,
    didYouMean: didYouMean, summaryText: summaryText, createSearcher: createSearcher,
    sendFeedback: sendFeedback, sendOpened: sendOpened, callUrl: callUrl, newSessionId: newSessionId,
    apiHeaders: apiHeaders, HOW_LABELS: HOW_LABELS
  };
}());
