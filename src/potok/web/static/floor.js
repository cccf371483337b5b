/* Potok warehouse screens: picking by scans, shortages, packing with marking codes.
 *
 * A keyboard-wedge scanner types into the focused scan field and presses Enter; the phone's
 * camera reads barcodes through the browser's BarcodeDetector where there is one. At a bin the
 * first scan is the bin's label (checked here against the bin the page names), then the
 * product, which goes to the API with the bin; a wrong scan sounds and vibrates
 * (potokWrong in console.js) and says what was expected, in the problem document's words.
 * After every accepted scan the page is read again, so the next bin shows.
 */
(function () {
  "use strict";

  var builders = window.potokBuilders = window.potokBuilders || {};
  var binConfirmed = null;  // the bin whose label was scanned last
  var entries = [];         // the scan log, kept across the page's refreshes
  var scans = 0;
  var lastCode = "";        // the code sent with the scan under way

  function fill(template, values) {
    return String(template || "").replace(/\{(\w+)\}/g, function (_, key) {
      return values && values[key] !== undefined ? values[key] : "";
    });
  }

  function note(text, kind) {
    entries.unshift({ text: text, kind: kind });
    entries = entries.slice(0, 8);
    drawLog();
  }

  function drawLog() {
    var list = document.querySelector("[data-scan-log]");
    if (!list) { return; }
    list.innerHTML = "";
    entries.forEach(function (entry) {
      var li = document.createElement("li");
      li.className = entry.kind;
      li.textContent = entry.text;
      list.appendChild(li);
    });
  }

  function scanInput() { return document.querySelector("[data-scan-input]"); }

  function focusScan() {
    var input = scanInput();
    if (input) { input.value = ""; input.focus(); }
  }

  function showStep(form) {
    var target = document.querySelector("[data-target]");
    var step = form.querySelector("[data-scan-step]");
    if (!target || !step) { return; }
    var bin = target.dataset.bin;
    step.textContent = bin && binConfirmed !== bin ? form.dataset.sayBin : form.dataset.sayProduct;
  }

  // the scan form: a bin label is checked here, a product goes to the API with the bin
  builders.scan = function (form, body) {
    var input = scanInput();
    var code = (input.value || "").trim();
    var target = document.querySelector("[data-target]");
    var bin = target ? target.dataset.bin : "";
    if (!code) { return null; }
    if (bin && binConfirmed !== bin) {
      input.value = "";
      if (code.toUpperCase() === bin.toUpperCase()) {
        binConfirmed = bin;
        note(form.dataset.sayBinOk, "good");
      } else {
        note(fill(form.dataset.sayWrongBin, { scanned: code }), "bad");
        window.potokWrong();
      }
      showStep(form);
      input.focus();
      return null;
    }
    body.code = lastCode = code;
    if (bin) { body.bin = bin; }
    return body;
  };

  // one tap: every unit still to take from this bin is reported missing, shipment by shipment
  builders.shortage = function (form, body) {
    var shortfalls = JSON.parse(form.dataset.shortfalls || "[]");
    var chain = Promise.resolve({ ok: true, status: 200, data: null });
    shortfalls.forEach(function (s) {
      chain = chain.then(function (previous) {
        if (!previous.ok) { return previous; }
        var report = { sku: s.sku, missing: s.missing };
        if (s.lot) { report.lot = s.lot; }
        if (body.note) { report.note = body.note; }
        return window.potokApi("POST", "/api/v1/shipments/" + s.shipment + "/shortages", report);
      });
    });
    return chain;
  };

  // a parcel: the units of each item put into it and, per unit, the codes its product needs
  builders.parcel = function (form, body) {
    var items = [];
    var keys = { marking: "marking_codes", imei: "imei", uin: "uin" };
    Array.prototype.forEach.call(form.querySelectorAll("[data-pack-item]"), function (set) {
      var quantity = Number(set.querySelector("[data-pack-quantity]").value);
      if (!quantity) { return; }
      var item = { item_no: Number(set.dataset.packItem), quantity: quantity };
      Array.prototype.forEach.call(set.querySelectorAll("[data-code-kind]"), function (input) {
        if (Number(input.dataset.unit) >= quantity || !input.value) { return; }
        var key = keys[input.dataset.codeKind];
        (item[key] = item[key] || []).push(input.value);
      });
      items.push(item);
    });
    body.items = items;
    return body;
  };

  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (fresh && main) { main.innerHTML = fresh.innerHTML; }
        init();
      });
  }

  document.addEventListener("potok:done", function (event) {
    var form = event.target;
    if (!form.matches("[data-scan-form]")) { return; }
    var answer = event.detail.data || {};
    (answer.takes || []).forEach(function (take) {
      note(fill(form.dataset.sayPut, { n: take.quantity, slot: take.slot }), "good");
    });
    refresh().then(function () {
      scans += 1;
      document.body.dataset.scans = String(scans);
    });
  });

  document.addEventListener("potok:refused", function (event) {
    var form = event.target;
    if (!form.matches("[data-scan-form]")) { return; }
    var problem = event.detail.data || {};
    note((problem.title || "") + " · " + lastCode, "bad");
    focusScan();
  });

  // a scanner ends each code with Enter: in the parcel's code fields it moves to the next one
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches || !event.target.matches("[data-scan-next]")) { return; }
    event.preventDefault();
    var all = Array.prototype.slice.call(document.querySelectorAll("[data-scan-next], #parcel-weight"));
    var next = all[all.indexOf(event.target) + 1];
    if (next) { next.focus(); }
  });

  // the phone's camera, where the browser can read barcodes
  function initCamera(form) {
    var button = form.querySelector("[data-camera]");
    var video = document.querySelector("[data-camera-view]");
    if (!button || !video || !("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var detector = new window.BarcodeDetector();
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (stream) {
        video.srcObject = stream;
        video.hidden = false;
        video.play();
        function stop() {
          stream.getTracks().forEach(function (t) { t.stop(); });
          video.hidden = true;
        }
        function look() {
          if (video.hidden) { return; }
          detector.detect(video).then(function (codes) {
            if (codes.length) {
              stop();
              scanInput().value = codes[0].rawValue;
              form.requestSubmit();
            } else {
              window.requestAnimationFrame(look);
            }
          }, stop);
        }
        look();
      }, function () { window.potokWrong(); });
    });
  }

  function init() {
    var form = document.querySelector("[data-scan-form]");
    drawLog();
    if (!form) { return; }
    showStep(form);
    initCamera(form);
    focusScan();
  }

  window.potokScan = init;
})();
