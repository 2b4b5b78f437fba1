// Merging a delta (cases/board/selectors/updates.py board_delta) into the board's snapshot.

function byId(list) {
  const index = {};
  list.forEach(function (item) {
    index[item.id] = item;
  });
  return index;
}

// Each call's units, in call-sign order, from the units' current calls (the server's rule
// in board_snapshot; a delta's calls do not carry them).
function fillCallUnits(snapshot) {
  const calls = byId(snapshot.calls);
  snapshot.calls.forEach(function (c) {
    c.units = [];
  });
  snapshot.units.forEach(function (u) {
    if (u.call && calls[u.call]) calls[u.call].units.push(u.call_sign);
  });
}

// Merges `delta` into `snapshot` in place; true when the merged board has the server's
// numbers of open calls and units.
export function merge(snapshot, delta) {
  const removed = {};
  delta.removed_calls.forEach(function (id) {
    removed[id] = true;
  });
  const changedCalls = byId(delta.calls);
  const calls = snapshot.calls.filter(function (c) {
    return !removed[c.id] && !changedCalls[c.id];
  });
  snapshot.calls = calls.concat(delta.calls).sort(function (a, b) {
    return a.received_ms - b.received_ms || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  });
  const changedUnits = byId(delta.units);
  snapshot.units = snapshot.units
    .filter(function (u) {
      return !changedUnits[u.id];
    })
    .concat(delta.units)
    .sort(function (a, b) {
      return a.call_sign < b.call_sign ? -1 : a.call_sign > b.call_sign ? 1 : 0;
    });
  fillCallUnits(snapshot);
  if (delta.resources) snapshot.resources = delta.resources;
  ["version", "now", "now_ms", "thresholds", "figures", "counts"].forEach(function (key) {
    snapshot[key] = delta[key];
  });
  return (
    snapshot.calls.length === delta.counts.calls && snapshot.units.length === delta.counts.units
  );
}
