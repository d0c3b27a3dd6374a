// The connection to parleyd: IRC over WebSocket (subprotocol
// text.ircv3.net, one line per message) at /irc on the page's own host,
// reconnecting with capped exponential backoff and jitter.

export const BACKOFF_FIRST_MS = 1000;
export const BACKOFF_MAX_MS = 30000;

// backoffDelay gives the wait before reconnect attempt n (0, 1, ...):
// doubling from BACKOFF_FIRST_MS up to BACKOFF_MAX_MS, then a random part
// of it (between half and all) so that clients do not come back at once.
export function backoffDelay(n, random = Math.random) {
  const full = Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** Math.min(n, 16));
  return Math.round(full / 2 + (random() * full) / 2);
}

// ircUrl gives the endpoint for a page at location (ws: for http:, wss:
// for https:).
export function ircUrl(location) {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/irc`;
}

// Connection calls handlers.open() when connected, handlers.line(text) for
// each line, handlers.close(info) when the socket closes (info.retryInMs
// says when it tries again, or null when it will not) and
// handlers.status(text) as its state changes.
export class Connection {
  constructor(url, handlers) {
    this.url = url;
    this.handlers = handlers;
    this.ws = null;
    this.attempt = 0;
    this.timer = null;
    this.stopped = false;
  }

  // start opens the socket (again); a pending retry is cancelled.
  start() {
    clearTimeout(this.timer);
    this.stopped = false;
    this.handlers.status('connecting');
    const ws = new WebSocket(this.url, ['text.ircv3.net']);
    this.ws = ws;
    ws.onopen = () => this.handlers.open();
    ws.onmessage = (ev) => {
      if (typeof ev.data !== 'string') return;
      for (const line of ev.data.split(/\r?\n/)) if (line) this.handlers.line(line);
    };
    ws.onclose = (ev) => this.closed(ws, ev);
  }

  closed(ws, ev) {
    if (ws !== this.ws) return;
    this.ws = null;
    if (this.stopped) {
      this.handlers.close({ code: ev.code, retryInMs: null });
      return;
    }
    const delay = backoffDelay(this.attempt++);
    this.timer = setTimeout(() => this.start(), delay);
    this.handlers.close({ code: ev.code, retryInMs: delay });
  }

  // registered resets the backoff: the server took us in.
  registered() {
    this.attempt = 0;
  }

  // send writes one line; it is dropped while disconnected.
  send(line) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(line);
      return true;
    }
    return false;
  }

  // stop closes the socket and does not reconnect (after /quit).
  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
    else this.handlers.close({ code: 1000, retryInMs: null });
  }

  connected() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }
}
