// The Paas dashboard: plain modern JS, no framework, no build step. Every number it shows comes from the
// ordinary /v1 API with the session cookie; changes carry the session's CSRF token in a header.

const state = { session: null, cleanups: [] };
const main = document.getElementById('main');

// ---- small DOM helpers (text only through textContent: names and log lines are never parsed as HTML) ----
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = value;
    else el.setAttribute(key, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}
const SVG = 'http://www.w3.org/2000/svg';
function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
  for (const child of children.flat()) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

function showError(message) {
  const box = document.getElementById('error');
  box.textContent = message || '';
  box.hidden = !message;
}

// ---- the API ----
async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && state.session) headers['X-CSRF-Token'] = state.session.csrf_token;
  const response = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  if (response.status === 401 && path !== '/dashboard/session') {
    state.session = null;
    renderLogin('Your session has ended: log in again.');
    throw new Error('Your session has ended: log in again.');
  }
  if (!response.ok) {
    let message = `The platform answered ${response.status}.`;
    try { message = (await response.json()).message || message; } catch { /* not JSON: keep the status */ }
    throw new Error(message);
  }
  return response.status === 204 ? null : response.json();
}
const enc = encodeURIComponent;

// Runs an action from a button or form: shows its progress, and the API's one sentence when it fails.
async function act(button, busyText, action) {
  showError('');
  const label = button?.textContent;
  if (button) { button.disabled = true; button.textContent = busyText; }
  try { return await action(); }
  catch (e) { showError(e.message); return undefined; }
  finally { if (button) { button.disabled = false; button.textContent = label; } }
}

// ---- pages ----
function leavePage() {
  for (const cleanup of state.cleanups.splice(0)) cleanup();
}
function page(title, ...content) {
  leavePage();
  document.title = `${title} · Paas`;
  main.replaceChildren(...content.filter(Boolean));
  main.focus({ preventScroll: true });
}

function renderLogin(message) {
  leavePage();
  document.getElementById('nav').hidden = true;
  document.getElementById('who').hidden = true;
  const input = h('input', { id: 'token', name: 'token', type: 'password', autocomplete: 'current-password', required: true, 'aria-describedby': 'token-help' });
  const form = h('form', { class: 'card login', 'aria-labelledby': 'login-title' },
    h('h1', { id: 'login-title' }, 'Log in to Paas'),
    h('label', { for: 'token' }, 'API token'),
    input,
    h('p', { id: 'token-help', class: 'muted' }, 'Your token is what `paas login` saved, or one from `paas tokens:create`. It is sent once; the browser keeps a session cookie for an hour.'),
    h('button', { type: 'submit' }, 'Log in'));
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const session = await act(form.querySelector('button'), 'Logging in…', () => api('POST', '/dashboard/session', { token: input.value }));
    input.value = '';
    if (session) { setSession(session); route(); }
  });
  document.title = 'Log in · Paas';
  main.replaceChildren(form);
  showError(message || '');
  input.focus();
}

function setSession(session) {
  state.session = session;
  document.getElementById('nav').hidden = false;
  document.getElementById('nav-cells').hidden = !session.operator;
  document.getElementById('who').hidden = false;
  document.getElementById('who-name').textContent = `${session.user}${session.operator ? ' (operator)' : ''}`;
}

