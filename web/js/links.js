// Finding links in message text. findLinks gives the text as a list of
// pieces, { text } or { text, href }, for the view to build as DOM nodes:
// text stays text, and only http: and https: URLs ever become links.

const URL_RE = /\bhttps?:\/\/[^\s<>"'\u0000-\u001f\u007f\u200e\u200f\u202a-\u202e\u2066-\u2069]+/giu;

// trimUrl drops what is more likely the sentence's than the URL's:
// trailing punctuation, and closing brackets without an opening one.
function trimUrl(url) {
  for (;;) {
    const last = url.slice(-1);
    if (/[.,;:!?*'"]/.test(last)) url = url.slice(0, -1);
    else if (last === ')' && count(url, '(') < count(url, ')')) url = url.slice(0, -1);
    else if (last === ']' && count(url, '[') < count(url, ']')) url = url.slice(0, -1);
    else return url;
  }
}

function count(s, ch) {
  return s.split(ch).length - 1;
}

// safeHref gives the normalised URL if it is a valid http(s) URL.
export function safeHref(text) {
  try {
    const u = new URL(text);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
  } catch {
    return null;
  }
}

// findLinks splits text into pieces; concatenating their text gives back
// the input exactly.
export function findLinks(text) {
  const pieces = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = trimUrl(m[0]);
    const href = url.length > 'https://'.length - 1 ? safeHref(url) : null;
    if (!href) continue;
    if (m.index > at) pieces.push({ text: text.slice(at, m.index) });
    pieces.push({ text: url, href });
    at = m.index + url.length;
  }
  if (at < text.length || !pieces.length) pieces.push({ text: text.slice(at) });
  return pieces;
}
