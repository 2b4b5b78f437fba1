// The urgency rule (mirrors cases/board/selectors/urgency.py call_urgency) and the ages shown.

export const WAITING = { received: true, pending: true };
const ON_SCENE_STEPS = { on_scene: true, transporting: true, escalated: true };

function limitMinutes(call, th) {
  if (ON_SCENE_STEPS[call.status]) return th.on_scene_minutes;
  const limit = th.pending_minutes[String(call.priority)];
  if (limit) return limit;
  return Math.max.apply(null, Object.values(th.pending_minutes));
}

export function urgency(call, th, now) {
  const waiting = Boolean(WAITING[call.status]);
  const from = waiting ? call.received_ms : call.step_ms;
  const minutes = Math.max(now - from, 0) / 60000;
  const returnAt = th.return_minutes - th.return_warning_minutes;
  return {
    share: minutes / limitMinutes(call, th),
    returning: waiting && minutes >= returnAt,
    returnIn: th.return_minutes - minutes,
  };
}

export function level(share) {
  return share >= 1 ? "over" : share >= 0.75 ? "warn" : "ok";
}

// No value: null (the server's "none") or undefined (a key the answer left out).
export function missing(value) {
  return value === null || value === undefined;
}

export function duration(ms) {
  if (missing(ms) || isNaN(ms)) return "–";
  const s = Math.max(Math.round(ms / 1000), 0);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (h) return h + " h " + (m < 10 ? "0" : "") + m + " min";
  if (m) return m + " min";
  return s + " s";
}

export function since(ms, now) {
  return ms ? duration(now - Number(ms)) : "–";
}