// ---- apps list ----
async function renderApps() {
  const started = performance.now();
  const apps = [];
  for (let path = '/v1/apps?limit=1000'; path;) {
    const response = await fetch(path, { credentials: 'same-origin' });
    if (!response.ok) throw new Error((await response.json()).message);
    apps.push(...await response.json());
    path = /<([^>]+)>;\s*rel="next"/.exec(response.headers.get('Link') || '')?.[1];
  }
  const rows = apps.map(app => h('tr', { 'data-app': app.name },
    h('th', { scope: 'row' }, h('a', { href: `#/apps/${enc(app.name)}` }, app.name)),
    h('td', {}, app.release ? h('span', { class: 'badge ok' }, `deployed v${app.release}`) : h('span', { class: 'badge' }, 'not deployed')),
    h('td', { class: 'hide-narrow' }, app.owner),
    h('td', { class: 'spark', 'data-spark': app.name }, h('span', { class: 'muted' }, '…'))));
  page('Apps',
    h('div', { class: 'heading' }, h('h1', {}, 'Apps'), h('span', { class: 'muted', id: 'apps-count' }, `${apps.length} app${apps.length === 1 ? '' : 's'}`)),
    apps.length === 0
      ? h('p', { class: 'card' }, 'No apps yet. Create one with `paas apps:create NAME`, then push to its git URL.')
      : h('table', { class: 'list', id: 'apps' },
          h('caption', { class: 'sr-only' }, 'Your apps, their state and requests over the last hour'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'App'), h('th', { scope: 'col' }, 'State'),
            h('th', { scope: 'col', class: 'hide-narrow' }, 'Owner'), h('th', { scope: 'col' }, 'Requests (1 h)'))),
          h('tbody', {}, rows)));
  main.dataset.loadMs = Math.round(performance.now() - started);
  loadSparklines(apps.filter(a => a.release).map(a => a.name));
}

// Sparklines load after the list is shown, a few at a time, visible rows first: 200 apps must not hold up the page.
function loadSparklines(names) {
  let cancelled = false;
  state.cleanups.push(() => { cancelled = true; });
  for (const cell of document.querySelectorAll('[data-spark]'))
    if (!names.includes(cell.dataset.spark)) cell.replaceChildren(h('span', { class: 'muted' }, '—'));
  const queue = [...names];
  const worker = async () => {
    while (!cancelled && queue.length) {
      const name = queue.shift();
      const cell = document.querySelector(`[data-spark="${CSS.escape(name)}"]`);
      try {
        const metrics = await api('GET', `/v1/apps/${enc(name)}/metrics?since=1h`);
        if (!cancelled && cell) cell.replaceChildren(sparkline(metrics));
      } catch { if (cell) cell.replaceChildren(h('span', { class: 'muted' }, '?')); }
    }
  };
  for (let i = 0; i < 4; i++) worker();
}

function sparkline(metrics) {
  if (!metrics.summary || metrics.points.length === 0) return h('span', { class: 'muted' }, 'no traffic');
  const values = metrics.points.map(p => p.requests);
  const max = Math.max(1, ...values);
  const width = 120, height = 24;
  const step = values.length > 1 ? width / (values.length - 1) : width;
  const points = values.map((v, i) => `${(i * step).toFixed(1)},${(height - 2 - (v / max) * (height - 4)).toFixed(1)}`).join(' ');
  return h('span', { class: 'sparkline' },
    s('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${metrics.summary.requests} requests in the last hour` },
      values.length > 1
        ? s('polyline', { points, fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 })
        : s('circle', { cx: width - 3, cy: 3, r: 2.5, fill: 'currentColor' })),
    h('span', { class: 'muted' }, ` ${metrics.summary.requests}`));
}

// ---- app page ----
async function renderApp(name) {
  const app = await api('GET', `/v1/apps/${enc(name)}`);
  const sections = h('div', { class: 'sections' });
  page(app.name,
    h('div', { class: 'heading' },
      h('h1', {}, app.name),
      h('a', { href: app.web_url, target: '_blank', rel: 'noopener' }, app.web_url)),
    h('p', { class: 'muted' }, `Owner ${app.owner} · git ${app.git_url}`),
    app.release ? null : howToDeploy(app),
    sections);
  const parts = [processesSection, chartsSection, releasesSection, configSection, domainsSection, collaboratorsSection, eventsSection, logsSection];
  for (const part of parts) sections.append(part(app));
}

