// Slash commands typed in the message box. Each one turns into IRC lines
// (labelled, so that replies show where it was typed) or a local action.
// An unknown command is refused with a local error: /quote sends a raw
// line for anything not listed here.
import { isChannel, messageBodies } from './irc.js';

export const HELP = [
  '/join #room [key]  /part [#room] [reason]  /query nick  /msg nick text',
  '/me action  /nick newnick  /topic [text]  /away [message]  /quit [reason]',
  '/who mask  /whois nick  /kick nick [reason]  /mode [target] modes  /invite nick [#room]',
  '/list [mask]  /close (leave a conversation)  /quote RAW LINE  /help',
  'Keys: Enter sends, Up recalls your last line, Alt+Up/Down or Ctrl+K switch rooms, Escape closes drawers.',
];

// say sends text to buffer b's target as one or more PRIVMSGs.
export function say(app, b, text, action = false) {
  if (b.kind === 'server') return app.client.system(b, 'This is the server buffer: join a room (/join #room) or /msg someone.', {}, 'error');
  for (const body of messageBodies(b.name, text, action)) {
    if (!app.command('PRIVMSG', [b.name, body])) return;
  }
  if (!app.client.caps.has('echo-message')) {
    app.state.addMessage(b, { kind: action ? 'action' : 'privmsg', nick: app.state.nick, text, self: true });
  }
}

function chan(app, arg) {
  const b = app.state.current;
  if (arg && isChannel(arg)) return arg;
  return b.kind === 'channel' ? b.name : null;
}

const COMMANDS = {
  join(app, args) {
    if (!args[0]) return 'usage: /join #room [key]';
    const name = args[0].startsWith('#') ? args[0] : '#' + args[0];
    app.selectOnJoin = name;
    app.command('JOIN', args[1] ? [name, args[1]] : [name]);
  },
  part(app, args, rest) {
    const c = chan(app, args[0]);
    if (!c) return 'usage: /part #room [reason]';
    const reason = isChannel(args[0]) ? rest.slice(args[0].length).trim() : rest;
    app.command('PART', reason ? [c, reason] : [c]);
  },
  msg(app, args, rest) {
    if (!args[0] || args.length < 2) return 'usage: /msg nick text';
    const b = app.state.buffer(args[0]);
    say(app, b, rest.slice(args[0].length + 1));
  },
  query(app, args, rest) {
    if (!args[0] || isChannel(args[0])) return 'usage: /query nick [text]';
    const b = app.state.buffer(args[0], 'query');
    app.state.select(b);
    if (args.length > 1) say(app, b, rest.slice(args[0].length + 1));
  },
  me(app, args, rest) {
    if (!rest) return 'usage: /me action';
    say(app, app.state.current, rest, true);
  },
  nick(app, args) {
    if (!args[0]) return 'usage: /nick newnick';
    app.command('NICK', [args[0]]);
  },
  topic(app, args, rest) {
    const c = chan(app, args[0]);
    if (!c) return 'usage: /topic [#room] [new topic]';
    const text = isChannel(args[0]) ? rest.slice(args[0].length).trim() : rest;
    app.command('TOPIC', text ? [c, text] : [c]);
  },
  away(app, args, rest) {
    app.command('AWAY', rest ? [rest] : []);
  },
  quit(app, args, rest) {
    app.quit(rest || 'Leaving');
  },
  who(app, args) {
    const mask = args[0] || chan(app);
    if (!mask) return 'usage: /who mask';
    app.command('WHO', [mask]);
  },
  whois(app, args) {
    if (!args[0]) return 'usage: /whois nick';
    app.command('WHOIS', [args[0]]);
  },
  kick(app, args, rest) {
    const c = chan(app, args[0]);
    const a = isChannel(args[0]) ? args.slice(1) : args;
    if (!c || !a[0]) return 'usage: /kick [#room] nick [reason]';
    const reason = rest.slice(rest.indexOf(a[0]) + a[0].length).trim();
    app.command('KICK', reason ? [c, a[0], reason] : [c, a[0]]);
  },
  mode(app, args) {
    const target = args[0] && (isChannel(args[0]) || !/^[+-]/.test(args[0])) ? args[0] : chan(app);
    if (!target) return 'usage: /mode [target] modes';
    app.command('MODE', [target, ...(target === args[0] ? args.slice(1) : args)]);
  },
  invite(app, args) {
    const c = chan(app, args[1]);
    if (!args[0] || !c) return 'usage: /invite nick [#room]';
    app.command('INVITE', [args[0], c]);
  },
  list(app, args) {
    app.command('LIST', args.length ? [args.join(',')] : []);
  },
  close(app) {
    const b = app.state.current;
    if (b.kind === 'channel' && b.joined) return COMMANDS.part(app, [], '');
    app.state.remove(b);
  },
  quote(app, args, rest) {
    if (!rest) return 'usage: /quote RAW IRC LINE';
    app.send(rest);
  },
  help(app) {
    for (const line of HELP) app.client.system(app.state.current, line);
  },
};
COMMANDS.j = COMMANDS.join;
COMMANDS.leave = COMMANDS.part;
COMMANDS.raw = COMMANDS.quote;
COMMANDS.q = COMMANDS.query;

// run handles one line from the message box: a command if it starts with
// "/" (but "//text" says "/text"), otherwise a message to the current
// buffer.
export function run(app, line) {
  if (!line.startsWith('/') || line.startsWith('//')) {
    say(app, app.state.current, line.startsWith('//') ? line.slice(1) : line);
    return;
  }
  const rest = line.slice(1).replace(/^\S+\s?/, '');
  const name = line.slice(1).split(/\s/, 1)[0].toLowerCase();
  const args = rest.split(/\s+/).filter(Boolean);
  const fn = COMMANDS[name];
  const error = fn ? fn(app, args, rest.trim()) : `unknown command /${name}: see /help, or send it raw with /quote`;
  if (error) app.client.system(app.state.current, error, {}, 'error');
}
