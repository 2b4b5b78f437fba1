/* IndexedDB, one database per user on the tablet: drafts, the outbox, meta (last synced, sign-in
 * needed). Signing out deletes it (session.js). */

var DB_NAME = "acs-field-" + (document.body.dataset.user || "anonymous");

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
export var idb = {
  get: function (s, key) { return store(s, "readonly", function (os) { return os.get(key); }); },
  put: function (s, value) { return store(s, "readwrite", function (os) { return os.put(value); }); },
  del: function (s, key) { return store(s, "readwrite", function (os) { return os.delete(key); }); },
  all: function (s) { return store(s, "readonly", function (os) { return os.getAll(); }); },
};

export function setMeta(key, value) { return idb.put("meta", { key: key, value: value }); }
export function getMeta(key) { return idb.get("meta", key).then(function (r) { return r ? r.value : null; }); }
// The database closed and deleted (signing out): nothing of anyone's is left on the tablet.
export function deleteDb() {
  var closed = dbPromise ? dbPromise.then(function (db) { db.close(); }) : Promise.resolve();
  return closed.then(function () {
    return new Promise(function (resolve) {
      var req = indexedDB.deleteDatabase(DB_NAME);
      req.onsuccess = req.onerror = req.onblocked = function () { resolve(); };
    });
  });
}
