// Put the agreed agenda into an event body between two visible marker lines, keeping the
// user's own text. Pure: no DOM, no Office. The server does the same for calendars it writes,
// and both pass the vectors in tests/data/splice_cases.json.
//
// The block written is  <p>START</p> + copy + <p>END</p>  (markers HTML-escaped).
// - Markers are found as text; a space in a marker also matches any run of whitespace or
//   &nbsp; (mail clients turn spaces into non-breaking ones).
// - The block replaced is the LAST end marker with the LAST start marker before it; a stray
//   marker elsewhere (one the user half deleted) never swallows the user's text.
// - The replaced span grows outwards over the tags that wrap both markers alike
//   (<p><span>START</span></p> ... <p><span>END</span></p>), pair by pair, so the body stays
//   balanced. Empty elements right after the end marker (<o:p></o:p>) belong to its line.
// - No markers: the block goes before the last </body>, or at the end when there is none.
// - Marker text inside the copy itself (a user typed it in an agenda item) is neutralised by
//   writing its first character as a numeric reference, so it can never be found later.

const VOID = new Set([
  "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
  "track", "wbr",
]);
const SPACE = "(?:\\s|&nbsp;|&#160;|&#xa0;|\\u00a0)+";
const MAX_WRAPPERS = 8;

/** HTML-escape text for element content or a double-quoted attribute. */
export function escapeHtml(text) {
  return String(text)
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

function escapeRegExp(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** A global, case-sensitive pattern for a marker as it may appear in HTML. */
export function markerPattern(marker) {
  const words = escapeHtml(marker.trim()).split(/\s+/).map(escapeRegExp);
  return new RegExp(words.join(SPACE), "g");
}

function matches(text, pattern) {
  pattern.lastIndex = 0;
  return [...text.matchAll(pattern)].map((m) => ({ index: m.index, end: m.index + m[0].length }));
}

/** The copy with any marker text in it made unfindable. */
export function neutralise(html, markers) {
  let result = html;
  for (const marker of [markers.start, markers.end]) {
    result = result.replace(markerPattern(marker), (found) => {
      const code = found.codePointAt(0);
      return `&#${code};${found.slice(String.fromCodePoint(code).length)}`;
    });
  }
  return result;
}

/** The block that goes into the body: marker lines around the copy. */
export function markerBlock(html, markers) {
  return `<p>${escapeHtml(markers.start)}</p>${neutralise(html, markers)}<p>${escapeHtml(markers.end)}</p>`;
}

/** The last end marker that has a start marker before it, with that start; or null. */
function lastPair(body, markers) {
  const ends = matches(body, markerPattern(markers.end));
  for (let i = ends.length - 1; i >= 0; i -= 1) {
    const starts = matches(body.slice(0, ends[i].index), markerPattern(markers.start));
    if (starts.length) return { start: starts[starts.length - 1], end: ends[i] };
  }
  return null;
}

const OPEN_BEFORE = /<([a-zA-Z][\w:.-]*)\b[^<>]*>\s*$/;
const CLOSE_AFTER = /^\s*<\/([a-zA-Z][\w:.-]*)\s*>/;
const EMPTY_AFTER = /^\s*<([a-zA-Z][\w:.-]*)\b[^<>]*>\s*<\/\1\s*>/;

/** Opening tags right before `at`, innermost first: [{name, index}]. */
function openersBefore(body, at) {
  const found = [];
  let head = body.slice(0, at);
  while (found.length < MAX_WRAPPERS) {
    const m = OPEN_BEFORE.exec(head);
    if (!m || m[0].trimEnd().endsWith("/>") || VOID.has(m[1].toLowerCase())) break;
    found.push({ name: m[1].toLowerCase(), index: m.index });
    head = head.slice(0, m.index);
  }
  return found;
}

/** Closing tags right after `at` (skipping empty elements), innermost first: [{name, end}]. */
function closersAfter(body, at) {
  const found = [];
  let pos = at;
  for (let step = 0; step < MAX_WRAPPERS * 2 && found.length < MAX_WRAPPERS; step += 1) {
    const tail = body.slice(pos);
    const empty = EMPTY_AFTER.exec(tail);
    if (empty) {
      pos += empty[0].length;
      continue;
    }
    const m = CLOSE_AFTER.exec(tail);
    if (!m) break;
    pos += m[0].length;
    found.push({ name: m[1].toLowerCase(), end: pos });
  }
  return found;
}

/** The body with the copy between the markers (or appended with its markers). */
export function splice(body, html, markers) {
  const source = String(body ?? "");
  const block = markerBlock(String(html ?? ""), markers);
  const pair = lastPair(source, markers);
  if (!pair) {
    const close = source.toLowerCase().lastIndexOf("</body>");
    if (close === -1) return source + block;
    return source.slice(0, close) + block + source.slice(close);
  }
  const openers = openersBefore(source, pair.start.index);
  const closers = closersAfter(source, pair.end.end);
  let left = pair.start.index;
  let right = pair.end.end;
  for (let i = 0; i < Math.min(openers.length, closers.length); i += 1) {
    if (openers[i].name !== closers[i].name) break;
    left = openers[i].index;
    right = closers[i].end;
  }
  return source.slice(0, left) + block + source.slice(right);
}