function section(id, title, ...content) {
  return h('section', { class: 'card', id, 'aria-labelledby': `${id}-title` }, h('h2', { id: `${id}-title` }, title), ...content);
}

function howToDeploy(app) {
  return section('deploy', 'How to deploy',
    h('p', {}, `${app.name} has no release yet. Push code to its git URL:`),
    h('pre', { class: 'code' }, `git remote add paas ${app.git_url}\ngit push paas main`),
    h('p', { class: 'muted' }, 'Or, in the app\'s directory: paas git:remote -a ' + app.name + ' && git push paas main'));
}

function processesSection(app) {
  const table = h('tbody', {}, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Connecting…')));
  const form = h('form', { class: 'inline', 'aria-label': 'Scale' });
  const progress = h('p', { class: 'muted', 'aria-live': 'polite', id: 'ps-progress' });
  const restart = h('button', { type: 'button', class: 'secondary', id: 'restart' }, 'Restart all');
  restart.addEventListener('click', () => act(restart, 'Restarting…', async () => {
    const result = await api('POST', `/v1/apps/${enc(app.name)}/ps/restart`);
    progress.textContent = `Restarted ${result.restarted} instance${result.restarted === 1 ? '' : 's'}.`;
  }));
  loadFormation(app, form, progress);
  const source = new EventSource(`/v1/apps/${enc(app.name)}/ps/events`);
  source.addEventListener('ps', event => renderInstances(table, JSON.parse(event.data)));
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) progress.textContent = 'Live updates stopped: reload the page.'; };
  state.cleanups.push(() => source.close());
  return section('processes', 'Processes',
    h('table', { class: 'list', id: 'instances' },
      h('caption', { class: 'sr-only' }, 'Instances, live'),
      h('thead', {}, h('tr', {}, ['Instance', 'State', 'Release', 'Cell', 'Memory', 'Restarts'].map(t => h('th', { scope: 'col' }, t)))),
      table),
    form, restart, progress);
}

