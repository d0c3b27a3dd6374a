// IRC lines: parsing what the server sends, formatting what we send, and
// the small pieces of IRC that every view needs (CTCP ACTION, formatting
// codes, nick case). Pure functions with no DOM, so node --test runs them.

const TAG_ESCAPES = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

// unescapeTag turns an IRCv3 tag value back into its text.
export function unescapeTag(value) {
  return value.replace(/\\(.?)/g, (_, c) => (c in TAG_ESCAPES ? TAG_ESCAPES[c] : c));
}

// escapeTag is unescapeTag's inverse, for tags we send (labels).
export function escapeTag(value) {
  return value.replace(/[\\; \r\n]/g, (c) => ({ '\\': '\\\\', ';': '\\:', ' ': '\\s', '\r': '\\r', '\n': '\\n' })[c]);
}

// parseSource splits "nick!user@host" (or a server name) into its parts.
export function parseSource(source) {
  const m = /^([^!@]*)(?:!([^@]*))?(?:@(.*))?$/.exec(source || '');
  return { nick: m[1], user: m[2] || '', host: m[3] || '' };
}

// parseLine reads one IRC line (without CRLF) into
// { tags, source, nick, user, host, command, params }; the command is in
// upper case. A line with no command gives null.
export function parseLine(line) {
  let rest = line.replace(/[\r\n]+$/, '');
  const tags = {};
  if (rest.startsWith('@')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return null;
    for (const item of rest.slice(1, sp).split(';')) {
      if (!item) continue;
      const eq = item.indexOf('=');
      if (eq < 0) tags[item] = '';
      else tags[item.slice(0, eq)] = unescapeTag(item.slice(eq + 1));
    }
    rest = rest.slice(sp + 1);
  }
  rest = rest.replace(/^ +/, '');
  let source = '';
  if (rest.startsWith(':')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return null;
    source = rest.slice(1, sp);
    rest = rest.slice(sp + 1);
  }
  const params = [];
  while (rest.length) {
    rest = rest.replace(/^ +/, '');
    if (!rest.length) break;
    if (rest.startsWith(':')) {
      params.push(rest.slice(1));
      break;
    }
    const sp = rest.indexOf(' ');
    if (sp < 0) {
      params.push(rest);
      break;
    }
    params.push(rest.slice(0, sp));
    rest = rest.slice(sp + 1);
  }
  if (!params.length) return null;
  const command = params.shift().toUpperCase();
  return { tags, source, ...parseSource(source), command, params };
}

// formatLine builds a line from a command and its parameters: the last
// one is sent with a ':' when it needs one; the others lose their spaces
// and leading colons (an empty one is left out), so that each stays one
// parameter. CR, LF and NUL never get into a line: they are replaced by
// spaces. tags (optional) are sent first.
export function formatLine(command, params = [], tags = {}) {
  const clean = (s) => String(s).replace(/[\r\n\0]/g, ' ');
  const out = [];
  const tagText = Object.entries(tags)
    .map(([k, v]) => (v === '' || v === true ? k : `${k}=${escapeTag(String(v))}`))
    .join(';');
  if (tagText) out.push('@' + tagText);
  out.push(command);
  params.forEach((p, i) => {
    const s = clean(p);
    const last = i === params.length - 1;
    if (last && (s === '' || s.includes(' ') || s.startsWith(':'))) out.push(':' + s);
    else {
      const middle = s.replace(/ /g, '').replace(/^:+/, '');
      if (middle) out.push(middle);
    }
  });
  return out.join(' ');
}

// isChannel says whether a target names a channel (CHANTYPES=#, and the
// STATUSMSG prefixes @ and + in front of one).
export function isChannel(target) {
  return /^[@+]*#/.test(target || '');
}

// lower folds a nick or channel for comparison (CASEMAPPING=ascii).
export function lower(name) {
  return String(name).replace(/[A-Z]/g, (c) => c.toLowerCase());
}

// parseCtcp reads a PRIVMSG body: { action: true, text } for
// "\x01ACTION text\x01", { ctcp: 'VERSION', text } for another CTCP, or
// { text } for plain text.
export function parseCtcp(body) {
  const m = /^\x01([A-Z]+)(?: ([^\x01]*))?\x01?$/.exec(body);
  if (!m) return { text: body };
  if (m[1] === 'ACTION') return { action: true, text: m[2] || '' };
  return { ctcp: m[1], text: m[2] || '' };
}

// stripFormatting removes IRC's bold, colour, italics, underline, reverse,
// strike, monospace and reset codes, so that the text shows as text.
export function stripFormatting(text) {
  return text.replace(/\x03(\d{1,2}(,\d{1,2})?)?|\x04([0-9a-fA-F]{6}(,[0-9a-fA-F]{6})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g, '');
}

// splitUtf8 cuts text into pieces of at most maxBytes UTF-8 bytes each,
// between characters (never inside a surrogate pair).
export function splitUtf8(text, maxBytes) {
  const parts = [];
  let cur = '';
  let bytes = 0;
  for (const ch of text) {
    const n = new TextEncoder().encode(ch).length;
    if (bytes + n > maxBytes && cur) {
      parts.push(cur);
      cur = '';
      bytes = 0;
    }
    cur += ch;
    bytes += n;
  }
  if (cur || !parts.length) parts.push(cur);
  return parts;
}

// messageBodies gives the PRIVMSG bodies that say text to target, each
// short enough for the server to relay whole (512 bytes with our source).
export function messageBodies(target, text, action = false) {
  const room = 400 - new TextEncoder().encode(target).length;
  return splitUtf8(text, action ? room - 9 : room).map((part) => (action ? `\x01ACTION ${part}\x01` : part));
}

// isoNow gives the current time as IRCv3 server-time spells it.
export function isoNow() {
  return new Date().toISOString();
}
