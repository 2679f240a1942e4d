// What the pane offers the reader: exactly the steps the server's context allows (its `can`
// lists, decided by the domain). The pane decides nothing itself; the rendering asks `offers`.
// tests/data/can_cases.json holds the pane and the Google cards to the same answers.

const cache = new WeakMap();

function list(thing) {
  return (thing && thing.can) || [];
}

/**
 * Every step the pane shows for this context, as keys: "agenda.share", "item.i1.remove",
 * "agreement.ag1.accept", "action.ac1.mark_done", "carried.ca1.mark_done", "record.accept_all",
 * "series.change_place". Before the conversation the agenda's steps; after it the record's.
 */
export function offered(ctx) {
  const keys = [];
  const can = (ctx && ctx.can) || {};
  const agenda = (ctx && ctx.agenda) || {};
  const ended = ctx && ctx.state === "ended";
  if (!ended) {
    for (const step of can.agenda || []) keys.push(`agenda.${step}`);
    for (const item of agenda.items || []) {
      for (const step of list(item)) keys.push(`item.${item.id}.${step}`);
    }
    for (const step of can.series || []) keys.push(`series.${step}`);
  } else {
    const record = (ctx && ctx.record) || {};
    for (const step of can.record || []) keys.push(`record.${step}`);
    for (const agreement of record.agreements || []) {
      for (const step of list(agreement)) keys.push(`agreement.${agreement.id}.${step}`);
    }
    for (const action of record.actions || []) {
      for (const step of list(action)) keys.push(`action.${action.id}.${step}`);
    }
  }
  for (const action of agenda.actions || []) {
    for (const step of list(action)) keys.push(`carried.${action.id}.${step}`);
  }
  return keys;
}

/** True when the pane offers `key` (see `offered`) for this context. */
export function offers(ctx, key) {
  let found = cache.get(ctx);
  if (!found) {
    found = new Set(offered(ctx));
    cache.set(ctx, found);
  }
  return found.has(key);
}
