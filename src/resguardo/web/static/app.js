// Resguardo web interface: small behaviours, no inline scripts (the CSP forbids them).
// Every page works without this file; it only adds keyboard comfort.
(function () {
  "use strict";

  function focusFirst(root) {
    var el = (root || document).querySelector("[autofocus]");
    if (el && typeof el.focus === "function") {
      el.focus();
      if (el.select && el.value) { el.select(); }
    }
  }

  // Escape leaves the current step (the page names where with data-escape).
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") { return; }
    var target = document.querySelector("[data-escape]");
    if (target) {
      event.preventDefault();
      window.location.assign(target.getAttribute("data-escape"));
    }
  });

  // Ask before irreversible actions: <form data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    // A wedge scanner may send Enter twice; one submission is enough.
    if (form.hasAttribute && form.hasAttribute("data-once")) {
      if (form.dataset.sent === "1") { event.preventDefault(); return; }
      form.dataset.sent = "1";
    }
  }, true);

  // Long requests (a spreadsheet read whole): <form data-busy="what the page is doing">.
  // The page says it is working and its buttons wait, so a second click cannot send the
  // same file twice. A button marked data-download leaves the page where it is.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-busy")) { return; }
    if (event.submitter && event.submitter.hasAttribute("data-download")) { return; }
    form.setAttribute("aria-busy", "true");
    var note = form.querySelector("[data-busy-note]");
    if (note) { note.textContent = form.getAttribute("data-busy"); note.hidden = false; }
    // After the submission has taken the clicked button's name and value.
    window.setTimeout(function () { setButtons(form, true); }, 0);
  });

  // Forms that change part of a record (<form data-changes-only>) open filled with
  // what is recorded and send only the fields the person changed.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented || !form.hasAttribute || !form.hasAttribute("data-changes-only")) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("input[data-recorded]"), function (input) {
      input.disabled = input.value === input.getAttribute("data-recorded");
    });
  });

  function setButtons(form, disabled) {
    Array.prototype.forEach.call(form.querySelectorAll("button"), function (b) { b.disabled = disabled; });
  }

  // Back to a page the browser kept: its forms are no longer busy.
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("input[data-recorded]"), function (i) { i.disabled = false; });
    Array.prototype.forEach.call(document.querySelectorAll("form[aria-busy]"), function (form) {
      form.removeAttribute("aria-busy");
      setButtons(form, false);
      var note = form.querySelector("[data-busy-note]");
      if (note) { note.hidden = true; }
    });
  });

  // After htmx swaps a fragment in, put the cursor where the next scan goes.
  document.addEventListener("htmx:afterSettle", function () { focusFirst(document); });

  // A "choose every row" box (data-check-all="NAME") ticks the NAME boxes of its form.
  document.addEventListener("change", function (event) {
    var all = event.target.closest && event.target.closest("input[data-check-all]");
    if (!all || !all.form) return;
    var boxes = all.form.querySelectorAll('input[type=checkbox][name="' + all.dataset.checkAll + '"]');
    Array.prototype.forEach.call(boxes, function (box) { box.checked = all.checked; });
  });

  // Selects that filter a list submit their form when changed.
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-autosubmit]") && el.form) { el.form.requestSubmit(); }
  });

  // Planning a revista: only the chosen agency's locations are offered; a box of
  // another agency is unticked when it is hidden (the server refuses a mismatch too).
  function filterLocations(select) {
    var form = select.form;
    if (!form) { return; }
    Array.prototype.forEach.call(form.querySelectorAll("[data-agency-locations] [data-agency]"), function (label) {
      var other = label.getAttribute("data-agency") !== select.value;
      label.hidden = other;
      if (other) { label.querySelector("input").checked = false; }
    });
  }
  document.addEventListener("change", function (event) {
    var el = event.target;
    if (el.matches && el.matches("select[data-filters-locations]")) { filterLocations(el); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    Array.prototype.forEach.call(document.querySelectorAll("select[data-filters-locations]"), filterLocations);
  });

  // Inspection scanning with the phone's camera, where the browser has BarcodeDetector.
  // Typed or wedge input works everywhere; the camera only fills the same field.
  var camera = { stream: null, detector: null, last: "", lastAt: 0, timer: null };

  function cameraElements() {
    return {
      button: document.getElementById("camera-start"),
      video: document.getElementById("camera-view"),
      serial: document.getElementById("scan-serial"),
      source: document.getElementById("scan-source"),
      form: document.getElementById("scan-form")
    };
  }

  function attachCamera() {
    var el = cameraElements();
    if (!el.button) { return; }
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) { return; }
    // Some browsers have the API but read no format: keep typed and wedge input only.
    window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      if (!formats.length) { return; }
      if (camera.stream && el.video) {
        el.video.srcObject = camera.stream;
        el.video.hidden = false;
        el.video.play();
        return;
      }
      el.button.hidden = false;
      el.button.addEventListener("click", startCamera);
    });
  }

  function startCamera() {
    var formats = ["qr_code", "code_128", "code_39", "data_matrix", "pdf417"];
    window.BarcodeDetector.getSupportedFormats().then(function (supported) {
      camera.detector = new window.BarcodeDetector({
        formats: formats.filter(function (f) { return supported.indexOf(f) >= 0; })
      });
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (stream) {
      camera.stream = stream;
      attachCamera();
      if (!camera.timer) { camera.timer = window.setInterval(detect, 300); }
    }).catch(function () {
      var el = cameraElements();
      if (el.button) { el.button.disabled = true; }
    });
  }

  function detect() {
    var el = cameraElements();
    if (!camera.detector || !el.video || el.video.readyState < 2) { return; }
    camera.detector.detect(el.video).then(function (codes) {
      if (!codes.length) { return; }
      var value = (codes[0].rawValue || "").trim();
      var now = Date.now();
      if (!value || (value === camera.last && now - camera.lastAt < 4000)) { return; }
      camera.last = value;
      camera.lastAt = now;
      el.serial.value = value;
      if (el.source) { el.source.value = "camera"; }
      if (navigator.vibrate) { navigator.vibrate(80); }
      el.form.requestSubmit();
    }).catch(function () { /* a frame that cannot be read: try the next one */ });
  }

  document.addEventListener("DOMContentLoaded", attachCamera);
  document.addEventListener("htmx:afterSettle", attachCamera);
})();