function renderInstances(tbody, instances) {
  if (instances.length === 0) {
    tbody.replaceChildren(h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No instances running.')));
    return;
  }
  tbody.replaceChildren(...instances.map(i => h('tr', { 'data-instance': i.id, 'data-state': i.state },
    h('th', { scope: 'row' }, i.id),
    h('td', {}, h('span', { class: `badge ${i.state === 'running' ? 'ok' : i.state === 'crashed' ? 'bad' : ''}` }, i.state)),
    h('td', {}, `v${i.release}`),
    h('td', {}, i.cell),
    h('td', {}, memoryBar(i.memory_used_bytes, i.memory_limit_bytes)),
    h('td', {}, i.restarts))));
}

function memoryBar(used, limit) {
  if (!limit) return used ? bytes(used) : '—';
  const pct = Math.min(100, Math.round(100 * (used || 0) / limit));
  return h('span', { class: 'mem' },
    h('meter', { min: 0, max: limit, value: used || 0, 'aria-label': `memory ${bytes(used || 0)} of ${bytes(limit)}` }),
    ` ${bytes(used || 0)} / ${bytes(limit)} (${pct}%)`);
}

async function loadFormation(app, form, progress) {
  try {
    const formation = await api('GET', `/v1/apps/${enc(app.name)}/formation`);
    if (formation.length === 0) { form.replaceChildren(h('p', { class: 'muted' }, 'No process types until the first push.')); return; }
    const inputs = formation.map(f => {
      const id = `scale-${f.process}`;
      return [h('label', { for: id }, `${f.process} instances`),
        h('input', { id, name: f.process, type: 'number', min: 0, max: 100, value: f.quantity, inputmode: 'numeric' })];
    });
    const button = h('button', { type: 'submit' }, 'Scale');
    form.replaceChildren(...inputs.flat(), button);
    form.onsubmit = event => {
      event.preventDefault();
      const updates = formation.map(f => ({ process: f.process, quantity: Number(form.elements[f.process].value) }));
      act(button, 'Scaling…', async () => {
        const result = await api('PATCH', `/v1/apps/${enc(app.name)}/formation`, { updates });
        progress.textContent = `Scaled: ${result.started} started, ${result.stopped} stopped.${result.problems?.length ? ' ' + result.problems.join(' ') : ''}`;
      });
    };
  } catch (e) { showError(e.message); }
}

// ---- charts: inline SVG, no library ----
const COLORS = { '2xx': '#2e7d32', '3xx': '#1565c0', '4xx': '#ef6c00', '5xx': '#c62828', p50: '#2e7d32', p95: '#ef6c00', p99: '#c62828' };
const PALETTE = ['#1565c0', '#6a1b9a', '#00838f', '#ad1457', '#558b2f'];

// Axis labels keep two significant digits for small values: 0.04 % CPU must not read as 0.
const number = v => v >= 100 ? v.toFixed(0) : v >= 1 ? String(+v.toFixed(1)) : String(+v.toPrecision(2));

function lineChart({ id, title, unit, times, series, format = number }) {
  const width = 480, height = 160, left = 44, bottom = 20, top = 8;
  const all = series.flatMap(x => x.values).filter(v => v !== null && v !== undefined);
  const max = Math.max(0, ...all);
  const figure = h('figure', { class: 'chart', id, 'data-max': max });
  const caption = h('figcaption', {}, title);
  if (times.length === 0 || all.length === 0 || max === 0) {
    figure.append(caption, h('p', { class: 'muted empty' }, 'Nothing measured in this window yet.'));
    return figure;
  }
  const x = i => left + (times.length === 1 ? (width - left) / 2 : i * (width - left - 4) / (times.length - 1));
  const y = v => top + (height - top - bottom) * (1 - v / max);
  const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, role: 'img', 'aria-label': `${title}: at most ${format(max)} ${unit}` },
    s('line', { x1: left, y1: y(0), x2: width, y2: y(0), class: 'axis' }),
    s('line', { x1: left, y1: y(max), x2: width, y2: y(max), class: 'grid' }),
    s('text', { x: left - 4, y: y(max) + 4, 'text-anchor': 'end', class: 'tick' }, format(max)),
    s('text', { x: left - 4, y: y(0), 'text-anchor': 'end', class: 'tick' }, '0'),
    s('text', { x: left, y: height - 4, class: 'tick' }, clock(times[0])),
    s('text', { x: width, y: height - 4, 'text-anchor': 'end', class: 'tick' }, clock(times[times.length - 1])),
    series.map(line => {
      const pts = line.values.map((v, i) => v === null || v === undefined ? null : `${x(i).toFixed(1)},${y(v).toFixed(1)}`).filter(Boolean);
      return pts.length === 1
        ? s('circle', { cx: pts[0].split(',')[0], cy: pts[0].split(',')[1], r: 3, fill: line.color })
        : s('polyline', { points: pts.join(' '), fill: 'none', stroke: line.color, 'stroke-width': 2 }, s('title', {}, line.name));
    }));
  const legend = h('ul', { class: 'legend' }, series.map(line => h('li', {}, h('span', { class: 'swatch', style: `background:${line.color}` }), line.name)));
  figure.append(caption, svg, legend);
  return figure;
}

function chartsSection(app) {
  const body = h('div', { class: 'charts', 'aria-live': 'off' }, h('p', { class: 'muted' }, 'Loading…'));
  const summary = h('p', { id: 'metrics-summary' });
  const windowSelect = h('select', { id: 'metrics-window' }, ['15m', '1h', '6h', '24h'].map(w => h('option', { value: w }, w)));
  const refresh = async () => {
    try {
      const metrics = await api('GET', `/v1/apps/${enc(app.name)}/metrics?since=${windowSelect.value}`);
      renderCharts(body, summary, metrics);
    } catch (e) { summary.textContent = e.message; }
  };
  windowSelect.addEventListener('change', refresh);
  refresh();
  const timer = setInterval(refresh, 5000);
  state.cleanups.push(() => clearInterval(timer));
  return section('metrics', 'Metrics',
    h('div', { class: 'inline' }, h('label', { for: 'metrics-window' }, 'Window'), windowSelect),
    summary, body);
}

