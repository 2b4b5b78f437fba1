// The board's state, shared by its modules: the snapshot it shows (replaced or merged by each
// poll), the server's clock skew, the selection, and the rows and map marks drawn for it.

const config = JSON.parse(document.getElementById("board-config").textContent);

export const state = {
  config: config,
  snapshot: JSON.parse(document.getElementById("board-snapshot").textContent),
  skew: 0,
  selected: null, // {kind: "call"|"unit"|"resource", id}
  rows: {}, // "kind:id" -> <tr>
  marks: {}, // "kind:id" -> Leaflet layer
};
state.skew = state.snapshot.now_ms - Date.now();

export function serverNow() {
  return Date.now() + state.skew;
}

const STRINGS = {};
document
  .getElementById("board-i18n")
  .content.querySelectorAll("[data-key]")
  .forEach(function (el) {
    STRINGS[el.dataset.key] = el.textContent.trim();
  });

// The page's translated string for `key` (templates/cases/board/board.html's board-i18n).
export function t(key) {
  return STRINGS[key] || key;
}
