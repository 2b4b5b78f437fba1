/* The field app's progressive enhancement (no build step, no dependencies).
 *
 * - Drafts: the encounter form is saved to IndexedDB as it is typed; a reload, a crash or a
 *   flat battery loses nothing.
 * - Outbox: a submission is stored with its client UUID and sent through /api/v1/field/ when
 *   the connection allows, step by step (new residents, the encounter, consents, referrals,
 *   submit). Every step is idempotent on the server, and the progress of each item is kept,
 *   so a retry never makes a twin. A step the server refuses (4xx) stops the item and shows
 *   why; the responder opens it, fixes it and sends it again (docs/architecture.md).
 * - Sync status on every page, calls refreshed in place, the service worker registered.
 * Everything is kept per user, and signing out deletes it from the tablet.
 */
(function () {
  "use strict";

  var body = document.body;
  var USER = body.dataset.user || "anonymous";
  var API = body.dataset.api || "/api/v1/field/";
  var DB_NAME = "acs-field-" + USER;

  // --- strings (translated in the page) ------------------------------------------------------
  var STRINGS = {};
  var tpl = document.getElementById("i18n");
  if (tpl) {
    tpl.content.querySelectorAll("[data-key]").forEach(function (el) {
      STRINGS[el.dataset.key] = el.textContent.trim();
    });
  }
  function t(key, vars) {
    var s = STRINGS[key] || key;
    Object.keys(vars || {}).forEach(function (k) {
      s = s.split("%(" + k + ")s").join(String(vars[k]));
    });
    return s;
  }

  // Words that suggest a narrative holds substance-use information (English and Spanish),
  // matched as whole words: a hint to tick the 42 CFR Part 2 box, never a decision.
  var SUBSTANCE_TERMS = new RegExp("(^|[^\\p{L}])(" + [
    "alcohol", "alcoholic", "drunk", "intoxicated", "drugs?", "overdosed?", "od", "narcan",
    "naloxone", "fentanyl", "heroin", "meth", "methamphetamine", "cocaine", "crack", "opioids?",
    "opiates?", "methadone", "suboxone", "buprenorphine", "detox", "rehab", "withdrawals?",
    "sober", "sobriety", "relapsed?", "substances?", "syringes?", "needles?",
    "borrach[oa]s?", "drogas?", "sobredosis", "fentanilo", "hero[ií]na", "metanfetamina",
    "coca[ií]na", "metadona", "desintoxicaci[oó]n", "rehabilitaci[oó]n", "abstinencia",
    "alcoh[oó]lic[oa]s?", "reca[ií]das?",
  ].join("|") + ")(?=[^\\p{L}]|$)", "iu");

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function hhmm(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // --- IndexedDB: drafts, outbox, meta --------------------------------------------------------
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          var db = req.result;
          db.createObjectStore("drafts", { keyPath: "id" });
          db.createObjectStore("outbox", { keyPath: "id" });
          db.createObjectStore("meta", { keyPath: "key" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function store(name, mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result;
        var req = fn(tx.objectStore(name));
        if (req) req.onsuccess = function () { result = req.result; };
        tx.oncomplete = function () { resolve(result); };
        tx.onerror = function () { reject(tx.error); };
        tx.onabort = function () { reject(tx.error); };
      });
    });
  }
  var idb = {
    get: function (s, key) { return store(s, "readonly", function (os) { return os.get(key); }); },
    put: function (s, value) { return store(s, "readwrite", function (os) { return os.put(value); }); },
    del: function (s, key) { return store(s, "readwrite", function (os) { return os.delete(key); }); },
    all: function (s) { return store(s, "readonly", function (os) { return os.getAll(); }); },
  };

  // --- the API --------------------------------------------------------------------------------
  function csrfToken() {
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }
  function api(method, path, payload, background) {
    var headers = { Accept: "application/json", "X-CSRFToken": csrfToken() };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    // Automatic work (polling, retries) must not keep an idle session alive (acs/sessions.py).
    if (background) headers["X-ACS-Background"] = "1";
    return fetch(API + path, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: payload === undefined ? undefined : JSON.stringify(payload),
    }).then(function (res) {
      return res.json().catch(function () { return null; }).then(function (data) {
        return { status: res.status, ok: res.ok, data: data };
      });
    });
  }
  function errorOf(res) {
    var e = (res.data && res.data.error) || {};
    return {
      status: res.status,
      code: e.code || "error",
      message: e.message || ("HTTP " + res.status),
      fields: e.fields || {},
      candidates: e.candidates || null,
    };
  }
  // Refused (fix and resend) versus transient (retry by itself).
  function isRefusal(res) {
    return res.status >= 400 && res.status < 500 && res.status !== 401 && res.status !== 403 &&
      res.status !== 408 && res.status !== 429;
  }
  // What the responder reads: the tablet's words for refusals it knows, the server's otherwise.
  function explain(err) {
    if (err.code === "possible_duplicates") {
      var names = (err.candidates || []).map(function (c) {
        return (c.preferred_name || c.legal_name || "?") + (c.date_of_birth ? " " + c.date_of_birth : "");
      });
      return t("refused_duplicate", { names: names.join(", ") });
    }
    return err.message;
  }
  function Refused(err, step, person) { this.err = err; this.step = step; this.person = person; }
  function Transient(err) { this.err = err; }
  function check(res, step, person) {
    if (res.ok) return res;
    if (res.status === 401 || res.status === 403) {
      setMeta("auth", { needed: true, at: new Date().toISOString() });
      throw new Transient(errorOf(res));
    }
    if (isRefusal(res)) throw new Refused(errorOf(res), step, person);
    throw new Transient(errorOf(res));
  }

  function setMeta(key, value) { return idb.put("meta", { key: key, value: value }); }
  function getMeta(key) { return idb.get("meta", key).then(function (r) { return r ? r.value : null; }); }

  // --- the sync engine -------------------------------------------------------------------------
  var syncing = false;

  function sendEncounter(item, background) {
    var p = item.progress;
    p.followUps = p.followUps || {};
    var chain = Promise.resolve();
    // 1. People added as new on the tablet become resident records first.
    item.people.forEach(function (person) {
      if (!person.isNew || p.residents[person.key]) return;
      chain = chain.then(function () {
        // The person's key on the tablet is the record's client_id: a retry whose first
        // answer was lost gets the record it made, not a refusal as its own duplicate.
        var payload = { client_id: person.key, preferred_name: person.name, confirm_new: !!person.confirmNew };
        if (person.dob) payload.date_of_birth = person.dob;
        return api("POST", "residents", payload, background).then(function (res) {
          check(res, "resident", person.key);
          p.residents[person.key] = res.data.id;
          return idb.put("outbox", item);
        });
      });
    });
    // 2. The encounter, by its client UUID (a retry returns the first); a fixed item is patched.
    chain = chain.then(function () {
      var body = Object.assign({}, item.payload, {
        residents: residentIds(item), living_situations: livingSituations(item),
      });
      if (p.encounter && !item.dirty) return null;
      var req = p.encounter
        ? api("PATCH", "encounters/" + p.encounter, withoutKeys(body, ["client_id", "unit", "call"]), background)
        : api("POST", "encounters", body, background);
      return req.then(function (res) {
        check(res, "encounter");
        p.encounter = res.data.id;
        item.dirty = false;
        return idb.put("outbox", item);
      });
    });
    // 3. Consents captured on scene, each by its own client UUID (made when the scope was
    // chosen and kept with the item): a retry gets the consent its first attempt recorded.
    item.people.forEach(function (person) {
      if (!person.consentScope || p.consents[person.key]) return;
      chain = chain.then(function () {
        var resident = residentOf(item, person);
        var recorded = Promise.resolve(false);
        if (!person.consentClientId) {
          // Queued before consents had client ids: look for it as the tablet did then.
          person.consentClientId = uuid();
          recorded = api("GET", "residents/" + resident + "/consents", undefined, background).then(function (res) {
            check(res, "consent", person.key);
            return (res.data.results || []).some(function (c) {
              return c.encounter === p.encounter && c.scope === person.consentScope && !c.revoked_at;
            });
          });
        }
        return recorded.then(function (already) {
          if (already) return null;
          var payload = {
            client_id: person.consentClientId,
            scope: person.consentScope,
            method: person.consentMethod || "verbal",
            encounter: p.encounter,
          };
          if (person.consentScope === "share_named_partner" && person.referral) {
            payload.organization = person.referral.organization;
          }
          // The id is stored before it is sent, so every retry carries the same one.
          return idb.put("outbox", item).then(function () {
            return api("POST", "residents/" + resident + "/consents", payload, background);
          }).then(function (r2) {
            check(r2, "consent", person.key);
          });
        }).then(function () {
          p.consents[person.key] = true;
          return idb.put("outbox", item);
        });
      });
    });
    // 4. Referrals, by their own client UUIDs.
    item.people.forEach(function (person) {
      if (!person.referral || p.referrals[person.key]) return;
      chain = chain.then(function () {
        var payload = {
          client_id: person.referral.clientId,
          resident: residentOf(item, person),
          service: person.referral.service,
          service_at_location: person.referral.serviceAtLocation || null,
          encounter: p.encounter,
          needs: item.payload.needs || [],
        };
        return api("POST", "referrals", payload, background).then(function (res) {
          check(res, "referral", person.key);
          p.referrals[person.key] = res.data.id;
          return idb.put("outbox", item);
        });
      });
    });
    // 5. Follow-ups asked for (one per person per encounter on the server).
    item.people.forEach(function (person) {
      if (!person.followUp || !person.followUp.kind || p.followUps[person.key]) return;
      chain = chain.then(function () {
        var due = person.followUp.due ? new Date(person.followUp.due + "T10:00") : new Date(Date.now() + 2 * 86400000);
        var payload = { resident: residentOf(item, person), kind: person.followUp.kind, due_at: due.toISOString() };
        return api("POST", "encounters/" + p.encounter + "/follow-ups", payload, background).then(function (res) {
          check(res, "follow_up", person.key);
          p.followUps[person.key] = res.data.id;
          return idb.put("outbox", item);
        });
      });
    });
    // 5b. Forms filled in on the encounter (static/field/forms.js), each by its client UUID.
    p.forms = p.forms || {};
    (item.forms || []).forEach(function (f) {
      if (p.forms[f.client_id]) return;
      chain = chain.then(function () {
        var person = f.person && item.people.filter(function (x) { return x.key === f.person; })[0];
        var payload = {
          client_id: f.client_id, version: f.version, answers: f.answers, language: f.language,
          started_at: f.started_at || item.created, resident: person ? residentOf(item, person) : null,
        };
        return api("POST", "encounters/" + p.encounter + "/forms", payload, background).then(function (res) {
          check(res, "form");
          p.forms[f.client_id] = res.data.id;
          return idb.put("outbox", item);
        });
      });
    });
    // 6. Submit (idempotent).
    return chain.then(function () {
      return api("POST", "encounters/" + p.encounter + "/submit", {}, background).then(function (res) {
        check(res, "submit");
      });
    });
  }
  function residentOf(item, person) {
    return person.isNew ? item.progress.residents[person.key] : person.id;
  }
  // Each person's living situation on this contact, by their record's id (once it exists).
  function livingSituations(item) {
    var out = {};
    item.people.forEach(function (person) {
      var id = residentOf(item, person);
      if (id && person.livingSituation) out[id] = person.livingSituation;
    });
    return out;
  }
  function residentIds(item) {
    return item.people.map(function (person) { return residentOf(item, person); }).filter(Boolean);
  }
  function withoutKeys(obj, keys) {
    var copy = Object.assign({}, obj);
    keys.forEach(function (k) { delete copy[k]; });
    return copy;
  }

  function sendUnitStatus(item, background) {
    return api("POST", "units/" + encodeURIComponent(item.unit) + "/status", item.body, background)
      .then(function (res) {
        check(res, "status");
        // A move on a call answers with the call as the server now has it.
        if (item.body.call && res.data && res.data.status) {
          document.dispatchEvent(new CustomEvent("acs:call", { detail: res.data }));
        }
      });
  }

  function syncOnce(background) {
    if (syncing) return Promise.resolve();
    syncing = true;
    render({ syncing: true });
    return idb.all("outbox").then(function (items) {
      var now = Date.now();
      items = items.filter(function (i) { return i.state === "pending" && (!i.nextTry || i.nextTry <= now); });
      items.sort(function (a, b) { return a.created < b.created ? -1 : 1; });
      var chain = Promise.resolve();
      items.forEach(function (item) {
        chain = chain.then(function () {
          if (!navigator.onLine) return null;
          var send = item.kind === "encounter" ? sendEncounter : sendUnitStatus;
          return send(item, background).then(function () {
            return idb.del("outbox", item.id).then(function () {
              return setMeta("lastSynced", new Date().toISOString());
            }).then(function () { return setMeta("auth", null); });
          }, function (failure) {
            if (failure instanceof Refused) {
              item.state = "refused";
              item.error = Object.assign({ step: failure.step, person: failure.person || null }, failure.err);
              item.error.message = explain(item.error);
            } else {
              item.attempts = (item.attempts || 0) + 1;
              var wait = Math.min(300000, 5000 * Math.pow(2, item.attempts - 1));
              item.nextTry = Date.now() + wait / 2 + Math.random() * wait / 2;
              item.lastError = failure && failure.err ? failure.err.message : String(failure);
            }
            return idb.put("outbox", item);
          });
        });
      });
      return chain;
    }).catch(function () { /* the next round tries again */ }).then(function () {
      syncing = false;
      render({});
      document.dispatchEvent(new CustomEvent("acs:synced"));
    });
  }
  function sync(background) {
    if (navigator.locks && navigator.locks.request) {
      // One tab at a time sends the outbox.
      return navigator.locks.request("acs-field-sync", { ifAvailable: true }, function (lock) {
        return lock ? syncOnce(background) : null;
      });
    }
    return syncOnce(background);
  }
  function retryNow() {
    return idb.all("outbox").then(function (items) {
      return Promise.all(items.filter(function (i) { return i.state === "pending"; }).map(function (i) {
        i.nextTry = 0;
        return idb.put("outbox", i);
      }));
    }).then(function () { return sync(true); });
  }

  // --- the status line -------------------------------------------------------------------------
  function render(state) {
    var el = document.getElementById("sync");
    if (!el) return Promise.resolve();
    return Promise.all([idb.all("outbox"), getMeta("lastSynced"), getMeta("auth")]).then(function (r) {
      var items = r[0], last = r[1], auth = r[2];
      var pending = items.filter(function (i) { return i.state === "pending"; });
      var refused = items.filter(function (i) { return i.state === "refused"; });
      var encounters = pending.filter(function (i) { return i.kind === "encounter"; }).length;
      var others = pending.length - encounters;
      var parts = [];
      if (!navigator.onLine) parts.push(t("offline"));
      if (state.syncing && pending.length && navigator.onLine) parts.push(t("syncing"));
      if (encounters) parts.push(encounters === 1 ? t("encounter_waiting_one") : t("encounters_waiting", { n: encounters }));
      if (others) parts.push(others === 1 ? t("waiting_one") : t("waiting_many", { n: others }));
      if (refused.length) parts.push(t("refused", { n: refused.length }));
      if (auth && auth.needed && pending.length) parts.push(t("signin"));
      if (!pending.length && !refused.length) parts.push(t("all_synced"));
      if (last) parts.push(t("last_synced", { time: hhmm(last) }));
      el.textContent = parts.join(" · ");
      el.className = "sync" + (refused.length ? " refused" : auth && auth.needed && pending.length ? " signin" : pending.length ? "" : " ok");
      el.hidden = false;
      el.dataset.pending = String(pending.length);
      el.dataset.refused = String(refused.length);
    }).catch(function () {});
  }

  // --- the home page: what is still on this tablet ---------------------------------------------
  function renderPending() {
    var section = document.getElementById("pending");
    var list = document.getElementById("pending-list");
    if (!section || !list) return Promise.resolve();
    return Promise.all([idb.all("drafts"), idb.all("outbox")]).then(function (r) {
      var drafts = r[0], items = r[1];
      list.textContent = "";
      drafts.forEach(function (d) {
        list.appendChild(pendingRow(t("draft") + " " + hhmm(d.savedAt), "", [
          link(t("open"), formUrl(d.id)),
          button(t("discard"), function () { idb.del("drafts", d.id).then(renderPending); }),
        ]));
      });
      items.forEach(function (i) {
        var label = (i.kind === "encounter" ? t("encounter") : t(i.undo ? "status_undo" : "status_change") + " " + i.unit) + " " + hhmm(i.created);
        var actions = [];
        var why = "";
        if (i.state === "refused") {
          why = i.error ? i.error.message : "";
          if (i.kind === "encounter") actions.push(link(t("fix"), formUrl(i.id)));
          else actions.push(button(t("discard"), function () { idb.del("outbox", i.id).then(function () { renderPending(); render({}); }); }));
        }
        list.appendChild(pendingRow(label + " · " + (i.state === "refused" ? t("refused_one") : t("pending")), why, actions));
      });
      section.hidden = !(drafts.length || items.length);
      // An unfinished encounter this tablet holds (a draft, or an item waiting or refused) is
      // listed once: as this tablet's, where its latest edits are.
      var held = drafts.map(function (d) { return d.id; }).concat(items.map(function (i) { return i.id; }));
      var server = document.getElementById("server-drafts");
      if (server) {
        var shown = 0;
        server.querySelectorAll("li[data-client-id]").forEach(function (li) {
          li.hidden = held.indexOf(li.dataset.clientId) >= 0;
          if (!li.hidden) shown += 1;
        });
        server.hidden = !shown;
      }
    });
  }
  function formUrl(id) { return "/field/encounters/new?draft=" + encodeURIComponent(id); }
  function pendingRow(label, why, actions) {
    var li = document.createElement("li");
    li.className = "pending-item";
    var span = document.createElement("span");
    span.textContent = label;
    li.appendChild(span);
    var box = document.createElement("span");
    box.className = "row";
    actions.forEach(function (a) { box.appendChild(a); });
    li.appendChild(box);
    if (why) {
      var p = document.createElement("span");
      p.className = "why";
      p.textContent = why;
      li.appendChild(p);
    }
    return li;
  }
  function link(text, href) {
    var a = document.createElement("a");
    a.className = "button";
    a.href = href;
    a.textContent = text;
    return a;
  }
  function button(text, onClick) {
    var b = document.createElement("button");
    b.type = "button";
    b.className = "quiet";
    b.textContent = text;
    b.addEventListener("click", onClick);
    return b;
  }

  // --- unit status buttons ---------------------------------------------------------------------
  // A tap moves the unit at once on screen and is queued like any write; a toast says what
  // changed, with Undo for ten seconds. Undo drops the tap while it is still on the tablet,
  // and once it has been sent, queues an undo naming it (the same status API, `undoes`): the
  // server marks the tap undone and the unit is back where it was.
  var UNDO_MS = 10000;
  var toastTimer = null;
  function showToast(text, onUndo) {
    var toast = document.getElementById("toast");
    if (!toast) return;
    clearTimeout(toastTimer);
    toast.querySelector("[data-toast-text]").textContent = text;
    var undo = toast.querySelector("[data-toast-undo]");
    var fresh = undo.cloneNode(true);  // one listener: the latest tap's
    undo.parentNode.replaceChild(fresh, undo);
    fresh.hidden = !onUndo;
    if (onUndo) {
      fresh.addEventListener("click", function () {
        clearTimeout(toastTimer);
        toast.hidden = true;
        onUndo();
      });
    }
    toast.hidden = false;
    toastTimer = setTimeout(function () { toast.hidden = true; }, onUndo ? UNDO_MS : 4000);
  }
  function showUnitStatus(box, status, label) {
    box.dataset.status = status;
    box.dataset.statusLabel = label;
    box.querySelectorAll("form[data-queue=unit_status]").forEach(function (f) {
      var b = f.querySelector("button");
      var on = f.querySelector("input[name=status]").value === status;
      b.classList.toggle("current", on);
      if (on) b.setAttribute("aria-pressed", "true");
      else b.removeAttribute("aria-pressed");
    });
    // The badge says the status at once, in the buttons' own words (one vocabulary).
    var badge = box.querySelector(".status");
    if (badge) {
      badge.textContent = label;
      badge.className = "status status-" + status;
    }
    // The call's line under the title follows at once (the server's answer corrects it when
    // another unit is further along).
    if (box.closest("#my-unit")) setCallStatus(status);
    // Clear takes the call out of the unit's current calls: the page says so.
    var cleared = document.getElementById("cleared");
    if (cleared && box.closest("#my-unit")) {
      cleared.hidden = status !== "cleared";
      document.body.classList.toggle("call-cleared", status === "cleared");
      if (status === "cleared") cleared.scrollIntoView({ block: "start" });
    }
  }
  var callStatusLabels = null;
  function setCallStatus(status) {
    var line = document.getElementById("call-status");
    if (!line || !status) return;
    if (!callStatusLabels) {
      var data = document.getElementById("call-status-labels");
      callStatusLabels = data ? JSON.parse(data.textContent) : {};
    }
    line.dataset.status = status;
    line.textContent = callStatusLabels[status] || status;
  }
  document.addEventListener("acs:call", function (ev) {
    var line = document.getElementById("call-status");
    var call = ev.detail || {};
    if (line && call.id && call.id === line.dataset.call && call.status) setCallStatus(call.status);
  });
  function wireStatusForms() {
    document.querySelectorAll("form[data-queue=unit_status]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var fd = new FormData(form);
        var box = form.closest(".unit") || form.parentElement;
        var callLine = document.getElementById("call-status");
        var before = {
          status: box.dataset.status || "", label: box.dataset.statusLabel || "",
          call: callLine ? callLine.dataset.status : "",
        };
        var status = fd.get("status");
        if (status === before.status) return;
        var label = form.querySelector("button").textContent.trim();
        var eventId = uuid();  // one id per press: the server drops a repeat of the same press
        var item = {
          id: eventId,
          kind: "unit_status",
          unit: form.dataset.unit,
          state: "pending",
          created: new Date().toISOString(),
          body: { event_id: eventId, status: status, call: fd.get("call") || null, at: new Date().toISOString() },
        };
        idb.put("outbox", item).then(function () {
          showUnitStatus(box, status, label);
          showToast(label, before.status ? function () { undoMove(item, box, before); } : null);
          return render({});
        }).then(function () { return sync(false); });
      });
    });
  }
  function undoMove(item, box, before) {
    showUnitStatus(box, before.status, before.label);
    if (before.call) setCallStatus(before.call);
    showToast(t("undone", { status: before.label }), null);
    idb.get("outbox", item.id).then(function (queued) {
      // Still on the tablet (offline, or refused): the tap is simply dropped.
      if (queued && (queued.state === "refused" || !syncing)) return idb.del("outbox", item.id);
      // Sent, or being sent: the server takes it back.
      var undoId = uuid();
      var body = { event_id: undoId, status: before.status, call: item.body.call, at: new Date().toISOString() };
      if (item.body.call) body.undoes = item.body.event_id;
      return idb.put("outbox", {
        id: undoId, kind: "unit_status", undo: true, unit: item.unit, state: "pending",
        created: new Date().toISOString(), body: body,
      });
    }).then(function () { return render({}); }).then(function () { return sync(false); });
  }

  // --- calls refreshed in place ----------------------------------------------------------------
  function wireCalls() {
    var box = document.getElementById("call-rows");
    if (!box) return;
    function refresh() {
      if (!navigator.onLine) return;
      fetch(box.dataset.rowsUrl, { credentials: "same-origin", headers: { "X-ACS-Background": "1" } })
        .then(function (res) {
          if (res.ok && !res.redirected) return res.text();
          return null;
        })
        .then(function (html) { if (html) box.innerHTML = html; })
        .catch(function () {});
    }
    setInterval(refresh, (parseInt(box.dataset.refresh, 10) || 15) * 1000);
    window.addEventListener("online", refresh);
  }

  // --- the encounter form ----------------------------------------------------------------------
  // The directory snapshot: services that take referrals, with places free and the needs
  // they meet. The service worker keeps its last copy for dead zones (its `as_of` says when).
  var directory = null;
  function loadDirectory() {
    if (directory) return Promise.resolve(directory);
    return fetch(body.dataset.directory, { credentials: "same-origin", headers: { "X-ACS-Background": "1" } })
      .then(function (res) { return res.ok ? res.json() : null; })
      .catch(function () { return null; })
      .then(function (data) { directory = data || { services: [], missing: true }; return directory; });
  }
  // The picker's search, online: the server's typo-tolerant search of the directory for the
  // words typed and the needs ticked. Null when it cannot answer (offline): filter the copy.
  var searches = {};
  function searchDirectory(text, needs) {
    var q = new URLSearchParams();
    if (text) q.set("q", text);
    needs.forEach(function (n) { q.append("need", n); });
    var key = q.toString();
    if (!navigator.onLine) return Promise.resolve(null);
    if (!searches[key]) {
      searches[key] = fetch(body.dataset.directory + "?" + key, {
        credentials: "same-origin", headers: { "X-ACS-Background": "1" },
      }).then(function (res) { return res.ok ? res.json() : null; }).catch(function () { return null; });
      searches[key].then(function (data) { if (!data) delete searches[key]; });
    }
    return searches[key];
  }
  function fold(text) {
    return String(text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }
  // The copy's rows for the words typed and the needs ticked (offline; the server's rule for
  // needs: a service meets a need when its terms do, listed with the row).
  function filterDirectory(rows, text, needs) {
    var words = fold(text).split(/\s+/).filter(Boolean);
    return rows.filter(function (s) {
      if (needs.length && !(s.needs || []).some(function (n) { return needs.indexOf(n) >= 0; })) return false;
      var hay = fold([s.name, s.organization, s.location, s.address, s.city].join(" "));
      return words.every(function (w) { return hay.indexOf(w) >= 0; });
    });
  }
  function dayOf(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleDateString();
  }

  function wireEncounterForm() {
    var form = document.getElementById("encounter-form");
    if (!form) return;
    var params = new URLSearchParams(location.search);
    var draftId = params.get("draft");
    // `server`: an unfinished encounter opened from the server (its id and what is already
    // recorded on it), so that submitting finishes that one instead of making a twin.
    var state = { id: null, call: null, people: [], fromOutbox: null, server: null };
    // static/field/forms.js (the encounter's forms) asks who is on the encounter.
    window.ACSFieldEncounter = { people: function () { return state.people; } };
    var peopleBox = document.getElementById("people");
    peopleBox.hidden = false;

    function localNow() {
      var d = new Date();
      d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
      return d.toISOString().slice(0, 16);
    }
    function inDays(n) {
      var d = new Date(Date.now() + n * 86400000);
      d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
      return d.toISOString().slice(0, 10);
    }
    function toLocalInput(iso) {
      var d = new Date(iso);
      if (isNaN(d)) return "";
      d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
      return d.toISOString().slice(0, 16);
    }
    function readValues() {
      var fd = new FormData(form);
      var when = fd.get("occurred_at");
      return {
        unit: fd.get("unit") || "",
        occurred_at: when ? new Date(when).toISOString() : new Date().toISOString(),
        anonymous_people: parseInt(fd.get("anonymous_people"), 10) || 0,
        needs: fd.getAll("needs"),
        services_on_scene: fd.getAll("services_on_scene"),
        risk_level: fd.get("risk_level") || "not_screened",
        disposition: fd.get("disposition") || "",
        transport_destination: fd.get("transport_destination") || "",
        police_requested: fd.get("police_requested") !== null,
        ems_requested: fd.get("ems_requested") !== null,
        involuntary_hold: fd.get("involuntary_hold") !== null,
        narrative: fd.get("narrative") || "",
        narrative_part2: fd.get("narrative_part2") !== null,
      };
    }
    function fill(values) {
      if (values.unit) form.elements.unit.value = values.unit;
      if (values.occurred_at) form.elements.occurred_at.value = toLocalInput(values.occurred_at);
      form.elements.anonymous_people.value = values.anonymous_people || 0;
      ["needs", "services_on_scene"].forEach(function (name) {
        form.querySelectorAll("input[name=" + name + "]").forEach(function (box) {
          box.checked = (values[name] || []).indexOf(box.value) >= 0;
        });
      });
      ["risk_level", "disposition"].forEach(function (name) {
        form.querySelectorAll("input[name=" + name + "]").forEach(function (radio) {
          radio.checked = radio.value === values[name];
        });
      });
      form.elements.transport_destination.value = values.transport_destination || "";
      form.elements.police_requested.checked = !!values.police_requested;
      form.elements.ems_requested.checked = !!values.ems_requested;
      form.elements.involuntary_hold.checked = !!values.involuntary_hold;
      form.elements.narrative.value = values.narrative || "";
      form.elements.narrative_part2.checked = !!values.narrative_part2;
      hintPart2();
    }
    function showCall() {
      form.elements.call.value = state.call || "";
      var label = document.getElementById("call-label");
      label.hidden = !state.call;
    }

    // --- the referral picker: services for the needs ticked, searchable, each with its
    // place, its places free (a full place is shown as full: the responder decides) and
    // whether this person's consent covers that partner (what the server will check).
    var PICKER_SHOWN = 8;
    function tickedNeeds() {
      return Array.prototype.map.call(form.querySelectorAll("input[name=needs]:checked"), function (b) { return b.value; });
    }
    function consentFor(person, s) {
      // Consent ticked on this form: partners in general, or the partner picked (the consent
      // recorded names the referral's partner).
      if (person.consentScope === "share_partners") return { ok: true, text: t("consent_now_partners") };
      if (person.consentScope === "share_named_partner") return { ok: true, text: t("consent_now_named") };
      var sharing = person.sharing;  // the server's answer for this person (consents API)
      if (sharing) {
        if ((sharing.named_partners || []).indexOf(s.organization_id) >= 0) return { ok: true, text: t("consent_named") };
        if (sharing.partners) return { ok: true, text: t("consent_partners") };
        return { ok: false, text: t("consent_none") };
      }
      if (person.isNew) return { ok: false, text: t("consent_none") };
      return { ok: null, text: t("consent_unknown") };
    }
    function capacityBadge(s) {
      var c = s.capacity;
      var b = document.createElement("span");
      b.className = "badge";
      if (!c) { b.textContent = t("no_figure"); return b; }
      var vars = { a: c.available, t: c.total, unit: c.unit };
      b.textContent = t(c.available > 0 ? "places_free" : "full", vars) +
        (c.stale ? " (" + t("old_figure", { date: dayOf(c.as_of) }) + ")" : "");
      b.className = "badge " + (c.stale ? "stale" : c.available > 0 ? "ok" : "no");
      return b;
    }
    function loadSharing(person) {
      if (person.isNew || !person.id || !navigator.onLine) return;
      api("GET", "residents/" + encodeURIComponent(person.id) + "/consents", undefined, false).then(function (res) {
        if (!res.ok || !res.data || !res.data.sharing) return;
        person.sharing = res.data.sharing;
        save();
        var li = list.querySelector('li[data-key="' + person.key + '"]');
        if (li && li.refreshPicker) li.refreshPicker();
      }, function () {});
    }
    function wirePicker(li, person) {
      var box = li.querySelector("[data-referral-picker]");
      var chosen = box.querySelector("[data-referral-chosen]");
      var find = box.querySelector("[data-referral-find]");
      var search = box.querySelector("[data-referral-search]");
      var byNeeds = box.querySelector("[data-referral-by-needs]");
      var asOf = box.querySelector("[data-referral-as-of]");
      var options = box.querySelector("[data-referral-options]");
      var more = box.querySelector("[data-referral-more]");
      var none = box.querySelector("[data-referral-none]");
      var seq = 0;
      var timer = null;
      function showChosen() {
        var r = person.referral;
        if (r && r.sent) {
          chosen.textContent = t("referral_sent", { service: r.name, organization: r.organizationName, status: t("referral_" + r.status) });
          find.hidden = true;
          none.hidden = true;
          return;
        }
        chosen.textContent = r ? t("chosen", { service: r.name, organization: r.organizationName || "" }) : t("no_referral_chosen");
        chosen.classList.toggle("picked", !!r);
        none.hidden = !r;
      }
      function choose(s) {
        person.referral = s ? {
          clientId: (person.referral && person.referral.clientId) || uuid(),
          service: s.service,
          serviceAtLocation: s.service_at_location,
          organization: s.organization_id,
          name: s.name,
          organizationName: s.organization,
        } : null;
        showChosen();
        save();
      }
      function option(s) {
        var item = document.createElement("li");
        item.className = "option";
        var label = document.createElement("label");
        var radio = document.createElement("input");
        radio.type = "radio";
        radio.name = "referral-" + person.key;
        radio.value = s.service_at_location;
        radio.checked = !!person.referral && person.referral.serviceAtLocation === s.service_at_location;
        radio.addEventListener("change", function () { if (radio.checked) choose(s); });
        var what = document.createElement("span");
        what.className = "what";
        var name = document.createElement("strong");
        name.textContent = s.name;
        what.appendChild(name);
        what.appendChild(document.createTextNode(" · " + s.organization));
        var where = document.createElement("span");
        where.className = "meta where";
        where.textContent = [s.location, [s.address, s.city].filter(Boolean).join(", ")].filter(Boolean).join(" · ");
        var facts = document.createElement("span");
        facts.className = "facts";
        facts.appendChild(capacityBadge(s));
        var consent = consentFor(person, s);
        var badge = document.createElement("span");
        badge.className = "badge consent" + (consent.ok === true ? " ok" : consent.ok === false ? " no" : "");
        badge.textContent = consent.text;
        facts.appendChild(badge);
        [radio, what, where, facts].forEach(function (el) { label.appendChild(el); });
        item.appendChild(label);
        return item;
      }
      // Without words typed, places with room come first, then those without a figure (or
      // an old one), then full ones: all listed, the responder decides.
      function roomOrder(s) {
        var c = s.capacity;
        if (!c || c.stale) return 1;
        return c.available > 0 ? 0 : 2;
      }
      function show(rows, data, offline, needs) {
        if (!search.value.trim()) {
          rows = rows.map(function (s, i) { return [roomOrder(s), i, s]; })
            .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
            .map(function (x) { return x[2]; });
        }
        options.textContent = "";
        rows.slice(0, PICKER_SHOWN).forEach(function (s) { options.appendChild(option(s)); });
        if (!rows.length) {
          var empty = document.createElement("li");
          empty.className = "empty";
          empty.textContent = data.missing ? "" : t(needs.length ? "no_services_for_needs" : "no_services");
          if (empty.textContent) options.appendChild(empty);
        }
        more.hidden = rows.length <= PICKER_SHOWN;
        more.textContent = t("more_options", { n: rows.length - PICKER_SHOWN });
        asOf.textContent = data.missing ? t("no_directory") : t(offline ? "figures_offline" : "figures_now", { time: hhmm(data.as_of) });
        asOf.classList.toggle("offline", !!offline);
      }
      function refresh() {
        if (person.referral && person.referral.sent) return;
        var mine = ++seq;
        var text = search.value.trim();
        var needs = byNeeds.checked ? tickedNeeds() : [];
        searchDirectory(text, needs).then(function (data) {
          if (mine !== seq) return null;
          if (data) return show(data.services || [], data, false, needs);
          // Offline (or the server did not answer): the copy kept at the last sync.
          return loadDirectory().then(function (copy) {
            if (mine !== seq) return;
            var matchable = copy.matchable_needs || [];
            var known = needs.filter(function (n) { return matchable.indexOf(n) >= 0; });
            show(filterDirectory(copy.services || [], text, known), copy, true, known);
          });
        });
      }
      search.addEventListener("input", function (ev) {
        ev.stopPropagation();  // typing a search is not an edit of the encounter
        clearTimeout(timer);
        timer = setTimeout(refresh, 250);
      });
      byNeeds.addEventListener("change", function (ev) { ev.stopPropagation(); refresh(); });
      none.addEventListener("click", function () {
        options.querySelectorAll("input[type=radio]").forEach(function (r) { r.checked = false; });
        choose(null);
      });
      li.refreshPicker = refresh;
      showChosen();
      refresh();
    }
    form.querySelectorAll("input[name=needs]").forEach(function (box) {
      box.addEventListener("change", function () {
        list.querySelectorAll("li.person").forEach(function (li) { if (li.refreshPicker) li.refreshPicker(); });
      });
    });

    // People met: found in the records, or new; each with consent and a referral.
    var list = document.getElementById("people-list");
    var personTpl = document.getElementById("person-template");
    function renderPeople() {
      list.textContent = "";
      state.people.forEach(function (person) {
        var li = personTpl.content.firstElementChild.cloneNode(true);
        li.dataset.key = person.key;
        li.querySelector("[data-name]").textContent = person.name;
        li.querySelector("[data-meta]").textContent = (person.dob || "") + (person.isNew ? " · " + t("new_person") : "");
        if (!person.isNew && person.id) {
          var profile = li.querySelector("[data-profile]");
          profile.href = "/field/residents/" + encodeURIComponent(person.id) + "/";
          profile.hidden = false;
        }
        var scope = li.querySelector("[data-consent-scope]");
        scope.value = person.consentScope || "";
        scope.addEventListener("change", function () {
          person.consentScope = scope.value;
          // A new consent, a new client UUID: its retries are recognised by the server.
          person.consentClientId = scope.value ? uuid() : null;
          // A consent changed on an unfinished encounter from the server is recorded anew.
          if (state.server) delete state.server.consents[person.key];
          save();
          // The picker says at once what this consent covers.
          if (li.refreshPicker) li.refreshPicker();
        });
        var method = li.querySelector("[data-consent-method]");
        method.value = person.consentMethod || "verbal";
        method.addEventListener("change", function () { person.consentMethod = method.value; save(); });
        var living = li.querySelector("[data-living-situation]");
        living.value = person.livingSituation || "";
        living.addEventListener("change", function () { person.livingSituation = living.value; save(); });
        wirePicker(li, person);
        var followKind = li.querySelector("[data-follow-up-kind]");
        var followDue = li.querySelector("[data-follow-up-due]");
        followKind.value = person.followUp ? person.followUp.kind : "";
        followDue.value = person.followUp && person.followUp.due ? person.followUp.due : inDays(2);
        function setFollowUp() {
          person.followUp = followKind.value ? { kind: followKind.value, due: followDue.value } : null;
          save();
        }
        followKind.addEventListener("change", setFollowUp);
        followDue.addEventListener("change", setFollowUp);
        var confirmBox = li.querySelector("[data-confirm-new]");
        confirmBox.parentElement.hidden = !person.isNew;
        confirmBox.checked = !!person.confirmNew;
        confirmBox.addEventListener("change", function () { person.confirmNew = confirmBox.checked; save(); });
        li.querySelector("[data-remove]").addEventListener("click", function () {
          state.people = state.people.filter(function (p) { return p.key !== person.key; });
          renderPeople();
          save();
        });
        if (state.fromOutbox && state.fromOutbox.error && state.fromOutbox.error.person === person.key) {
          li.classList.add("refused");
        }
        list.appendChild(li);
      });
    }
    function addPerson(person) {
      if (!person.isNew && state.people.some(function (p) { return p.id === person.id; })) return;
      person.key = person.key || uuid();
      person.consentMethod = person.consentMethod || "verbal";
      state.people.push(person);
      renderPeople();
      save();
      loadSharing(person);
    }
    var hint = document.getElementById("person-hint");
    var results = document.getElementById("person-results");
    document.getElementById("person-search").addEventListener("click", function () {
      var name = document.getElementById("person-name").value.trim();
      var dob = document.getElementById("person-dob").value;
      results.textContent = "";
      if (!name && !dob) return;
      if (!navigator.onLine) { hint.textContent = t("search_offline"); return; }
      var payload = { name: name };
      if (dob) payload.date_of_birth = dob;
      api("POST", "residents/search", payload, false).then(function (res) {
        if (!res.ok) { hint.textContent = errorOf(res).message; return; }
        var rows = res.data.results || [];
        hint.textContent = rows.length ? "" : t("no_matches");
        rows.forEach(function (r) {
          var li = document.createElement("li");
          li.className = "pending-item";
          var label = document.createElement("span");
          var name = r.preferred_name || r.legal_name;
          label.textContent = name + (r.legal_name && r.legal_name !== name ? " (" + r.legal_name + ")" : "") +
            (r.date_of_birth ? " · " + r.date_of_birth : "") +
            (r.aliases && r.aliases.length ? " · " + r.aliases.join(", ") : "");
          if (r.score >= 0.6) {
            var badge = document.createElement("span");
            badge.className = "badge ok";
            badge.textContent = t("likely_same");
            label.appendChild(document.createTextNode(" "));
            label.appendChild(badge);
          }
          li.appendChild(label);
          li.appendChild(button(t("add"), function () {
            addPerson({ id: r.id, name: name, dob: r.date_of_birth || "", isNew: false });
            results.textContent = "";
          }));
          results.appendChild(li);
        });
      }, function () { hint.textContent = t("search_offline"); });
    });
    document.getElementById("person-new").addEventListener("click", function () {
      var nameInput = document.getElementById("person-name");
      var dobInput = document.getElementById("person-dob");
      var name = nameInput.value.trim();
      if (!name) { nameInput.focus(); return; }
      addPerson({ id: null, name: name, dob: dobInput.value || "", isNew: true, confirmNew: false });
      nameInput.value = "";
      dobInput.value = "";
      results.textContent = "";
    });

    // +/- for the anonymous count
    form.querySelectorAll(".stepper button").forEach(function (b) {
      b.addEventListener("click", function () {
        var input = document.getElementById(b.getAttribute("aria-controls"));
        var v = (parseInt(input.value, 10) || 0) + parseInt(b.dataset.step, 10);
        input.value = Math.max(0, Math.min(50, v));
        save();
      });
    });

    // Drafts: saved on every change, restored on reload.
    var timer = null;
    var stateLine = document.getElementById("draft-state");
    function save() {
      clearTimeout(timer);
      timer = setTimeout(saveNow, 300);
    }
    function saveNow() {
      if (!state.id) return Promise.resolve();
      var record = { id: state.id, savedAt: new Date().toISOString(), call: state.call, values: readValues(), people: state.people, server: state.server };
      if (window.ACSForms) record.forms = window.ACSForms.state();
      if (state.fromOutbox) {
        // Fixing a refused item: the edits stay with it until it is sent again.
        state.fromOutbox.draft = record;
        return idb.put("outbox", state.fromOutbox);
      }
      return idb.put("drafts", record).then(function () {
        stateLine.textContent = t("draft_saved") + " · " + hhmm(record.savedAt);
        if (params.get("draft") !== state.id) {
          params.delete("encounter");
          params.set("draft", state.id);
          history.replaceState(null, "", location.pathname + "?" + params.toString());
        }
        document.getElementById("discard").hidden = false;
      });
    }
    form.addEventListener("input", save);
    form.addEventListener("change", save);
    // A narrative that seems to mention substance use while the Part 2 box is unticked: say
    // so (the responder decides; nothing is ticked for them).
    function hintPart2() {
      document.getElementById("part2-hint").hidden = form.elements.narrative_part2.checked ||
        !SUBSTANCE_TERMS.test(form.elements.narrative.value);
    }
    form.elements.narrative.addEventListener("input", hintPart2);
    form.elements.narrative_part2.addEventListener("change", hintPart2);
    window.addEventListener("pagehide", function () { saveNow(); });
    document.getElementById("discard").addEventListener("click", function () {
      idb.del("drafts", state.id).then(function () { location.href = "/field/"; });
    });

    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      clearTimeout(timer);
      var values = readValues();
      var missing = [];
      if (!values.unit) missing.push(form.elements.unit);
      if (!values.disposition) missing.push(form.querySelector("input[name=disposition]"));
      if (missing.length) {
        missing[0].focus();
        var box = document.getElementById("sync-refusal");
        box.hidden = false;
        // Name what is missing in words (never "Disposition: ?").
        box.textContent = missing
          .map(function (field) {
            var set = field.closest("fieldset");
            var label = set ? set.querySelector("legend") : form.querySelector("label[for=" + field.id + "]");
            return t("required_named").replace("%(field)s", (label ? label.textContent : field.name).trim());
          })
          .join(" ");
        return;
      }
      var formsProblem = window.ACSForms ? window.ACSForms.check() : "";
      if (formsProblem) {
        var formsBox = document.getElementById("sync-refusal");
        formsBox.hidden = false;
        formsBox.textContent = formsProblem;
        return;
      }
      var payload = Object.assign({ client_id: state.id, call: state.call || null }, values);
      var progress = { residents: {}, encounter: null, consents: {}, referrals: {}, followUps: {} };
      if (state.server) {
        // Already on the server: the encounter is patched and submitted, and what was
        // recorded on it is not recorded again.
        progress.encounter = state.server.encounter;
        progress.consents = Object.assign({}, state.server.consents);
        progress.referrals = Object.assign({}, state.server.referrals);
        progress.followUps = Object.assign({}, state.server.followUps);
      }
      var item = state.fromOutbox || {
        id: state.id,
        kind: "encounter",
        created: new Date().toISOString(),
        progress: progress,
      };
      item.payload = payload;
      item.people = state.people;
      item.forms = window.ACSForms ? window.ACSForms.state() : [];
      item.state = "pending";
      item.error = null;
      item.attempts = 0;
      item.nextTry = 0;
      item.dirty = !!item.progress.encounter;
      delete item.draft;
      idb.put("outbox", item)
        .then(function () { return idb.del("drafts", state.id); })
        .then(function () {
          sessionStorage.setItem("acs-flash", t("queued"));
          // Send now if the line is up; the home page shows the outcome either way.
          if (navigator.onLine) return Promise.race([sync(false), new Promise(function (r) { setTimeout(r, 4000); })]);
          return null;
        })
        .then(function () { return idb.get("outbox", item.id); })
        .then(function (left) {
          // An honest word: "Sent" once the server has it, "Saved on this tablet" otherwise.
          sessionStorage.setItem("acs-flash", t(left ? "queued" : "sent"));
          location.href = "/field/";
        });
    });

    function showProblem(text) {
      var box = document.getElementById("sync-refusal");
      box.hidden = false;
      box.textContent = text;
    }
    function localDate(iso) {
      var d = new Date(iso);
      if (isNaN(d)) return "";
      d.setMinutes(d.getMinutes() - d.getTimezoneOffset());
      return d.toISOString().slice(0, 10);
    }
    // An unfinished encounter on the server, as the form holds one: its values, its people
    // with what was recorded for each (consent, living situation, referral, follow-up).
    function draftFromServer(e) {
      var server = { encounter: e.id, consents: {}, referrals: {}, followUps: {} };
      var people = (e.people || []).map(function (r) {
        var person = {
          key: uuid(), id: r.id, name: r.preferred_name || r.legal_name || "?",
          dob: r.date_of_birth || "", isNew: false, consentMethod: "verbal",
          livingSituation: (e.living_situations || {})[r.id] || "",
        };
        var consent = (e.consents || []).filter(function (c) { return c.resident === r.id && !c.revoked_at; })[0];
        if (consent) {
          person.consentScope = consent.scope;
          person.consentMethod = consent.method;
          server.consents[person.key] = true;
        }
        var referral = (e.referrals || []).filter(function (x) { return x.resident === r.id; })[0];
        if (referral) {
          person.referral = { sent: true, name: referral.service, organizationName: referral.organization, status: referral.status };
          server.referrals[person.key] = referral.id;
        }
        var followUp = (e.follow_ups || []).filter(function (f) { return f.resident === r.id; })[0];
        if (followUp) {
          person.followUp = { kind: followUp.kind, due: localDate(followUp.due_at) };
          server.followUps[person.key] = followUp.id;
        }
        return person;
      });
      return { id: e.client_id, call: e.call, values: e, people: people, server: server, savedAt: new Date().toISOString() };
    }
    function openServerDraft(id) {
      if (!navigator.onLine) { showProblem(t("draft_needs_connection")); return Promise.resolve(null); }
      return api("GET", "encounters/" + encodeURIComponent(id), undefined, false).then(function (res) {
        if (!res.ok) { showProblem(t("draft_not_found")); return null; }
        var e = res.data;
        if (e.status !== "draft") { location.href = "/field/encounters/" + encodeURIComponent(e.id) + "/"; return null; }
        // This tablet's own copy comes first: a refused item to fix, or a draft being edited.
        return idb.get("outbox", e.client_id).then(function (item) {
          if (item) return { draft: item.draft || { id: item.id, call: item.payload.call, values: item.payload, people: item.people }, item: item };
          return idb.get("drafts", e.client_id).then(function (draft) {
            if (draft) return { draft: draft, item: null };
            return { draft: draftFromServer(e), item: null, fromServer: true };
          });
        });
      }, function () { showProblem(t("draft_needs_connection")); return null; });
    }

    // Start: a draft or a refused item to fix, an unfinished encounter from the server, or a
    // new encounter with a new client UUID.
    loadDirectory().then(function () {
      if (params.get("encounter")) return openServerDraft(params.get("encounter"));
      if (!draftId) return null;
      return idb.get("drafts", draftId).then(function (draft) {
        if (draft) return { draft: draft, item: null };
        return idb.get("outbox", draftId).then(function (item) {
          if (!item) return null;
          var draftOf = item.draft || { id: item.id, call: item.payload.call, values: item.payload, people: item.people };
          return { draft: draftOf, item: item };
        });
      });
    }).then(function (found) {
      if (found) {
        state.id = found.draft.id;
        state.call = found.draft.call || null;
        state.people = found.draft.people || [];
        state.fromOutbox = found.item;
        state.server = found.draft.server || null;
        fill(found.draft.values);
        if (window.ACSForms) window.ACSForms.restore(found.draft.forms || (found.item && found.item.forms));
        stateLine.textContent = t(found.fromServer ? "draft_from_server" : "draft_restored");
        document.getElementById("discard").hidden = !!found.item;
        if (found.item && found.item.error) {
          var box = document.getElementById("sync-refusal");
          box.hidden = false;
          var fields = Object.keys(found.item.error.fields || {}).map(function (k) {
            return k + ": " + [].concat(found.item.error.fields[k]).join(" ");
          });
          box.textContent = found.item.error.message + (fields.length ? " (" + fields.join("; ") + ")" : "");
        }
      } else {
        // A copy of this page may come from the service worker's cache: the client UUID is
        // always made here, never taken from the page.
        state.id = uuid();
        form.elements.client_id.value = state.id;
        state.call = params.get("call");
        if (params.get("unit")) form.elements.unit.value = params.get("unit");
        form.elements.occurred_at.value = localNow();
      }
      form.elements.client_id.value = state.id;
      showCall();
      renderPeople();
      // The unit and the disposition, set from the link or the draft, decide the forms bound.
      if (window.ACSForms) window.ACSForms.mark();
      // What each person's consent covers, as the server has it now (for the picker).
      state.people.forEach(function (person) { if (!person.sharing) loadSharing(person); });
    });
  }

  // --- resources: near me ----------------------------------------------------------------------
  function wireResources() {
    var near = document.getElementById("near-me");
    if (!near || !navigator.geolocation) return;
    near.hidden = false;
    near.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        document.getElementById("lat").value = pos.coords.latitude.toFixed(5);
        document.getElementById("lon").value = pos.coords.longitude.toFixed(5);
        document.getElementById("resource-search").submit();
      }, function () {}, { timeout: 10000, maximumAge: 60000 });
    });
  }

  // --- sign out: nothing of anyone's is left on the tablet ---------------------------------------
  function wireSignOut() {
    var form = document.getElementById("sign-out");
    if (!form) return;
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      idb.all("outbox").then(function (items) {
        var waiting = items.length;
        if (waiting && !window.confirm(t("signout_pending", { n: waiting }))) return null;
        return forget().then(function () { form.submit(); });
      }, function () { form.submit(); });
    });
  }
  function forget() {
    var steps = [];
    if (dbPromise) {
      steps.push(dbPromise.then(function (db) { db.close(); }));
    }
    return Promise.all(steps).then(function () {
      return new Promise(function (resolve) {
        var req = indexedDB.deleteDatabase(DB_NAME);
        req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
      });
    }).then(function () {
      if (!window.caches) return null;
      return caches.keys().then(function (keys) {
        return Promise.all(keys.map(function (k) { return caches.delete(k); }));
      });
    }).catch(function () {});
  }

  // --- idle: the server ends the session; the tablet forgets the pages it kept ---------------
  // Kept pages hold calls and addresses. After as long without a touch as the server allows
  // (SESSION_IDLE_TIMEOUT), they are deleted and the tablet goes to sign-in; drafts and the
  // outbox stay (they are this user's unsent work, and only this user's sign-in shows them).
  var IDLE_MS = (parseInt(body.dataset.idle, 10) || 1800) * 1000;
  var ACTIVITY_KEY = "acs-field-activity";
  function touch() { localStorage.setItem(ACTIVITY_KEY, String(Date.now())); }
  function idleCheck() {
    var last = parseInt(localStorage.getItem(ACTIVITY_KEY), 10);
    if (!last || Date.now() - last < IDLE_MS) return false;
    localStorage.removeItem(ACTIVITY_KEY);
    var done = window.caches ? caches.delete("acs-field-pages") : Promise.resolve();
    done.then(function () { location.href = body.dataset.login || "/accounts/login/"; });
    return true;
  }

  // --- start ----------------------------------------------------------------------------------
  function flash() {
    var message = sessionStorage.getItem("acs-flash");
    if (!message) return;
    sessionStorage.removeItem("acs-flash");
    var main = document.getElementById("main");
    var ul = document.createElement("ul");
    ul.className = "messages";
    var li = document.createElement("li");
    li.textContent = message;
    ul.appendChild(li);
    main.insertBefore(ul, main.firstChild);
  }
  function markCurrentNav() {
    document.querySelectorAll(".bar nav a").forEach(function (a) {
      if (a.pathname === location.pathname) a.setAttribute("aria-current", "page");
    });
  }

  if (idleCheck()) return;
  touch();
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, touch, { passive: true, capture: true });
  });
  setInterval(idleCheck, 60000);
  if ("serviceWorker" in navigator && body.dataset.sw) {
    navigator.serviceWorker.register(body.dataset.sw, { scope: "/field/" }).catch(function () {});
  }
  flash();
  markCurrentNav();
  wireStatusForms();
  wireCalls();
  wireEncounterForm();
  wireResources();
  wireSignOut();
  renderPending();
  render({});
  document.addEventListener("acs:synced", renderPending);
  window.addEventListener("online", function () { render({}); retryNow(); });
  window.addEventListener("offline", function () { render({}); });
  setInterval(function () { sync(true); }, 20000);
  sync(true);

  // For the browser tests and the curious: what is waiting, without opening devtools.
  window.acsField = { sync: sync, outbox: function () { return idb.all("outbox"); }, drafts: function () { return idb.all("drafts"); } };
})();