function renderCharts(body, summary, metrics) {
  const points = metrics.points;
  const times = points.map(p => p.at);
  if (!metrics.summary) summary.textContent = 'No traffic or samples in this window yet.';
  else {
    const m = metrics.summary;
    summary.textContent = `${m.requests} requests · ${m.requests_per_second} req/s · p50 ${m.p50_ms ?? '—'} ms · p99 ${m.p99_ms ?? '—'} ms · 5xx ${m.error_rate_5xx === null ? '—' : (m.error_rate_5xx * 100).toFixed(1) + '%'}`;
    summary.dataset.requests = m.requests;
  }
  const classes = [...new Set(points.flatMap(p => Object.keys(p.by_status)))].sort();
  const step = metrics.resolution_seconds;
  const processes = [...new Set(points.flatMap(p => Object.keys(p.processes || {})))].sort();
  body.replaceChildren(
    lineChart({ id: 'chart-requests', title: 'Requests per second by status', unit: 'req/s', times,
      series: classes.map(c => ({ name: c, color: COLORS[c] || '#555', values: points.map(p => (p.by_status[c] || 0) / step) })) }),
    lineChart({ id: 'chart-latency', title: 'Latency (ms)', unit: 'ms', times,
      series: ['p50', 'p95', 'p99'].map(q => ({ name: q, color: COLORS[q], values: points.map(p => p[`${q}_ms`]) })) }),
    lineChart({ id: 'chart-memory', title: 'Memory per instance (MB)', unit: 'MB', times,
      series: processes.map((ps, i) => ({ name: ps, color: PALETTE[i % PALETTE.length],
        values: points.map(p => p.processes?.[ps] ? p.processes[ps].memory_bytes / Math.max(1, p.processes[ps].instances) / 1048576 : null) })) }),
    lineChart({ id: 'chart-cpu', title: 'CPU per instance (%)', unit: '%', times,
      series: processes.map((ps, i) => ({ name: ps, color: PALETTE[i % PALETTE.length],
        values: points.map(p => p.processes?.[ps] ? p.processes[ps].cpu_percent / Math.max(1, p.processes[ps].instances) : null) })) }));
}

