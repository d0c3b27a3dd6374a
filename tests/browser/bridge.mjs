// A development stand-in for parleyd's http:// listener: it serves web/
// with the same Content-Security-Policy and bridges WebSocket /irc
// (subprotocol text.ircv3.net) to parleyd's irc:// port, one line per
// message. For working on the client before the server has its own
// endpoint, and for comparing the two; not the product.
//
//   node tests/browser/bridge.mjs --irc 127.0.0.1:6667 [--port 8081]
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';

const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.css': 'text/css; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.png': 'image/png' };

function csp(host) {
  return `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self' ws://${host} wss://${host}; frame-ancestors 'none'`;
}

async function serveFile(req, res) {
  const path = new URL(req.url, 'http://x').pathname;
  const rel = normalize(path === '/' ? '/index.html' : path);
  if (rel.includes('..')) return void res.writeHead(404).end();
  try {
    const body = await readFile(join(WEB_ROOT, rel));
    res.writeHead(200, {
      'Content-Type': TYPES[extname(rel)] || 'application/octet-stream',
      'Content-Security-Policy': csp(req.headers.host),
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-cache',
    });
    res.end(body);
  } catch {
    res.writeHead(404).end('not found');
  }
}

// startBridge listens on port (0: any) and bridges to ircHost:ircPort;
// it resolves to { port, close() }.
export function startBridge({ ircHost = '127.0.0.1', ircPort, port = 0 }) {
  const http = createServer(serveFile);
  const wss = new WebSocketServer({
    noServer: true,
    handleProtocols: (protocols) => (protocols.has('text.ircv3.net') ? 'text.ircv3.net' : false),
  });
  http.on('upgrade', (req, sock, head) => {
    if (new URL(req.url, 'http://x').pathname !== '/irc') return void sock.destroy();
    wss.handleUpgrade(req, sock, head, (ws) => bridge(ws));
  });
  function bridge(ws) {
    const tcp = connect(ircPort, ircHost);
    let buf = '';
    tcp.setEncoding('utf8');
    tcp.on('data', (d) => {
      buf += d;
      const lines = buf.split('\n');
      buf = lines.pop();
      for (const l of lines) if (ws.readyState === ws.OPEN) ws.send(l.replace(/\r$/, ''));
    });
    tcp.on('close', () => ws.close(1000));
    tcp.on('error', () => ws.close(1011));
    ws.on('message', (data) => tcp.write(String(data).replace(/[\r\n]/g, ' ') + '\r\n'));
    ws.on('close', () => tcp.end());
  }
  return new Promise((resolve) => {
    http.listen(port, '127.0.0.1', () =>
      resolve({
        port: http.address().port,
        close: () => {
          for (const c of wss.clients) c.terminate();
          http.closeAllConnections?.();
          return new Promise((r) => http.close(r));
        },
      }),
    );
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const arg = (name, d) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : d;
  };
  const [host, p] = arg('--irc', '127.0.0.1:6667').split(':');
  const b = await startBridge({ ircHost: host, ircPort: Number(p), port: Number(arg('--port', 8081)) });
  console.log(`bridge: http://127.0.0.1:${b.port}/ -> irc ${host}:${p}`);
}
