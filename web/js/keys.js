// Keyboard and pointer navigation: the room list, the drawers of the
// narrow layout, Alt+Up/Down and Ctrl+K to switch rooms, Escape to close,
// Up and Down in the message box to recall lines sent before.
const $ = (id) => document.getElementById(id);

function setDrawer(id, open) {
  const drawer = $(id);
  drawer.classList.toggle('open', open);
  $(`${id}-toggle`).setAttribute('aria-expanded', String(open));
  const any = $('rooms').classList.contains('open') || $('members').classList.contains('open');
  $('scrim').hidden = !any;
  if (open) (drawer.querySelector('[aria-current], a, input, li') || drawer).focus?.();
}

function closeDrawers() {
  const wasOpen = !$('scrim').hidden;
  setDrawer('rooms', false);
  setDrawer('members', false);
  return wasOpen;
}

// step selects the buffer delta places away in the room list.
function step(app, delta) {
  const list = app.state.list();
  const i = list.indexOf(app.state.current);
  app.state.select(list[(i + delta + list.length) % list.length]);
}

function initSwitcher(app) {
  const dlg = $('switcher');
  const input = $('switch-input');
  const matches = () => app.state.list().filter((b) => b.key.includes(input.value.trim().toLowerCase()));
  const draw = () => {
    $('switch-list').replaceChildren(
      ...matches().map((b) => {
        const li = document.createElement('li');
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.textContent = b.kind === 'server' ? 'server' : b.name;
        btn.addEventListener('click', () => go(b));
        li.append(btn);
        return li;
      }),
    );
  };
  const go = (b) => {
    dlg.close();
    app.state.select(b);
    $('input').focus();
  };
  input.addEventListener('input', draw);
  $('switch-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const m = matches();
    if (m.length) go(m[0]);
  });
  return () => {
    input.value = '';
    draw();
    dlg.showModal();
    input.focus();
  };
}

function initRecall(app) {
  app.recall = [];
  let at = 0;
  $('input').addEventListener('keydown', (ev) => {
    const input = ev.target;
    if (ev.altKey || ev.ctrlKey || ev.metaKey) return;
    if (ev.key === 'ArrowUp' && (input.value === '' || input.value === app.recall[at])) {
      if (input.value === '') at = app.recall.length;
      if (at > 0) input.value = app.recall[--at];
      ev.preventDefault();
    } else if (ev.key === 'ArrowDown' && input.value === app.recall[at]) {
      at++;
      input.value = at < app.recall.length ? app.recall[at] : '';
      ev.preventDefault();
    }
  });
}

// initKeys installs the handlers; app is the page's app object.
export function initKeys(app) {
  const openSwitcher = initSwitcher(app);
  initRecall(app);
  $('rooms-toggle').addEventListener('click', () => setDrawer('rooms', !$('rooms').classList.contains('open')));
  $('members-toggle').addEventListener('click', () => setDrawer('members', !$('members').classList.contains('open')));
  $('scrim').addEventListener('click', closeDrawers);
  $('room-list').addEventListener('click', (ev) => {
    const a = ev.target.closest('a[data-key]');
    if (!a) return;
    ev.preventDefault();
    const b = app.state.buffers.get(a.dataset.key);
    if (b) app.state.select(b);
    closeDrawers();
    $('input').focus();
  });
  document.addEventListener('keydown', (ev) => {
    if (ev.altKey && (ev.key === 'ArrowUp' || ev.key === 'ArrowDown')) {
      ev.preventDefault();
      step(app, ev.key === 'ArrowUp' ? -1 : 1);
    } else if ((ev.ctrlKey || ev.metaKey) && ev.key.toLowerCase() === 'k') {
      ev.preventDefault();
      openSwitcher();
    } else if (ev.key === 'Escape' && closeDrawers()) {
      ev.preventDefault();
      $('input').focus();
    }
  });
}