// ---- releases ----
function releasesSection(app) {
  const tbody = h('tbody');
  const sectionEl = section('releases', 'Releases', h('table', { class: 'list', id: 'releases-table' },
    h('caption', { class: 'sr-only' }, 'Releases, newest first'),
    h('thead', {}, h('tr', {}, ['Version', 'Description', 'Status', 'Created', ''].map(t => h('th', { scope: 'col' }, t)))), tbody));
  const load = async () => {
    try {
      const releases = await api('GET', `/v1/apps/${enc(app.name)}/releases?limit=20`);
      tbody.replaceChildren(...releases.map(r => h('tr', { 'data-version': r.version },
        h('th', { scope: 'row' }, `v${r.version}`, r.current ? h('span', { class: 'badge ok' }, 'current') : null),
        h('td', {}, r.description),
        h('td', {}, r.status),
        h('td', {}, when(r.created_at)),
        h('td', {}, r.current || !r.image ? null : h('button', { type: 'button', class: 'secondary', onclick: e => confirmRollback(app, r.version, e.currentTarget, load) }, `Roll back to v${r.version}`)))));
      if (releases.length === 0) tbody.replaceChildren(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No releases yet.')));
    } catch (e) { showError(e.message); }
  };
  sectionEl.reload = load;
  reloaders.releases = load;
  load();
  return sectionEl;
}
const reloaders = {};

function confirmRollback(app, version, button, reload) {
  const dialog = h('dialog', { 'aria-labelledby': 'confirm-title', id: 'confirm' },
    h('h2', { id: 'confirm-title' }, `Roll ${app.name} back to v${version}?`),
    h('p', {}, `A new release with v${version}'s code and config rolls out, one instance at a time.`),
    h('form', { method: 'dialog', class: 'inline' },
      h('button', { value: 'cancel', class: 'secondary' }, 'Cancel'),
      h('button', { value: 'confirm', id: 'confirm-rollback' }, `Roll back to v${version}`)));
  document.body.append(dialog);
  dialog.addEventListener('close', async () => {
    dialog.remove();
    if (dialog.returnValue !== 'confirm') { button.focus(); return; }
    const release = await act(button, 'Rolling back…', () => api('POST', `/v1/apps/${enc(app.name)}/releases/rollback`, { version }));
    if (release) { announce(`Rolled back: v${release.version} is current.`); reload(); reloaders.events?.(); reloaders.config?.(); }
  });
  dialog.showModal();
}

function announce(text) {
  const live = document.getElementById('announce') || document.body.appendChild(h('div', { id: 'announce', class: 'sr-only', 'aria-live': 'polite' }));
  live.textContent = text;
}

// ---- config vars ----
function configSection(app) {
  const tbody = h('tbody');
  const status = h('p', { class: 'muted', 'aria-live': 'polite', id: 'config-status' });
  const change = async (button, changes, text) => {
    status.textContent = `${text}: rolling out a new release…`;
    const result = await act(button, 'Saving…', () => api('PATCH', `/v1/apps/${enc(app.name)}/config`, changes));
    status.textContent = result ? `${text}: done${result.release ? `, v${result.release}` : ''}.` : '';
    if (result) { render(result.config); reloaders.releases?.(); reloaders.events?.(); }
  };
  const render = config => {
    const names = Object.keys(config).sort();
    tbody.replaceChildren(...names.map(name => {
      const value = h('input', { value: config[name], 'aria-label': `Value of ${name}`, class: 'value' });
      const save = h('button', { type: 'button', class: 'secondary' }, 'Save');
      const remove = h('button', { type: 'button', class: 'danger' }, 'Remove');
      save.addEventListener('click', () => change(save, { [name]: value.value }, `Set ${name}`));
      remove.addEventListener('click', () => change(remove, { [name]: null }, `Removed ${name}`));
      return h('tr', { 'data-var': name }, h('th', { scope: 'row' }, name), h('td', {}, value), h('td', { class: 'actions' }, save, remove));
    }));
    if (names.length === 0) tbody.replaceChildren(h('tr', {}, h('td', { colspan: 3, class: 'muted' }, 'No config vars.')));
  };
  const nameInput = h('input', { id: 'config-name', required: true, autocomplete: 'off', spellcheck: 'false' });
  const valueInput = h('input', { id: 'config-value', autocomplete: 'off', spellcheck: 'false' });
  const add = h('button', { type: 'submit' }, 'Add');
  const form = h('form', { class: 'inline', 'aria-label': 'Add a config var' },
    h('label', { for: 'config-name' }, 'Name'), nameInput, h('label', { for: 'config-value' }, 'Value'), valueInput, add);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    await change(add, { [nameInput.value.trim()]: valueInput.value }, `Set ${nameInput.value.trim()}`);
    if (!document.getElementById('error').textContent) { nameInput.value = ''; valueInput.value = ''; }
  });
  // A rollback brings back the config of the release it returns to: the releases section asks for a reload.
  reloaders.config = () => api('GET', `/v1/apps/${enc(app.name)}/config`).then(render, e => showError(e.message));
  reloaders.config();
  return section('config', 'Config vars', h('table', { class: 'list', id: 'config-table' },
    h('caption', { class: 'sr-only' }, 'Config vars'), tbody), form, status);
}

