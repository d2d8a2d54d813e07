// The model/resource version upload page (guide 4.4): version metadata, custom metrics tables, and
// files or whole folders sent through the NGC multipart protocol (docs/model-transfers.md):
// create version -> dedup check -> start (partSize) -> PUT parts to signed URLs -> complete ->
// commit -> PATCH UPLOAD_COMPLETE -> poll until the worker has verified the version.
// SHA-256 comes from crypto.subtle.digest, which reads a file whole: files over data-max-file are
// refused with a message (the ngc CLI uploads those).
(function () {
  "use strict";

  var form = document.getElementById("upload-form");
  if (!form) return;

  var apiSpace = form.dataset.apiSpace;
  var kind = form.dataset.kind;
  var name = form.dataset.name;
  var partSize = parseInt(form.dataset.partSize, 10);
  var maxFile = parseInt(form.dataset.maxFile, 10);
  var maxTables = parseInt(form.dataset.maxTables, 10);
  var maxAttributes = parseInt(form.dataset.maxAttributes, 10);
  var TRIES = 3;

  var entries = [];          // {path, file, row, bar, note, sent}
  var busy = false;

  var statusLine = document.getElementById("upload-status");
  var overall = document.getElementById("overall-progress");
  var fileTable = document.getElementById("file-table");
  var fileError = document.getElementById("file-error");
  var button = document.getElementById("upload-button");

  function setStatus(text, state) {
    statusLine.textContent = text;
    statusLine.dataset.state = state || "working";
  }

  function csrfToken() {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : (input ? input.value : "");
  }

  function api(method, path, body) {
    var options = {
      method: method, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}
    };
    if (body !== undefined) {
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(path, options).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        return {status: response.status, data: data};
      });
    });
  }

  function message(reply) {
    var data = reply.data || {};
    var status = data.requestStatus || {};
    return status.statusDescription || data.detail || data.message || ("HTTP " + reply.status);
  }

  function humanSize(bytes) {
    var units = ["bytes", "KB", "MB", "GB", "TB"];
    var value = bytes, unit = 0;
    while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
    return (unit ? value.toFixed(1) : value) + " " + units[unit];
  }

  // --- custom metrics tables ----------------------------------------------------------------

  var tables = document.getElementById("metrics-tables");
  var addTable = document.getElementById("add-table");
  var tableLimit = document.getElementById("metrics-limit");
  var tableCount = 0;

  function syncTableButton() {
    var count = tables.querySelectorAll(".metrics-table").length;
    addTable.disabled = count >= maxTables;
    tableLimit.hidden = count < maxTables;
  }

  function addRow(table) {
    var body = table.querySelector("tbody");
    var count = body.querySelectorAll("tr").length;
    if (count >= maxAttributes) return;
    var number = count + 1;
    var tableNumber = table.dataset.number;
    var row = document.createElement("tr");
    row.innerHTML =
      '<td><input class="metric-key" maxlength="256" aria-label="Table ' + tableNumber + ' key ' + number + '"></td>' +
      '<td><input class="metric-value" maxlength="256" aria-label="Table ' + tableNumber + ' value ' + number + '"></td>';
    body.appendChild(row);
    var full = body.querySelectorAll("tr").length >= maxAttributes;
    table.querySelector(".add-row").disabled = full;
    table.querySelector(".row-limit").hidden = !full;
  }

  addTable.addEventListener("click", function () {
    if (tables.querySelectorAll(".metrics-table").length >= maxTables) return;
    tableCount += 1;
    var table = document.createElement("fieldset");
    table.className = "metrics-table";
    table.dataset.number = String(tableCount);
    table.innerHTML =
      '<legend>Metrics table ' + tableCount + '</legend>' +
      '<div class="field"><label>Table name <input class="metric-table-name" maxlength="256" aria-label="Table ' + tableCount + ' name"></label></div>' +
      '<table class="table"><thead><tr><th scope="col">Key</th><th scope="col">Value</th></tr></thead><tbody></tbody></table>' +
      '<button type="button" class="button secondary small add-row">Add metric</button> ' +
      '<button type="button" class="button danger-outline small remove-table">Remove table</button>' +
      '<p class="help row-limit" hidden>A table holds at most ' + maxAttributes + ' key/value pairs.</p>';
    table.querySelector(".add-row").addEventListener("click", function () { addRow(table); });
    table.querySelector(".remove-table").addEventListener("click", function () { table.remove(); syncTableButton(); });
    tables.appendChild(table);
    addRow(table);
    syncTableButton();
  });

  function customMetrics() {
    var result = [];
    var problems = [];
    tables.querySelectorAll(".metrics-table").forEach(function (table, index) {
      var tableName = table.querySelector(".metric-table-name").value.trim();
      var attributes = [];
      table.querySelectorAll("tbody tr").forEach(function (row) {
        var key = row.querySelector(".metric-key").value.trim();
        var value = row.querySelector(".metric-value").value.trim();
        if (key || value) {
          if (!key) problems.push("Every metric in table " + (index + 1) + " needs a key.");
          attributes.push({key: key, value: value});
        }
      });
      if (!tableName && !attributes.length) return;  // an untouched table is ignored
      if (!tableName) problems.push("Metrics table " + (index + 1) + " needs a name.");
      if (attributes.length > maxAttributes) problems.push("At most " + maxAttributes + " metrics per table.");
      result.push({name: tableName, attributes: attributes});
    });
    if (result.length > maxTables) problems.push("At most " + maxTables + " metrics tables.");
    return {tables: result, problems: problems};
  }

  // --- picking files ------------------------------------------------------------------------

  function stripTop(path) {
    var slash = path.indexOf("/");
    return slash >= 0 ? path.slice(slash + 1) : path;
  }

  function addFiles(list) {
    if (busy) return;
    var byPath = {};
    entries.forEach(function (entry) { byPath[entry.path] = entry; });
    list.forEach(function (item) {
      if (byPath[item.path]) byPath[item.path].row.remove();
      byPath[item.path] = {path: item.path, file: item.file};
    });
    entries = Object.keys(byPath).sort().map(function (path) { return byPath[path]; });
    renderFiles();
  }

  function renderFiles() {
    var body = fileTable.querySelector("tbody");
    body.innerHTML = "";
    var tooBig = [];
    entries.forEach(function (entry, index) {
      var row = document.createElement("tr");
      row.dataset.path = entry.path;
      var big = entry.file.size > maxFile;
      if (big) tooBig.push(entry.path);
      var pathCell = document.createElement("td");
      var code = document.createElement("code");
      code.textContent = entry.path;
      pathCell.appendChild(code);
      var sizeCell = document.createElement("td");
      sizeCell.textContent = humanSize(entry.file.size);
      var progressCell = document.createElement("td");
      var bar = document.createElement("progress");
      bar.max = 100; bar.value = 0;
      bar.setAttribute("aria-label", "Progress of " + entry.path);
      var note = document.createElement("span");
      note.className = "small file-note";
      note.textContent = big ? " too large for the browser" : "";
      progressCell.appendChild(bar);
      progressCell.appendChild(note);
      var removeCell = document.createElement("td");
      var remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button secondary small";
      remove.textContent = "Remove";
      remove.setAttribute("aria-label", "Remove " + entry.path);
      remove.addEventListener("click", function () {
        if (busy) return;
        entries.splice(entries.indexOf(entry), 1);
        renderFiles();
      });
      removeCell.appendChild(remove);
      row.appendChild(pathCell); row.appendChild(sizeCell); row.appendChild(progressCell); row.appendChild(removeCell);
      body.appendChild(row);
      entry.row = row; entry.bar = bar; entry.note = note; entry.sent = 0;
    });
    fileTable.hidden = entries.length === 0;
    if (tooBig.length) {
      fileError.textContent = tooBig.length + " file(s) are larger than " + humanSize(maxFile) +
        ", the most this page can hash in the browser: " + tooBig.join(", ") +
        ". Remove them and upload them with the ngc CLI.";
      fileError.hidden = false;
    } else {
      fileError.hidden = true;
    }
  }

  document.getElementById("file-input").addEventListener("change", function (event) {
    addFiles(Array.prototype.map.call(event.target.files, function (file) { return {path: file.name, file: file}; }));
    event.target.value = "";
  });
  document.getElementById("folder-input").addEventListener("change", function (event) {
    addFiles(Array.prototype.map.call(event.target.files, function (file) {
      return {path: stripTop(file.webkitRelativePath || file.name), file: file};
    }));
    event.target.value = "";
  });

  // Dropped folders are walked with the entries API; a single dropped folder's contents go to the root.
  var dropzone = document.getElementById("dropzone");
  ["dragenter", "dragover"].forEach(function (type) {
    dropzone.addEventListener(type, function (event) { event.preventDefault(); dropzone.classList.add("dragging"); });
  });
  dropzone.addEventListener("dragleave", function () { dropzone.classList.remove("dragging"); });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    dropzone.classList.remove("dragging");
    var items = event.dataTransfer.items;
    var roots = [];
    if (items) {
      for (var i = 0; i < items.length; i++) {
        var entry = items[i].webkitGetAsEntry ? items[i].webkitGetAsEntry() : null;
        if (entry) roots.push(entry);
      }
    }
    if (!roots.length) {
      addFiles(Array.prototype.map.call(event.dataTransfer.files, function (file) { return {path: file.name, file: file}; }));
      return;
    }
    var single = roots.length === 1 && roots[0].isDirectory;
    Promise.all(roots.map(function (root) { return walk(root, ""); })).then(function (lists) {
      var found = [].concat.apply([], lists);
      addFiles(found.map(function (item) { return {path: single ? stripTop(item.path) : item.path, file: item.file}; }));
    });
  });

  function walk(entry, prefix) {
    var path = prefix + entry.name;
    if (entry.isFile) {
      return new Promise(function (resolve) {
        entry.file(function (file) { resolve([{path: path, file: file}]); }, function () { resolve([]); });
      });
    }
    var reader = entry.createReader();
    var children = [];
    return new Promise(function (resolve) {
      (function more() {
        reader.readEntries(function (batch) {
          if (!batch.length) {
            Promise.all(children.map(function (child) { return walk(child, path + "/"); })).then(function (lists) {
              resolve([].concat.apply([], lists));
            });
            return;
          }
          children = children.concat(Array.prototype.slice.call(batch));
          more();
        }, function () { resolve([]); });
      })();
    });
  }

  // --- the upload ---------------------------------------------------------------------------

  var totalBytes = 0;

  function showProgress() {
    var sent = 0;
    entries.forEach(function (entry) { sent += entry.sent; });
    overall.value = totalBytes ? Math.round((sent / totalBytes) * 100) : 100;
  }

  function setSent(entry, bytes) {
    entry.sent = bytes;
    entry.bar.value = entry.file.size ? Math.round((bytes / entry.file.size) * 100) : 100;
    showProgress();
  }

  function base64(buffer) {
    var bytes = new Uint8Array(buffer), text = "";
    for (var i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]);
    return btoa(text);
  }

  function sha256(entry) {
    entry.note.textContent = " hashing…";
    return entry.file.arrayBuffer().then(function (buffer) {
      return crypto.subtle.digest("SHA-256", buffer);
    }).then(function (digest) {
      entry.sha256 = base64(digest);
      entry.note.textContent = "";
    });
  }

  function putPart(url, blob, onProgress) {
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", url);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.upload.onprogress = function (event) { if (event.lengthComputable) onProgress(event.loaded); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) resolve();
        else reject(new Error("part upload answered HTTP " + xhr.status));
      };
      xhr.onerror = function () { reject(new Error("network error")); };
      xhr.send(blob);
    });
  }

  function putPartWithRetry(url, blob, onProgress, entry, number) {
    var attempt = 0;
    function go() {
      attempt += 1;
      return putPart(url, blob, onProgress).catch(function (error) {
        onProgress(0);
        if (attempt >= TRIES) throw new Error(entry.path + ": part " + number + " failed " + TRIES + " times (" + error.message + ")");
        entry.note.textContent = " retrying part " + number + "…";
        return new Promise(function (resolve) { setTimeout(resolve, 500 * attempt); }).then(go);
      });
    }
    return go();
  }

  function target(extra) {
    var body = {name: name, version: form.version.value.trim(), artifactType: kind};
    Object.keys(extra).forEach(function (key) { body[key] = extra[key]; });
    return body;
  }

  function uploadFile(entry) {
    entry.note.textContent = " uploading…";
    return api("POST", "/v2/" + apiSpace + "/files/multipart", target({
      filePath: entry.path, size: entry.file.size, sha256: entry.sha256, partSize: partSize
    })).then(function (reply) {
      if (reply.status !== 200) throw new Error(entry.path + ": " + message(reply));
      var urls = reply.data.urls, size = reply.data.partSize, uploadId = reply.data.uploadID;
      var done = 0;
      var chain = Promise.resolve();
      urls.forEach(function (url, index) {
        chain = chain.then(function () {
          var start = index * size;
          var blob = entry.file.slice(start, Math.min(start + size, entry.file.size));
          return putPartWithRetry(url, blob, function (loaded) { setSent(entry, done + loaded); }, entry, index + 1)
            .then(function () { done += blob.size; setSent(entry, done); });
        });
      });
      return chain.then(function () {
        return api("PUT", "/v2/" + apiSpace + "/files/multipart", target({
          filePath: entry.path, uploadID: uploadId, sha256: entry.sha256
        }));
      });
    }).then(function (reply) {
      // 400 means this upload was already completed (a retried click): the bytes are there.
      if (reply.status !== 200 && reply.status !== 400) throw new Error(entry.path + ": " + message(reply));
      setSent(entry, entry.file.size);
      entry.note.textContent = " uploaded";
    });
  }

  function versionBody(metrics) {
    var value = function (id) { return document.getElementById(id).value.trim(); };
    var body = {
      versionId: form.version.value.trim(), description: value("description"),
      accuracyReached: value("accuracy"), numberOfEpochs: value("epochs"), batchSize: value("batch-size"),
      gpuModel: value("gpu-model"), memoryFootprint: value("memory"), customMetrics: metrics
    };
    if (value("link")) body.otherContents = [{key: value("link-type"), value: value("link")}];
    return body;
  }

  function versionPath() {
    return "/v2/" + apiSpace + "/" + kind + "/" + encodeURIComponent(name) + "/versions/" +
      encodeURIComponent(form.version.value.trim());
  }

  function versionOf(reply) {
    var data = reply.data || {};
    return data.modelVersion || data.recipeVersion || {};
  }

  function createVersion(metrics) {
    var path = "/v2/" + apiSpace + "/" + kind + "/" + encodeURIComponent(name) + "/versions";
    return api("POST", path, versionBody(metrics)).then(function (reply) {
      if (reply.status === 200) return;
      if (reply.status === 409) {
        // It exists: carry on only if it is still waiting for files (an earlier try of this page).
        return api("GET", versionPath()).then(function (existing) {
          if (versionOf(existing).status === "UPLOAD_COMPLETE") {
            throw new Error("Version " + form.version.value.trim() + " already exists; choose another version.");
          }
          return api("PATCH", versionPath(), versionBody(metrics)).then(function (patched) {
            if (patched.status !== 200) throw new Error(message(patched));
          });
        });
      }
      throw new Error(message(reply));
    });
  }

  function dedup() {
    var distinct = {};
    entries.forEach(function (entry) { distinct[entry.sha256] = true; });
    var hashes = Object.keys(distinct), known = {};
    var chain = Promise.resolve();
    for (var i = 0; i < hashes.length; i += 100) {
      (function (batch) {
        chain = chain.then(function () {
          return api("POST", "/v2/" + apiSpace + "/" + kind + "/" + encodeURIComponent(name) + "/files?page-size=100", {
            files: batch.map(function (hash) { return {sha256: hash}; })
          }).then(function (reply) {
            if (reply.status !== 200) throw new Error(message(reply));
            (reply.data.files || []).forEach(function (item) { if (item.exists) known[item.sha256] = true; });
          });
        });
      })(hashes.slice(i, i + 100));
    }
    return chain.then(function () { return known; });
  }

  function poll(deadline) {
    return api("GET", versionPath()).then(function (reply) {
      var version = versionOf(reply);
      if (version.status === "UPLOAD_COMPLETE") return version;
      if (version.status === "UPLOAD_FAILED") throw new Error("The upload failed: " + (version.failureReason || "no reason given"));
      if (Date.now() > deadline) throw new Error("The server is still verifying the files; reload this page later to see the version.");
      return new Promise(function (resolve) { setTimeout(resolve, 1000); }).then(function () { return poll(deadline); });
    });
  }

  // After "Upload complete" the form is done: no Remove buttons, no second submit, and the way on
  // is the new version's page (the versions tab plus "/<version>").
  function finished(version) {
    form.querySelectorAll("#file-table button, #metrics-tables button, #add-table").forEach(function (control) {
      control.hidden = true;
    });
    button.hidden = true;
    form.querySelectorAll("input, select, textarea").forEach(function (field) { field.disabled = true; });
    var actions = document.getElementById("upload-actions");
    actions.textContent = "";
    var again = document.createElement("a");
    again.className = "button secondary";
    again.href = window.location.pathname;
    again.textContent = "Upload another version";
    actions.appendChild(again);
    if (form.dataset.versionsUrl) {
      var open = document.createElement("a");
      open.className = "button";
      open.id = "open-version";
      open.href = form.dataset.versionsUrl + "/" + encodeURIComponent(version);
      open.textContent = "Open version " + version;
      actions.appendChild(open);
      open.focus();
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    var version = form.version.value.trim();
    if (!version || !form.version.checkValidity()) {
      setStatus("Enter a version: letters, digits, '.', '_', '+' or '-', starting with a letter or digit.", "error");
      form.version.focus();
      return;
    }
    if (!entries.length) { setStatus("Choose at least one file or folder to upload.", "error"); return; }
    if (entries.some(function (entry) { return entry.file.size > maxFile; })) {
      setStatus("Some files are too large for the browser; remove them first.", "error");
      return;
    }
    var linkType = document.getElementById("link-type").value, link = document.getElementById("link").value.trim();
    if (!!linkType !== !!link) { setStatus("A related resource needs both a link type and a URL.", "error"); return; }
    var metrics = customMetrics();
    if (metrics.problems.length) { setStatus(metrics.problems.join(" "), "error"); return; }

    busy = true;
    button.disabled = true;
    totalBytes = 0;
    entries.forEach(function (entry) { totalBytes += entry.file.size; setSent(entry, 0); });
    setStatus("Creating version " + version + "…");
    createVersion(metrics.tables).then(function () {
      setStatus("Hashing files…");
      return entries.reduce(function (chain, entry) { return chain.then(function () { return sha256(entry); }); }, Promise.resolve());
    }).then(function () {
      return dedup();
    }).then(function (known) {
      setStatus("Uploading " + entries.length + " file(s)…");
      var chain = Promise.resolve();
      entries.forEach(function (entry) {
        chain = chain.then(function () {
          if (known[entry.sha256]) {
            setSent(entry, entry.file.size);
            entry.note.textContent = " already stored";
            return;
          }
          return uploadFile(entry).then(function () { known[entry.sha256] = true; });
        });
      });
      return chain;
    }).then(function () {
      setStatus("Committing files…");
      return api("POST", "/v2/" + apiSpace + "/files/commit?upload-pending=True", target({
        files: entries.map(function (entry) { return {commitType: "ADDITION", filePath: entry.path, sha256: entry.sha256}; })
      }));
    }).then(function (reply) {
      if (reply.status !== 200) throw new Error(message(reply));
      return api("PATCH", versionPath(), {status: "UPLOAD_COMPLETE"});
    }).then(function (reply) {
      if (reply.status !== 200) throw new Error(message(reply));
      setStatus("Verifying the files on the server…");
      return poll(Date.now() + 5 * 60 * 1000);
    }).then(function (done) {
      overall.value = 100;
      setStatus("Upload complete: version " + version + " has " + done.totalFileCount + " file(s), " +
        humanSize(done.totalSizeInBytes) + ".", "complete");
      finished(version);
    }).catch(function (error) {
      setStatus("Upload failed: " + error.message + " You can fix the problem and upload again.", "failed");
      busy = false;
      button.disabled = false;
    });
  });
})();
