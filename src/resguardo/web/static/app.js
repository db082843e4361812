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

  // The browser honours autofocus only at its next rendering step, which may come after
  // the page has loaded: a scan read in that moment would lose its first characters.
  // Deferred scripts run before the load event, so the cursor is in place by then.
  focusFirst(document);

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

  // After htmx swaps a fragment in, put the cursor where the next scan goes, unless the
  // person has already chosen a field of the new page (settling ends a moment after the
  // swap: a PIN typed into the field just clicked must not land in another one).
  document.addEventListener("htmx:afterSettle", function () {
    var active = document.activeElement;
    if (active && active !== document.body && active.isConnected &&
        /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName)) { return; }
    focusFirst(document);
  });

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

  // Scanning with the camera (a phone's or the desk's webcam): the shift desk's badge and
  // serial, an inspection's count. ZXing (the npm packages @zxing/browser and
  // @zxing/library, served from node_modules, loaded on the first use) reads QR codes and
  // barcodes in every current browser, iPhones included. The camera only fills the
  // same field typed or wedge input fills. A camera that cannot be used says why, in
  // the page's language (the messages are in the page: data-msg-* on the box).
  //
  // The camera stays open from one scan to the next (the desk's badge then serial, an
  // inspection's count) and closes on a page without a camera box.
  //
  //   <div data-camera data-camera-target="INPUT-ID"
  //        data-msg-denied=... data-msg-missing=... data-msg-busy=... data-msg-insecure=...
  //        data-msg-failed=... data-msg-unavailable=...>
  //     <button type="button" data-camera-start hidden>...</button>
  //     <button type="button" data-camera-stop hidden>...</button>
  //     <video playsinline muted hidden></video>
  //     <p data-camera-message role="alert" hidden></p>
  //   </div>
  var camera = { stream: null, controls: null, reader: null, last: "", lastAt: 0, loading: null };

  function cameraBox() { return document.querySelector("[data-camera]"); }

  function cameraSay(box, key, detail) {
    var note = box && box.querySelector("[data-camera-message]");
    if (!note) { return; }
    note.textContent = (box.getAttribute("data-msg-" + key) || "") + (detail ? " (" + detail + ")" : "");
    note.hidden = false;
  }

  function loadZxing() {
    if (window.ZXingBrowser) { return Promise.resolve(window.ZXingBrowser); }
    if (camera.loading) { return camera.loading; }
    camera.loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = "/static/vendor/zxing-browser.min.js";
      script.onload = function () {
        if (window.ZXingBrowser) { resolve(window.ZXingBrowser); } else { reject(new Error("unavailable")); }
      };
      script.onerror = function () { camera.loading = null; reject(new Error("unavailable")); };
      document.head.appendChild(script);
    });
    return camera.loading;
  }

  function whyNot(error) {
    var name = error && error.name;
    if (name === "NotAllowedError" || name === "SecurityError" || name === "PermissionDeniedError") { return "denied"; }
    if (name === "NotFoundError" || name === "OverconstrainedError" || name === "DevicesNotFoundError") { return "missing"; }
    if (name === "NotReadableError" || name === "AbortError" || name === "TrackStartError") { return "busy"; }
    if (error && error.message === "unavailable") { return "unavailable"; }
    return "failed";
  }

  function stopCamera() {
    if (camera.controls) { try { camera.controls.stop(); } catch (e) { /* already stopped */ } }
    camera.controls = null;
    if (camera.stream) { camera.stream.getTracks().forEach(function (t) { t.stop(); }); }
    camera.stream = null;
    var box = cameraBox();
    if (box) { showCameraState(box, false); }
  }

  function showCameraState(box, on) {
    var start = box.querySelector("[data-camera-start]");
    var stop = box.querySelector("[data-camera-stop]");
    var video = box.querySelector("video");
    if (start) { start.hidden = on; }
    if (stop) { stop.hidden = !on; }
    if (video) { video.hidden = !on; }
  }

  function read(box, value) {
    var input = document.getElementById(box.getAttribute("data-camera-target"));
    var now = Date.now();
    value = (value || "").trim();
    if (!input || !value || (value === camera.last && now - camera.lastAt < 4000)) { return; }
    camera.last = value;
    camera.lastAt = now;
    input.value = value;
    var source = document.getElementById("scan-source");
    if (source) { source.value = "camera"; }
    if (navigator.vibrate) { navigator.vibrate(80); }
    if (camera.controls) { camera.controls.stop(); camera.controls = null; }  // one read, one submission
    if (input.form) { input.form.requestSubmit(); }
  }

  // Decode the open stream in the box's video (again after htmx swaps a new box in).
  function decodeInto(box) {
    var video = box.querySelector("video");
    if (!camera.stream || !video) { return; }
    video.srcObject = camera.stream;
    showCameraState(box, true);
    camera.reader.decodeFromVideoElement(video, function (result) {
      if (result) { read(box, result.getText()); }
    }).then(function (controls) {
      camera.controls = controls;
    }).catch(function (error) { cameraSay(box, whyNot(error), error && error.name); stopCamera(); });
  }

  function startCamera(box) {
    var note = box.querySelector("[data-camera-message]");
    if (note) { note.hidden = true; }
    if (!window.isSecureContext || !navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      cameraSay(box, "insecure");
      return;
    }
    loadZxing().then(function (ZX) {
      camera.reader = camera.reader || new ZX.BrowserMultiFormatReader();
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false });
    }).then(function (stream) {
      camera.stream = stream;
      decodeInto(cameraBox() || box);
    }).catch(function (error) {
      cameraSay(box, whyNot(error), error && error.name);
      stopCamera();
    });
  }

  function attachCamera() {
    var box = cameraBox();
    if (!box) { stopCamera(); return; }
    if (camera.stream) { decodeInto(box); return; }  // the next scan, camera already open
    showCameraState(box, false);
  }

  document.addEventListener("click", function (event) {
    var start = event.target.closest && event.target.closest("[data-camera-start]");
    var stop = event.target.closest && event.target.closest("[data-camera-stop]");
    if (start) { startCamera(start.closest("[data-camera]")); }
    if (stop) { stopCamera(); }
  });
  // htmx replaces the box (and its video): stop decoding the old one, keep the stream.
  document.addEventListener("htmx:beforeSwap", function () {
    if (camera.controls) { try { camera.controls.stop(); } catch (e) { /* gone */ } }
    camera.controls = null;
  });
  document.addEventListener("DOMContentLoaded", attachCamera);
  document.addEventListener("htmx:afterSettle", attachCamera);
})();