// ---- domains and collaborators: a list, an add form, remove buttons ----
function listSection({ id, title, app, path, key, label, describe, addBody }) {
  const list = h('ul', { class: 'plain', id: `${id}-list` });
  const load = async () => {
    try {
      const items = await api('GET', path);
      list.replaceChildren(...items.map(item => {
        const remove = h('button', { type: 'button', class: 'danger small' }, 'Remove');
        remove.addEventListener('click', () => act(remove, 'Removing…', async () => { await api('DELETE', `${path}/${enc(item[key])}`); load(); reloaders.events?.(); }));
        return h('li', {}, describe(item), item.role === 'owner' ? null : remove);
      }));
      if (items.length === 0) list.replaceChildren(h('li', { class: 'muted' }, 'None yet.'));
    } catch (e) { showError(e.message); }
  };
  const input = h('input', { id: `${id}-input`, required: true, autocomplete: 'off' });
  const button = h('button', { type: 'submit' }, 'Add');
  const form = h('form', { class: 'inline', 'aria-label': `Add ${label}` }, h('label', { for: `${id}-input` }, label), input, button);
  form.addEventListener('submit', async event => {
    event.preventDefault();
    const added = await act(button, 'Adding…', () => api('POST', path, addBody(input.value.trim())));
    if (added) { input.value = ''; load(); reloaders.events?.(); }
  });
  load();
  return section(id, title, list, form);
}

function domainsSection(app) {
  return listSection({ id: 'domains', title: 'Domains', app, path: `/v1/apps/${enc(app.name)}/domains`, key: 'hostname', label: 'Hostname',
    describe: d => d.hostname, addBody: hostname => ({ hostname }) });
}

function collaboratorsSection(app) {
  return listSection({ id: 'collaborators', title: 'Collaborators', app, path: `/v1/apps/${enc(app.name)}/collaborators`, key: 'user', label: 'User',
    describe: c => `${c.user} (${c.role})`, addBody: user => ({ user }) });
}

// ---- activity ----
function eventsSection(app) {
  const list = h('ol', { class: 'timeline', id: 'events-list' });
  const load = async () => {
    try {
      const events = await api('GET', `/v1/apps/${enc(app.name)}/events?limit=50`);
      list.replaceChildren(...events.map(e => h('li', {}, h('time', { datetime: e.at }, when(e.at)), ' ', h('strong', {}, e.actor), ' ', e.message)));
      if (events.length === 0) list.replaceChildren(h('li', { class: 'muted' }, 'Nothing has happened yet.'));
    } catch (e) { showError(e.message); }
  };
  reloaders.events = load;
  load();
  const timer = setInterval(load, 10000);
  state.cleanups.push(() => clearInterval(timer));
  return section('events', 'Activity', list);
}

// ---- live log tail ----
function logsSection(app) {
  const list = h('ol', { class: 'logs', id: 'log-lines', 'aria-live': 'off', tabindex: 0, 'aria-label': 'Log lines' });
  const sourceSelect = h('select', { id: 'log-source' }, h('option', { value: '' }, 'all sources'),
    ['app', 'router', 'platform', 'build'].map(v => h('option', { value: v }, v)));
  const pause = h('button', { type: 'button', class: 'secondary', id: 'log-pause', 'aria-pressed': 'false' }, 'Pause');
  const held = h('span', { class: 'muted', id: 'log-held', 'aria-live': 'polite' });
  let paused = false, buffer = [], source = null;
  const append = lines => {
    list.append(...lines.map(l => h('li', { 'data-source': l.source },
      h('time', { datetime: l.time }, clock(l.time)), ' ', h('span', { class: `src src-${l.source}` }, `${l.source}${l.process ? '[' + l.process + ']' : ''}`), ' ', l.line)));
    while (list.childElementCount > 500) list.firstElementChild.remove();
    list.scrollTop = list.scrollHeight;
  };
  const connect = () => {
    source?.close();
    list.replaceChildren();
    buffer = [];
    source = new EventSource(`/v1/apps/${enc(app.name)}/logs/events${sourceSelect.value ? '?source=' + enc(sourceSelect.value) : ''}`);
    source.onopen = () => { list.dataset.connected = 'true'; };
    source.addEventListener('log', event => {
      const line = JSON.parse(event.data);
      if (paused) { buffer.push(line); held.textContent = `${buffer.length} new line${buffer.length === 1 ? '' : 's'} held`; }
      else append([line]);
    });
  };
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) { append(buffer); buffer = []; held.textContent = ''; }
  });
  sourceSelect.addEventListener('change', connect);
  connect();
  state.cleanups.push(() => source?.close());
  return section('logs', 'Logs',
    h('div', { class: 'inline' }, h('label', { for: 'log-source' }, 'Source'), sourceSelect, pause, held), list);
}

