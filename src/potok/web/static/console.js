/* Potok console: the little script the server-rendered pages need.
 *
 * - forms marked data-api send their fields as JSON to the API, with the session's CSRF
 *   token, the page's language and the order's version (If-Match); a refusal is shown in
 *   the form's own words from the problem document, and nothing typed is lost;
 * - the orders list: keyboard navigation, saved views, bulk actions;
 * - live updates from /live (server-sent events);
 * - the warehouse screens: scans from keyboard-wedge scanners or the camera.
 */
(function () {
  "use strict";

  var lang = document.documentElement.lang || "en";

  function cookie(name) {
    var found = document.cookie.split("; ").find(function (c) { return c.indexOf(name + "=") === 0; });
    return found ? decodeURIComponent(found.slice(name.length + 1)) : null;
  }

  // the reader's time zone, so that the server shows times as they live them
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && cookie("potok_tz") !== zone) {
      document.cookie = "potok_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; samesite=lax";
    }
  } catch (e) { /* a browser without Intl keeps UTC */ }

  // ------------------------------------------------------------------ talking to the API

  function api(method, url, body, ifMatch, contentType, once) {
    var headers = { "Accept": "application/json", "Accept-Language": lang };
    if (once) { headers["Idempotency-Key"] = once; }
    var csrf = cookie("potok_csrf");
    if (csrf) { headers["X-CSRF-Token"] = csrf; }
    if (ifMatch) { headers["If-Match"] = '"' + ifMatch + '"'; }
    if (body !== undefined) { headers["Content-Type"] = contentType || "application/json"; }
    return fetch(url, {
      method: method,
      headers: headers,
      body: body === undefined ? undefined : (contentType ? body : JSON.stringify(body)),
      credentials: "same-origin"
    }).then(function (response) {
      var type = response.headers.get("content-type") || "";
      var read = type.indexOf("json") >= 0 ? response.json() : Promise.resolve(null);
      return read.then(function (data) {
        return { ok: response.ok, status: response.status, data: data, etag: response.headers.get("etag") };
      });
    }, function () {
      return { ok: false, status: 0, data: { title: lang === "ru" ? "Нет связи с сервером" : "The server cannot be reached", detail: "" } };
    });
  }
  window.potokApi = api;

  function flash(text, kind) {
    var box = document.getElementById("flash");
    if (!box) { return; }
    box.textContent = text;
    box.className = "flash show " + (kind || "ok");
    clearTimeout(flash.timer);
    flash.timer = setTimeout(function () { box.className = "flash"; }, 6000);
  }
  window.potokFlash = flash;

  // a message carried over a reload
  var carried = sessionStorage.getItem("potok.flash");
  if (carried) {
    sessionStorage.removeItem("potok.flash");
    document.addEventListener("DOMContentLoaded", function () { flash(carried, "ok"); });
  }

  function fieldValue(input) {
    if (input.type === "checkbox") {
      // one of several boxes sending a list: its value when ticked (none ticked sends [])
      if (input.dataset.repeat !== undefined) { return input.checked ? input.value : undefined; }
      return input.checked;
    }
    var value = input.value;
    if (value === "") { return input.dataset.emptyList !== undefined ? [] : undefined; }
    var kind = input.dataset.type;
    if (kind === "bool") { return value === "true"; }
    if (kind === "int") { var n = Number(value); return Number.isInteger(n) ? n : value; }
    if (kind === "moment") { var d = new Date(value); return isNaN(d) ? value : d.toISOString(); }
    if (kind === "list") { return value.split(/[\s,]+/).filter(Boolean); }
    return value;
  }

  function formBody(form) {
    var body = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.disabled || input.type === "submit" || input.type === "button") { return; }
      var value = fieldValue(input);
      if (value === undefined) { return; }
      var path = input.name.split(".");
      var target = body;
      for (var i = 0; i < path.length - 1; i++) {
        target = target[path[i]] = target[path[i]] || {};
      }
      var last = path[path.length - 1];
      if (input.dataset.repeat !== undefined) {
        (target[last] = target[last] || []).push(value);
      } else {
        target[last] = value;
      }
    });
    return body;
  }

  function showProblem(form, problem, status) {
    var box = form.querySelector(".errors");
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (el) {
      el.removeAttribute("aria-invalid");
    });
    Array.prototype.forEach.call(form.querySelectorAll(".field-error"), function (el) { el.remove(); });
    problem = problem || {};
    var title = problem.title || (lang === "ru" ? "Не получилось" : "That did not work");
    var parts = [];
    (problem.errors || []).forEach(function (error) {
      var name = String(error.field || "").split(/[.\[]/)[0];
      var input = name && form.querySelector('[name="' + name + '"], [name^="' + name + '."]');
      var inRow = /^(\w+)\[(\d+)\]\.(\w+)$/.exec(String(error.field || ""));
      if (!input && inRow && form.potokRows && form.potokRows[inRow[1]]) {
        var row = form.potokRows[inRow[1]][Number(inRow[2])];  // a field of a row sent
        input = row && row.querySelector('[data-key="' + inRow[3] + '"]');
      }
      if (input) {
        input.setAttribute("aria-invalid", "true");
        var note = document.createElement("span");
        note.className = "field-error";
        note.id = (input.id || name) + "-error";
        note.textContent = error.message;
        input.setAttribute("aria-describedby", note.id);
        input.insertAdjacentElement("afterend", note);
      } else {
        parts.push(error.field + ": " + error.message);
      }
    });
    if (box) {
      box.innerHTML = "";
      var strong = document.createElement("strong");
      strong.textContent = title;
      box.appendChild(strong);
      var detail = problem.errors && problem.errors.length ? parts.join("; ") : problem.detail;
      if (detail) {
        var p = document.createElement("p");
        p.textContent = detail;
        box.appendChild(p);
      }
      if (status === 412) {
        var again = document.createElement("a");
        again.href = "";
        again.textContent = lang === "ru" ? "Перечитать заказ" : "Reload the order";
        box.appendChild(again);
      }
      box.dataset.code = problem.code || "";
      box.hidden = false;
    } else {
      flash(title + (problem.detail ? ": " + problem.detail : ""), "error");
    }
    signalWrong();
  }

  function afterSuccess(form, result) {
    var then = form.dataset.then || "reload";
    var done = form.dataset.done;
    if (then === "reload") {
      if (done) { sessionStorage.setItem("potok.flash", done); }
      window.location.reload();
    } else if (then.indexOf("open:") === 0) {
      // a page of what was made: open:/floor/waves/{number}
      if (done) { sessionStorage.setItem("potok.flash", done); }
      window.location.assign(then.slice(5).replace(/\{(\w+)\}/g, function (_, key) {
        return encodeURIComponent(result.data && result.data[key] !== undefined ? result.data[key] : "");
      }));
    } else if (then.indexOf("go:") === 0) {
      if (done) { sessionStorage.setItem("potok.flash", done); }
      window.location.assign(then.slice(3));
    } else if (then === "event") {
      form.dispatchEvent(new CustomEvent("potok:done", { detail: result, bubbles: true }));
    } else if (then === "show") {
      // something shown once (a one-time password, a key's secret)
      var target = document.querySelector(form.dataset.show);
      var field = form.dataset.field;
      if (target) {
        target.hidden = false;
        // data-field="subject,text": those fields, one after another
        target.querySelector("[data-fill]").textContent = field && result.data
          ? field.split(",").map(function (f) { return result.data[f]; }).filter(Boolean).join("\n\n")
          : JSON.stringify(result.data, null, 2);
        target.scrollIntoView();
      }
      if (done) { flash(done, "ok"); }
      var box = form.querySelector(".errors");
      if (box) { box.hidden = true; }
    }
  }

  // forms with repeated rows (order lines, transfer lines): each [data-row] under a
  // [data-rows="key"] becomes an object of its [data-key] fields plus the row's own fixed
  // values (JSON in data-row); empty rows are left out, and so are rows whose fields are
  // unchanged (data-only-changed) or zero (data-skip-zero), or whose named field is empty
  // or zero (data-skip-without="quantity")
  var builders = window.potokBuilders = window.potokBuilders || {};
  builders.rows = function (form, body) {
    form.potokRows = {};  // the rows sent, so that a refusal of lines[1].sku finds its field
    Array.prototype.forEach.call(form.querySelectorAll("[data-rows]"), function (group) {
      var rows = [];
      var sent = form.potokRows[group.dataset.rows] = [];
      Array.prototype.forEach.call(group.querySelectorAll("[data-row]"), function (row) {
        var inputs = Array.prototype.slice.call(row.querySelectorAll("[data-key]"));
        var filled = inputs.filter(function (input) { return input.value !== ""; });
        if (!filled.length) { return; }
        if (group.dataset.onlyChanged !== undefined && filled.every(function (input) {
          return input.value === input.defaultValue;
        })) { return; }
        if (group.dataset.skipZero !== undefined && filled.every(function (input) {
          return input.value === "0";
        })) { return; }
        if (group.dataset.skipWithout) {  // a row counts only when this field says something
          var needed = row.querySelector('[data-key="' + group.dataset.skipWithout + '"]');
          if (!needed || needed.value === "" || needed.value === "0") { return; }
        }
        var item = JSON.parse(row.dataset.row || "{}");
        filled.forEach(function (input) {
          var path = input.dataset.key.split(".");  // lot.number: {lot: {number: ...}}
          var target = item;
          for (var i = 0; i < path.length - 1; i++) { target = target[path[i]] = target[path[i]] || {}; }
          target[path[path.length - 1]] = fieldValue(input);
        });
        rows.push(item);
        sent.push(row);
      });
      body[group.dataset.rows] = rows;
    });
    return body;
  };

  // the reorder page: the positions ticked in its table ([data-pick]) become the body's
  // skus, whichever of its forms (purchase order, transfer) is sent
  builders.reorderPick = function (form, body) {
    body.skus = Array.prototype.map.call(
      document.querySelectorAll("[data-pick]:checked"), function (box) { return box.value; });
    return body;
  };

  // the message template page: the text area's draft (to preview or save), or none (reset)
  builders.templateDraft = function (form) {
    var other = document.querySelector(form.id === "template-save" ? "[data-build=templateDraft] .errors" : "#template-save .errors");
    if (other) { other.hidden = true; }  // one refusal shown at a time, the latest
    return { medium: form.dataset.medium, source: document.getElementById("template-source").value };
  };
  builders.templateSave = builders.templateDraft;
  builders.templateReset = function (form) { return { medium: form.dataset.medium, source: null }; };

  // the rules page: a dry run sends the rule as written in its text area (data-rule names
  // it) with the last N orders, or the period when a date is filled in
  builders.ruleDryRun = function (form, body) {
    var source = document.getElementById(form.dataset.rule);
    var rule;
    try { rule = JSON.parse(source.value); } catch (e) {
      showProblem(form, { title: lang === "ru" ? "Это не JSON" : "This is not JSON", detail: String(e.message) }, 422);
      return null;
    }
    body.rule = rule;
    if (body.since !== undefined || body.until !== undefined) { delete body.last; }
    var shown = document.getElementById(form.dataset.result);
    if (shown) { shown.hidden = true; }
    return body;
  };

  // ... and what it would have done, in a table under the form
  function cell(row, text, tag) {
    var td = document.createElement(tag || "td");
    if (text instanceof Node) { td.appendChild(text); } else { td.textContent = text; }
    row.appendChild(td);
    return td;
  }

  function showDryRun(box, data) {
    box.innerHTML = "";
    var summary = document.createElement("p");
    summary.dataset.dryRunSummary = "";
    summary.textContent = box.dataset.summary.replace("{n}", data.looked_at).replace("{m}", data.matched.length);
    box.appendChild(summary);
    if (!data.matched.length) {
      var none = document.createElement("p");
      none.className = "muted";
      none.textContent = box.dataset.none;
      box.appendChild(none);
      box.hidden = false;
      return;
    }
    var wrap = document.createElement("div");
    wrap.className = "table-wrap";
    var table = document.createElement("table");
    table.className = "compact";
    table.dataset.dryRunMatched = "";
    var head = table.createTHead().insertRow();
    box.dataset.columns.split("|").forEach(function (title) { cell(head, title, "th").scope = "col"; });
    var rows = table.createTBody();
    data.matched.forEach(function (trial) {
      var row = rows.insertRow();
      row.dataset.order = trial.order_id;
      var link = document.createElement("a");
      link.href = "/orders/" + encodeURIComponent(trial.order_id);
      link.textContent = "#" + trial.order_id + (trial.external_id ? " (" + trial.external_id + ")" : "");
      cell(row, link);
      cell(row, trial.created_at ? new Date(trial.created_at).toLocaleString(lang) : "");
      cell(row, trial.channel || "");
      cell(row, trial.total === null || trial.total === undefined ? "" : Number(trial.total).toLocaleString(lang, { minimumFractionDigits: 2 }) + " " + (trial.currency || ""));
      cell(row, trial.status || "");
      var did = cell(row, "");
      did.dataset.actions = "";
      trial.actions.forEach(function (action) {
        var line = document.createElement("div");
        line.dataset.outcome = action.outcome;
        var code = document.createElement("code");
        code.textContent = action["do"];
        line.appendChild(code);
        Object.keys(action).forEach(function (key) {
          if (key === "do" || key === "outcome" || key === "why") { return; }
          var part = document.createElement("span");
          part.className = "muted small";
          part.textContent = " " + key + "=" + action[key];
          line.appendChild(part);
        });
        var fate = document.createElement("span");
        fate.className = action.outcome === "done" ? "small" : "small late";
        fate.textContent = " - " + (action.outcome === "done" ? box.dataset.would : box.dataset.skipped + (action.why ? ": " + action.why : ""));
        line.appendChild(fate);
        did.appendChild(line);
      });
    });
    wrap.appendChild(table);
    box.appendChild(wrap);
    box.hidden = false;
  }

  document.addEventListener("potok:done", function (event) {
    var form = event.target;
    if (!form.dataset || form.dataset.build !== "ruleDryRun") { return; }
    var box = document.getElementById(form.dataset.result);
    var errors = form.querySelector(".errors");
    if (errors) { errors.hidden = true; }
    if (box && event.detail && event.detail.data) { showDryRun(box, event.detail.data); }
  });

  // an Idempotency-Key per request, kept for a retry of the same body until it is answered
  function onceKey(form, body) {
    var text = JSON.stringify(body === undefined ? null : body);
    if (!form.dataset.onceKey || form.dataset.onceBody !== text) {
      form.dataset.onceKey = window.crypto && window.crypto.randomUUID ? window.crypto.randomUUID()
        : Date.now().toString(36) + Math.random().toString(36).slice(2);
      form.dataset.onceBody = text;
    }
    return form.dataset.onceKey;
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.dataset || !form.dataset.api) { return; }
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { return; }
    var button = form.querySelector("[type=submit]");
    if (button) { button.disabled = true; }
    form.setAttribute("aria-busy", "true");
    var method = form.dataset.method || "POST";
    var body = method === "DELETE" ? undefined : formBody(form);
    var contentType;
    if (form.dataset.body === "json") {
      // one text area holds the whole JSON document
      try { body = JSON.parse(form.querySelector("textarea").value); } catch (e) {
        if (button) { button.disabled = false; }
        form.removeAttribute("aria-busy");
        showProblem(form, { title: lang === "ru" ? "Это не JSON" : "This is not JSON", detail: String(e.message) }, 422);
        return;
      }
    } else if (form.dataset.body === "csv") {
      body = form.querySelector("textarea").value;
      contentType = "text/csv";
    }
    // a page's own builder shapes the body (a parcel, a scan), sends it itself (a promise
    // of the API's answer), or handles the submit on the page (null: a bin label scanned)
    var sending = null;
    if (form.dataset.build) {
      var built = (window.potokBuilders || {})[form.dataset.build](form, body);
      if (built === null) {
        if (button) { button.disabled = false; }
        form.removeAttribute("aria-busy");
        return;
      }
      if (built && typeof built.then === "function") { sending = built; } else { body = built; }
    }
    var once = form.dataset.once !== undefined ? onceKey(form, body) : undefined;
    // a path that names something chosen on the form: /api/v1/warehouses/{warehouse}/...
    var url = form.dataset.api.replace(/\{(\w+)\}/g, function (_, key) {
      var chosen = form.querySelector('[data-path="' + key + '"]');
      return encodeURIComponent(chosen ? chosen.value : "");
    });
    sending = sending || api(method, url, body, form.dataset.ifMatch, contentType, once);
    sending.then(function (result) {
      // the server answered: the next submit is a new request; unanswered, a retry of the
      // same body carries the same key and cannot be done twice
      if (result.status !== 0) { delete form.dataset.onceKey; }
      form.removeAttribute("aria-busy");
      if (button) { button.disabled = false; }
      if (result.ok) { afterSuccess(form, result); } else {
        showProblem(form, result.data, result.status);
        form.dispatchEvent(new CustomEvent("potok:refused", { detail: result, bubbles: true }));
      }
    });
  });

  // signing out ends the API session, then shows the sign-in page
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-sign-out]");
    if (!button) { return; }
    api("DELETE", "/api/v1/session").then(function () { window.location.assign("/"); });
  });

  // ------------------------------------------------------------------ feedback

  var audio = null;
  function signalWrong() {
    if (navigator.vibrate) { try { navigator.vibrate([120, 60, 120]); } catch (e) { /* not allowed */ } }
    try {
      audio = audio || new (window.AudioContext || window.webkitAudioContext)();
      var osc = audio.createOscillator();
      var gain = audio.createGain();
      osc.type = "square";
      osc.frequency.value = 220;
      gain.gain.value = 0.15;
      osc.connect(gain); gain.connect(audio.destination);
      osc.start(); osc.stop(audio.currentTime + 0.25);
    } catch (e) { /* no sound here */ }
    document.body.classList.add("wrong");
    setTimeout(function () { document.body.classList.remove("wrong"); }, 400);
  }
  window.potokWrong = signalWrong;

  // ------------------------------------------------------------------ the orders list

  // rows are looked up at each key press: live updates may redraw or add rows
  var listReady = false;
  function initList() {
    function rows() {
      var table = document.querySelector("[data-keyboard-list]");
      var found = table ? Array.prototype.slice.call(table.querySelectorAll("tbody tr[data-href]")) : [];
      found.forEach(function (row) { row.tabIndex = -1; });
      return found;
    }
    rows();
    if (listReady) { return; }
    listReady = true;
    function focusRow(all, index) {
      if (!all.length) { return; }
      all[Math.max(0, Math.min(all.length - 1, index))].focus();
    }
    document.addEventListener("keydown", function (event) {
      if (keysOpen()) { return; }
      var typing = typingIn(event.target);
      if (event.key === "/" && !typing) {
        var box = document.querySelector("[data-search-box]");
        if (box) { event.preventDefault(); box.focus(); box.select(); }
        return;
      }
      if (typing || event.altKey || event.ctrlKey || event.metaKey) { return; }
      var all = rows();
      var current = all.indexOf(document.activeElement);
      var inList = current >= 0;
      var key = keyOf(event);
      if (key === "j" || (key === "ArrowDown" && inList)) {
        event.preventDefault(); focusRow(all, current + 1);
      } else if (key === "k" || (key === "ArrowUp" && inList)) {
        event.preventDefault(); focusRow(all, current - 1);
      } else if (key === "Enter" && inList) {
        event.preventDefault(); window.location.assign(all[current].dataset.href);
      } else if ((key === "x" || key === " ") && inList) {
        event.preventDefault();
        var box2 = all[current].querySelector("[data-select]");
        if (box2 && !box2.disabled) { box2.checked = !box2.checked; box2.dispatchEvent(new Event("change", { bubbles: true })); }
      }
    });
  }

  var bulkReady = false;
  function initBulk(form) {
    var counter = form.querySelector("[data-selected-count]");
    var buttons = form.querySelectorAll("[data-bulk-action], [data-bulk-print]");
    var results = form.querySelector("[data-bulk-results]");
    var summary = form.querySelector("[data-bulk-summary]");
    var reason = form.querySelector("[name=reason]");
    var needsReason = form.querySelector("[data-needs-reason]");
    function chosen() {
      return Array.prototype.slice.call(document.querySelectorAll("[data-select]:checked")).map(function (box) {
        var row = box.closest("tr");
        return { id: row.dataset.orderId, version: row.dataset.version, row: row };
      });
    }
    function refresh() {
      var n = chosen().length;
      counter.textContent = counter.dataset.template.replace("{n}", n);
      Array.prototype.forEach.call(buttons, function (b) { b.disabled = n === 0; });
    }
    if (!bulkReady) {
      bulkReady = true;
      document.addEventListener("change", function (event) {
        if (event.target.matches("[data-select-all]")) {
          Array.prototype.forEach.call(document.querySelectorAll("[data-select]:not(:disabled)"), function (box) {
            box.checked = event.target.checked;
          });
        }
        if (event.target.matches("[data-select], [data-select-all]")) { refresh(); }
      });
    }
    function note(text, ok, link) {
      var li = document.createElement("li");
      li.className = ok ? "ok" : "refused";
      li.textContent = text;
      if (link) { li.appendChild(document.createTextNode(" ")); li.appendChild(link); }
      results.appendChild(li);
    }
    function explain(result) {
      var d = result.data || {};
      return (d.title || result.status) + (d.detail ? " (" + d.detail + ")" : "");
    }
    // "Done: 3 of 5. Refused: 2 - The resource changed since it was read (1); ..."
    function summarise(outcomes) {
      var ok = outcomes.filter(function (o) { return o.ok; }).length;
      var why = {};
      outcomes.forEach(function (o) { if (!o.ok) { why[o.title] = (why[o.title] || 0) + 1; } });
      var text = form.dataset.summary.replace("{ok}", ok).replace("{n}", outcomes.length);
      var refused = outcomes.length - ok;
      if (refused) {
        text += " " + form.dataset.refused.replace("{n}", refused) + ": " + Object.keys(why).map(function (t) {
          return t + " (" + why[t] + ")";
        }).join("; ");
      }
      summary.textContent = text;
      summary.className = "bulk-summary " + (refused ? "partly" : "all-done");
      summary.hidden = false;
    }
    function one(action, order) {
      var base = "/api/v1/orders/" + order.id;
      var why = reason ? reason.value.trim() : "";
      if (action === "confirm") { return api("POST", base + "/confirmation", {}, order.version); }
      if (action === "cancel") { return api("POST", base + "/cancellation", { reason: why }, order.version); }
      if (action === "hold") { return api("POST", base + "/holds", { type: "manual", reason: why }, order.version); }
      if (action === "release") {
        return api("GET", base).then(function (read) {
          if (!read.ok) { return read; }
          var holds = (read.data.holds || []).filter(function (h) { return h.state === "active"; });
          var version = read.data.version;
          var chain = Promise.resolve({ ok: true, status: 200, data: read.data });
          holds.forEach(function (h) {
            chain = chain.then(function (previous) {
              if (!previous.ok) { return previous; }
              return api("POST", base + "/holds/" + h.hold_no + "/release", {}, version).then(function (r) {
                if (r.ok) { version = r.data.version; }
                return r;
              });
            });
          });
          return chain;
        });
      }
      return Promise.resolve({ ok: false, status: 0, data: { title: action } });
    }
    Array.prototype.forEach.call(form.querySelectorAll("[data-bulk-action]"), function (button) {
      button.addEventListener("click", function () {
        var action = button.dataset.bulkAction;
        var orders = chosen();
        if ((action === "cancel" || action === "hold") && !reason.value.trim()) {
          needsReason.hidden = false; reason.setAttribute("aria-invalid", "true"); reason.focus(); signalWrong();
          return;
        }
        needsReason.hidden = true; reason.removeAttribute("aria-invalid");
        results.innerHTML = "";
        summary.hidden = true;
        form.setAttribute("aria-busy", "true");
        var outcomes = [];
        var chain = Promise.resolve();
        orders.forEach(function (order) {
          chain = chain.then(function () {
            return one(action, order).then(function (result) {
              var d = result.data || {};
              outcomes.push({ ok: result.ok, title: d.title || String(result.status) });
              note("#" + order.id + ": " + (result.ok ? form.dataset.done : form.dataset.failed + " - " + explain(result)), result.ok);
              if (result.ok && result.data && result.data.status) {
                order.row.dataset.version = result.data.version;
                var chip = order.row.querySelector("[data-status]");
                if (chip) { chip.className = "status s-" + result.data.status; chip.textContent = statusName(result.data.status); }
              }
            });
          });
        });
        chain.then(function () {
          form.removeAttribute("aria-busy");
          summarise(outcomes);
          if (outcomes.some(function (o) { return !o.ok; })) { signalWrong(); }
        });
      });
    });
    var print = form.querySelector("[data-bulk-print]");
    if (print) {
      print.addEventListener("click", function () {
        var choice = form.querySelector("[name=paper]").value.split(":");
        var path = { pick_list: "pick-lists", packing_slip: "packing-slips", labels: "labels" }[choice[0]];
        var body = { order_ids: chosen().map(function (o) { return Number(o.id); }) };
        if (choice[1]) { body.size = choice[1]; }
        results.innerHTML = "";
        summary.hidden = true;
        form.setAttribute("aria-busy", "true");
        print.disabled = true;
        var headers = { "Accept": "application/pdf, application/problem+json", "Accept-Language": lang, "Content-Type": "application/json" };
        var csrf = cookie("potok_csrf");
        if (csrf) { headers["X-CSRF-Token"] = csrf; }
        fetch("/api/v1/papers/" + path, { method: "POST", headers: headers, body: JSON.stringify(body), credentials: "same-origin" })
          .then(function (response) {
            var left = [];
            var header = response.headers.get("Potok-Left-Out");
            if (header) { try { left = JSON.parse(decodeURIComponent(header)); } catch (e) { left = []; } }
            if (response.ok) {
              return response.blob().then(function (blob) {
                var url = URL.createObjectURL(blob);
                var link = document.createElement("a");
                link.href = url; link.target = "_blank"; link.rel = "noopener"; link.dataset.bundle = "";
                link.textContent = form.dataset.open;
                var printed = response.headers.get("Potok-Printed") || "";
                note(form.dataset.printed.replace("{n}", printed), true, link);
                return left;
              });
            }
            return response.json().then(function (problem) {
              note((problem.title || response.status) + (problem.detail ? " (" + problem.detail + ")" : ""), false);
              signalWrong();
              return problem.left_out || [];
            }, function () { return left; });
          }, function () { note(lang === "ru" ? "Нет связи с сервером" : "The server cannot be reached", false); return []; })
          .then(function (left) {
            left.forEach(function (item) {
              note(form.dataset.leftOut + ": #" + item.order_id + (item.shipment ? " (" + item.shipment + ")" : "") + " - " + item.title + (item.detail ? " (" + item.detail + ")" : ""), false);
            });
            form.removeAttribute("aria-busy");
            print.disabled = chosen().length === 0;
          });
      });
    }
    refresh();
  }

  var statusNames = null;
  function statusName(code) {
    if (!statusNames) {
      statusNames = {};
      Array.prototype.forEach.call(document.querySelectorAll("input[name=status]"), function (box) {
        statusNames[box.value] = box.parentElement.textContent.trim();
      });
    }
    return statusNames[code] || code;
  }

  function initViews(list) {
    var key = "potok.views";
    function load() { try { return JSON.parse(localStorage.getItem(key) || "[]"); } catch (e) { return []; } }
    function draw() {
      var views = load();
      list.innerHTML = "";
      if (!views.length) {
        var none = document.createElement("li"); none.className = "muted"; none.textContent = list.dataset.empty;
        list.appendChild(none);
      }
      views.forEach(function (view, index) {
        var li = document.createElement("li");
        var a = document.createElement("a");
        a.href = "/orders?" + view.query; a.textContent = view.name;
        var remove = document.createElement("button");
        remove.type = "button"; remove.className = "link small"; remove.textContent = "×";
        remove.setAttribute("aria-label", list.dataset.remove + ": " + view.name);
        remove.addEventListener("click", function () {
          var all = load(); all.splice(index, 1); localStorage.setItem(key, JSON.stringify(all)); draw();
        });
        li.appendChild(a); li.appendChild(remove); list.appendChild(li);
      });
    }
    var form = document.querySelector("[data-save-view]");
    if (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var name = form.elements.name.value.trim();
        if (!name) { return; }
        var query = window.location.search.replace(/^\?/, "").split("&").filter(function (p) {
          return p && p.indexOf("cursor=") !== 0;
        }).join("&");
        var views = load().filter(function (v) { return v.name !== name; });
        views.push({ name: name, query: query });
        localStorage.setItem(key, JSON.stringify(views));
        form.reset();
        draw();
      });
    }
    draw();
  }

  // ------------------------------------------------------------------ live updates

  // /live tells the page what changed (a topic and which one: {topic: "order", id: "42"});
  // the page reads itself again from the server, so what it shows is always what the server
  // renders for this reader. Bursts are gathered: one read at a time, and one more after it.
  var jobs = {};
  function schedule(name, work) {
    var job = jobs[name] || (jobs[name] = { busy: false, again: false });
    if (job.busy) { job.again = true; return; }
    job.busy = true;
    function run() {
      job.again = false;
      var finish = function () {
        if (job.again) { setTimeout(run, 700); } else { job.busy = false; }
      };
      work().then(finish, finish);
    }
    setTimeout(run, 250);
  }

  function watches(el, change) {
    if (change.topic === "*") { return true; }
    return el.dataset.liveReload.split(",").some(function (w) {
      var parts = w.split(":");
      return parts[0] === change.topic && (parts.length === 1 || parts[1] === String(change.id));
    });
  }

  var changedOrders = {};
  function initLive() {
    var body = document.body;
    var dot = document.querySelector("[data-live-state]");
    if (!window.EventSource || body.dataset.live === undefined) { return; }
    var after = body.dataset.liveAfter;
    var source = new EventSource("/live" + (after ? "?after=" + encodeURIComponent(after) : ""));
    source.addEventListener("open", function () {
      if (dot) { dot.classList.add("on"); }
      body.dataset.liveOn = "";
    });
    source.addEventListener("error", function () {
      if (dot) { dot.classList.remove("on"); }
      delete body.dataset.liveOn;
    });
    source.addEventListener("change", function (message) {
      var change;
      try { change = JSON.parse(message.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("potok:change", { detail: change }));
      if (change.topic === "order") { changedOrders[String(change.id)] = change.status || changedOrders[String(change.id)] || true; }
      if (document.querySelector("[data-live-list]") && (change.topic === "order" || change.topic === "*")) {
        schedule("list", mergeList);
      }
      var hit = Array.prototype.some.call(document.querySelectorAll("[data-live-reload]"), function (el) {
        return watches(el, change);
      });
      if (hit) { schedule("main", refreshMain); }
    });
  }

  function readAgain() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) { return new DOMParser().parseFromString(html, "text/html"); });
  }

  // whether a form that sends to the API holds something the reader typed or chose
  function typedInto(root) {
    var fields = root.querySelectorAll("form[data-api] input, form[data-api] textarea, form[data-api] select");
    return Array.prototype.some.call(fields, function (el) {
      if (el.type === "hidden" || el.type === "submit" || el.type === "button") { return false; }
      if (el.type === "checkbox" || el.type === "radio") { return el.checked !== el.defaultChecked; }
      if (el.tagName === "SELECT") {
        var first = Array.prototype.findIndex.call(el.options, function (o) { return o.defaultSelected; });
        return el.multiple ? false : el.selectedIndex !== Math.max(first, 0);
      }
      return el.value !== el.defaultValue;
    });
  }

  // the page's main part is read again and swapped in, unless the reader is busy with a
  // form in it (then a notice asks them to reload when they are ready: nothing typed is lost)
  function refreshMain() {
    var active = document.activeElement;
    var mine = document.getElementById("main");
    var typing = active && active.form && (active.value || "") !== "" && mine.contains(active);
    var busy = mine.querySelector("form [aria-invalid], form[aria-busy], details[open] form[data-api]");
    if (typing || busy || typedInto(mine)) {
      var stale = document.querySelector("[data-stale]");
      if (stale) { stale.hidden = false; }
      return Promise.resolve();
    }
    return readAgain().then(function (doc) {
      var main = doc.getElementById("main");
      if (!main) { return; }
      var focusId = document.activeElement && document.activeElement.id;
      mine.innerHTML = main.innerHTML;
      initPage();
      if (focusId && document.getElementById(focusId)) { document.getElementById(focusId).focus(); }
      document.dispatchEvent(new CustomEvent("potok:refreshed"));
    });
  }

  // the orders list keeps its place: rows that changed are redrawn where they are (their
  // selection kept, their version fresh for If-Match), rows that left the filter are
  // marked and can no longer be selected, and new rows wait behind a button
  var waiting = null;
  function mergeList() {
    return readAgain().then(function (doc) {
      var table = document.querySelector("[data-live-list]");
      var fresh = doc.querySelector("[data-live-list]");
      if (!table || !fresh) { return; }
      var freshRows = {};
      Array.prototype.forEach.call(fresh.querySelectorAll("tbody tr[data-order-id]"), function (row) {
        freshRows[row.dataset.orderId] = row;
      });
      var shown = {};
      Array.prototype.forEach.call(table.querySelectorAll("tbody tr[data-order-id]"), function (row) {
        var id = row.dataset.orderId;
        shown[id] = true;
        var next = freshRows[id];
        if (!next) {
          if (changedOrders[id] && !row.classList.contains("gone")) {
            row.classList.add("gone");
            var box = row.querySelector("[data-select]");
            if (box) { box.checked = false; box.disabled = true; box.dispatchEvent(new Event("change", { bubbles: true })); }
            var cell = row.querySelector("[data-status]");
            var now = changedOrders[id];
            if (cell && typeof now === "string") { cell.className = "status s-" + now; cell.textContent = statusName(now); }
            if (cell) {
              var note = document.createElement("small");
              note.className = "gone-note";
              note.textContent = table.dataset.gone;
              cell.insertAdjacentElement("afterend", note);
            }
          }
          return;
        }
        if (next.dataset.version !== row.dataset.version) {
          var old = row.querySelector("[data-select]");
          var checked = old && old.checked;
          row.innerHTML = next.innerHTML;
          row.dataset.version = next.dataset.version;
          var box2 = row.querySelector("[data-select]");
          if (box2) { box2.checked = !!checked; }
          row.classList.remove("gone");
          row.classList.add("changed");
          setTimeout(function () { row.classList.remove("changed"); }, 4000);
        }
      });
      var news = Object.keys(freshRows).filter(function (id) { return !shown[id]; });
      var banner = document.querySelector("[data-live-new]");
      if (banner && news.length) {
        waiting = fresh.querySelector("tbody");
        var text = banner.querySelector("[data-live-new-text]");
        text.textContent = text.dataset.template.replace("{n}", news.length);
        banner.hidden = false;
      }
      document.dispatchEvent(new CustomEvent("potok:refreshed"));
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-live-show]");
    if (!button || !waiting) { return; }
    var table = document.querySelector("[data-live-list]");
    var chosen = {};
    Array.prototype.forEach.call(table.querySelectorAll("[data-select]:checked"), function (box) {
      chosen[box.closest("tr").dataset.orderId] = true;
    });
    table.querySelector("tbody").replaceWith(waiting);
    Array.prototype.forEach.call(waiting.querySelectorAll("tr[data-order-id]"), function (row) {
      var box = row.querySelector("[data-select]");
      if (box && chosen[row.dataset.orderId]) { box.checked = true; }
      row.tabIndex = -1;
    });
    waiting = null;
    document.querySelector("[data-live-new]").hidden = true;
    var first = table.querySelector("[data-select]");
    if (first) { first.dispatchEvent(new Event("change", { bubbles: true })); }  // the count
  });

  // ------------------------------------------------------------------ keyboard shortcuts

  // A letter typed on another layout (Russian: "с" for c) counts as the key it sits on.
  function keyOf(event) {
    var key = event.key || "";
    if (key.length === 1 && !/[a-z]/i.test(key) && /^Key[A-Z]$/.test(event.code || "")) {
      var letter = event.code.slice(3);
      return event.shiftKey ? letter : letter.toLowerCase();
    }
    return key;
  }

  function typingIn(el) {
    var tag = (el && el.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || !!(el && el.isContentEditable);
  }

  function keysDialog() { return document.getElementById("keys"); }
  function keysOpen() { var d = keysDialog(); return !!(d && d.open); }

  // what the page offers by key: elements marked data-shortcut that can be reached now
  function shortcutTargets() {
    return Array.prototype.filter.call(document.querySelectorAll("#main [data-shortcut]"), function (el) {
      return !el.disabled && el.getClientRects().length > 0;
    });
  }

  function shortcutName(el) {
    if (el.dataset.shortcutLabel) { return el.dataset.shortcutLabel; }
    if (el.labels && el.labels.length) { return el.labels[0].textContent.trim(); }
    return (el.getAttribute("aria-label") || el.textContent || "").replace(/\s+/g, " ").trim();
  }

  // a button is pressed, a <summary> opens its form with the cursor in its first field,
  // a field takes the cursor, a link is followed
  function activate(el) {
    if (el.tagName === "SUMMARY") {
      var details = el.parentElement;
      details.open = true;
      var first = details.querySelector("input:not([type=hidden]), select, textarea");
      (first || el).focus();
    } else if (typingIn(el)) {
      el.focus();
    } else {
      el.click();
    }
  }

  function keyCaps(key) {
    var caps = /^[A-Z]$/.test(key) ? ["Shift", key.toLowerCase()] : [key];
    var dt = document.createElement("dt");
    caps.forEach(function (cap, i) {
      if (i) { dt.appendChild(document.createTextNode(" + ")); }
      var kbd = document.createElement("kbd");
      kbd.textContent = cap;
      dt.appendChild(kbd);
    });
    return dt;
  }

  var keysReturnTo = null;
  function showKeys() {
    var dialog = keysDialog();
    if (!dialog || dialog.open) { return; }
    var list = dialog.querySelector("[data-keys-page]");
    list.innerHTML = "";
    var seen = {};
    shortcutTargets().forEach(function (el) {
      var key = el.dataset.shortcut;
      if (seen[key]) { return; }
      seen[key] = true;
      var dd = document.createElement("dd");
      dd.textContent = shortcutName(el);
      list.appendChild(keyCaps(key));
      list.appendChild(dd);
    });
    if (!list.children.length) {
      var none = document.createElement("dd");
      none.className = "muted";
      none.textContent = list.dataset.none;
      list.appendChild(none);
    }
    keysReturnTo = document.activeElement;
    dialog.showModal();
    dialog.querySelector("[data-keys-close]").focus();
  }

  document.addEventListener("close", function (event) {
    if (event.target === keysDialog() && keysReturnTo && keysReturnTo.focus) { keysReturnTo.focus(); }
  }, true);

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-keys-open]")) { showKeys(); }
  });

  // the list an order card was opened from, so j and k on the card go through it
  function rememberList() {
    var table = document.querySelector("[data-keyboard-list]");
    if (!table) { return; }
    var hrefs = Array.prototype.map.call(table.querySelectorAll("tbody tr[data-href]"), function (row) {
      return row.dataset.href;
    });
    try {
      sessionStorage.setItem("potok.list", JSON.stringify({ url: location.pathname + location.search, hrefs: hrefs }));
    } catch (e) { /* private mode: no list to follow */ }
  }

  function rememberedList() {
    try { return JSON.parse(sessionStorage.getItem("potok.list") || "null"); } catch (e) { return null; }
  }

  var goPending = 0;
  var SECTIONS = { d: "/", o: "/orders", r: "/returns", s: "/stock" };
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typingIn(event.target) || keysOpen() || !document.querySelector("header.top")) { return; }
    var key = keyOf(event);
    if (key === "?") { event.preventDefault(); showKeys(); return; }
    if (goPending && Date.now() - goPending < 1500 && SECTIONS[key]) {
      goPending = 0;
      event.preventDefault();
      window.location.assign(SECTIONS[key]);
      return;
    }
    goPending = key === "g" ? Date.now() : 0;
    if (key === "g") { return; }
    var target = shortcutTargets().find(function (el) { return el.dataset.shortcut === key; });
    if (target) { event.preventDefault(); activate(target); return; }
    if (document.querySelector("[data-keyboard-list]")) { return; }  // the list has its own keys
    var list = rememberedList();
    if (!list || (key !== "j" && key !== "k" && key !== "u")) { return; }
    var at = list.hrefs.indexOf(location.pathname);
    if (key === "u") { event.preventDefault(); window.location.assign(list.url); return; }
    if (at < 0) { return; }
    var next = list.hrefs[at + (key === "j" ? 1 : -1)];
    if (next) { event.preventDefault(); window.location.assign(next); }
  });

  // ------------------------------------------------------------------ start

  function initPage() {
    var table = document.querySelector("[data-keyboard-list]");
    if (table) { initList(table); }
    var bulk = document.querySelector("[data-bulk]");
    if (bulk) { initBulk(bulk); }
    var views = document.querySelector("[data-saved-views]");
    if (views) { initViews(views); }
    if (window.potokScan) { window.potokScan(); }
    rememberList();
  }

  document.addEventListener("DOMContentLoaded", function () {
    initPage();
    initLive();
    if (document.body.dataset.autoprint !== undefined) { window.print(); }
  });
})();