// ---- operator: cells ----
async function renderCells() {
  const cells = await api('GET', '/v1/cells');
  page('Cells',
    h('div', { class: 'heading' }, h('h1', {}, 'Cells'), h('span', { class: 'muted' }, `${cells.length} cell${cells.length === 1 ? '' : 's'}`)),
    cells.length === 0 ? h('p', { class: 'card' }, 'No cell has registered: start a cell agent (deploy/join-cell.sh).') : null,
    h('div', { class: 'grid', id: 'cells' }, cells.map(c => h('section', { class: 'card cell', 'data-cell': c.name, 'aria-labelledby': `cell-${c.name}` },
      h('h2', { id: `cell-${c.name}` }, c.name, ' ', h('span', { class: `badge ${c.state === 'live' ? 'ok' : 'bad'}` }, c.state)),
      h('p', { class: 'muted' }, `zone ${c.zone || '—'} · ${c.address}`),
      h('label', { for: `cap-${c.name}` }, 'Memory reserved'),
      h('meter', { id: `cap-${c.name}`, min: 0, max: c.memory_bytes || 1, value: c.reserved_bytes, high: (c.memory_bytes || 1) * 0.85 }),
      h('p', {}, `${bytes(c.reserved_bytes)} of ${bytes(c.memory_bytes)} (${c.memory_bytes ? Math.round(100 * c.reserved_bytes / c.memory_bytes) : 0}%)`),
      h('p', { class: 'instances' }, `${c.instances} instance${c.instances === 1 ? '' : 's'}${c.max_instances ? ` of at most ${c.max_instances}` : ''}`),
      c.stack ? h('p', { class: 'muted' }, `stack image: ${c.stack}`) : null))));
}

// ---- formatting ----
function bytes(n) {
  if (n === null || n === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}
function clock(at) { return new Date(at).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' }); }
function when(at) { return new Date(at).toLocaleString(); }

// ---- routing ----
async function route() {
  if (!state.session) return renderLogin();
  showError('');
  const hash = location.hash || '#/apps';
  const match = /^#\/apps\/([^/]+)$/.exec(hash);
  try {
    for (const key of Object.keys(reloaders)) delete reloaders[key];
    if (match) await renderApp(decodeURIComponent(match[1]));
    else if (hash === '#/cells') await renderCells();
    else await renderApps();
  } catch (e) {
    if (state.session) { page('Error', h('p', { class: 'card' }, h('a', { href: '#/apps' }, 'Back to apps'))); showError(e.message); }
  }
}

document.getElementById('logout').addEventListener('click', async () => {
  try { await api('DELETE', '/dashboard/session'); } catch { /* the cookie is gone either way */ }
  state.session = null;
  renderLogin('Logged out.');
});
window.addEventListener('hashchange', route);

(async () => {
  const response = await fetch('/dashboard/session', { credentials: 'same-origin' });
  if (response.ok) setSession(await response.json());
  route();
})();
