// tributary's web console: plain browser JavaScript, no build step. Live updates come from
// /ui/events (server-sent events): a `hello` (the state now and the plots' history), then an
// `update` per interval. Every value is put into the page as text (never as HTML).
(function () {
  'use strict';

  const $ = (id) => document.getElementById(id);
  const el = (tag, attrs, ...children) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === 'class') node.className = value;
      else if (name === 'text') node.textContent = value;
      else node.setAttribute(name, String(value));
    }
    for (const child of children) if (child !== undefined && child !== null) node.append(child);
    return node;
  };
  const fmt = (n) => (n === undefined || n === null ? '–' : Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 }));
  const time = (ms) => (ms === undefined || ms === null ? '–' : new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, 'Z'));
  const stateClass = (state) => 'state-' + String(state).split('.')[0].replace(/[^a-z-]/g, '');

  const PALETTE = ['#2563eb', '#db2777', '#16a34a', '#ea580c', '#7c3aed', '#0891b2', '#ca8a04', '#dc2626'];
  const history = [];
  const MAX_POINTS = 600;
  let tree;
  let processors = [];
  let plotIds = '';
  let plots = {};
  let control = false;
  let filtering = false;
  let latestRows = [];
  let totalRows = 0;
  const flashing = new Map(); // path -> until (ms)
  const events = [];

  // ---- plots (uPlot) ----
  function makePlot(target, series) {
    target.textContent = '';
    const width = Math.max(260, target.clientWidth || 360);
    return new uPlot(
      {
        width,
        height: 160,
        legend: { show: true, live: false },
        scales: { x: { time: true } },
        axes: [{ stroke: '#666' }, { stroke: '#666', size: 60 }],
        series: [{}, ...series.map((s, i) => ({ label: s, stroke: PALETTE[i % PALETTE.length], width: 1.5, points: { show: false } }))],
      },
      [[], ...series.map(() => [])],
      target,
    );
  }

  function rebuildPlots() {
    const ids = processors.map((p) => p.id);
    plotIds = ids.join('\n');
    plots = {
      rate: makePlot($('plot-rate'), ids),
      lag: makePlot($('plot-lag'), ids),
      dead: makePlot($('plot-dead'), ['dead letters', 'late records']),
    };
  }

  function drawPlots() {
    if (typeof uPlot === 'undefined') return;
    if (processors.map((p) => p.id).join('\n') !== plotIds) rebuildPlots();
    const ids = processors.map((p) => p.id);
    const xs = history.map((p) => p.t / 1000);
    plots.rate.setData([xs, ...ids.map((id) => history.map((p) => p.rate[id] ?? null))]);
    plots.lag.setData([xs, ...ids.map((id) => history.map((p) => p.lag[id] ?? null))]);
    plots.dead.setData([xs, history.map((p) => p.deadPerMin), history.map((p) => p.latePerMin)]);
  }

  // ---- processors ----
  function renderProcessors() {
    const box = $('processors');
    box.textContent = '';
    for (const p of processors) {
      const actions = el('div', { class: 'actions' });
      if (control) {
        for (const action of p.paused ? ['resume', 'drain'] : ['pause', 'drain']) {
          const button = el('button', { type: 'button', 'data-action': action, 'data-processor': p.id, text: action });
          button.addEventListener('click', () => act(action, p.id));
          actions.append(button);
        }
      }
      box.append(
        el(
          'div',
          { class: 'card' + (p.paused ? ' paused' : ''), 'data-processor': p.id },
          el('h3', { text: p.id }),
          el('div', { class: 'figures' },
            el('span', { text: `${p.running}/${p.partitions} running` }),
            el('span', { text: `${fmt(p.rate)} rec/s` }),
            el('span', { text: `lag ${fmt(p.lag)}` }),
            el('span', { text: `in flight ${fmt(p.inFlight)}` }),
            el('span', { text: `restarts ${fmt(p.restarts)}` }),
            p.paused ? el('span', { class: 'badge', text: 'paused' }) : null),
          actions,
        ),
      );
    }
  }

  async function act(action, processor) {
    const token = sessionStorage.getItem('tributary-console-token') || $('token').value;
    $('control-result').textContent = `${action} ${processor}…`;
    try {
      const res = await fetch('api/control', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
        body: JSON.stringify({ action, processor }),
      });
      const body = await res.json();
      $('control-result').textContent = res.ok ? `${action} ${processor}: done` : `${action} ${processor}: ${body.error || res.status}`;
    } catch (err) {
      $('control-result').textContent = `${action} ${processor}: ${err}`;
    }
  }

  // ---- supervision tree ----
  function renderTree() {
    const box = $('tree');
    box.textContent = '';
    if (tree) box.append(el('ul', {}, renderSupervisor(tree, undefined)));
  }

  function renderSupervisor(sup, child) {
    const now = Date.now();
    const escalated = sup.state === 'escalated' || !sup.healthy;
    const item = el(
      'li',
      {
        class: `sup ${stateClass(sup.state)}${escalated ? ' escalated' : ''}${flashing.get(sup.path) > now ? ' flash' : ''}`,
        'data-path': sup.path,
        'data-state': child ? child.state : sup.state,
        'data-restarts': child ? child.restarts : undefined,
      },
      el('span', { class: 'name', text: sup.name }),
      el('span', { class: 'pill ' + stateClass(sup.state), text: sup.state }),
      el('span', { class: 'muted', text: ` ${sup.strategy} · ${sup.recentRestarts}/${sup.intensity} restarts in ${sup.periodMs / 1000} s` }),
      child && child.restarts ? el('span', { class: 'restarts', text: ` ↻${child.restarts}` }) : null,
      sup.reason ? el('div', { class: 'error', text: sup.reason }) : null,
    );
    const list = el('ul');
    for (const c of sup.children) {
      if (c.supervisor) {
        list.append(renderSupervisor(c.supervisor, c));
        continue;
      }
      list.append(
        el(
          'li',
          {
            class: `child ${stateClass(c.state)}${flashing.get(c.path) > now ? ' flash' : ''}`,
            'data-path': c.path,
            'data-state': c.state,
            'data-restarts': c.restarts,
          },
          el('span', { class: 'name', text: c.id }),
          el('span', { class: 'pill ' + stateClass(c.state), text: c.state }),
          c.restarts ? el('span', { class: 'restarts', title: 'restarts', text: ` ↻${c.restarts}` }) : null,
          c.lastError ? el('div', { class: 'error', text: `${c.lastError.name}: ${c.lastError.message} (${time(c.lastError.at)})` }) : null,
        ),
      );
    }
    const omitted = Object.entries(sup.omitted || {});
    if (omitted.length) {
      list.append(el('li', { class: 'omitted muted', text: '… and ' + omitted.map(([state, n]) => `${fmt(n)} ${state}`).join(', ') + ' more' }));
    }
    item.append(list);
    return item;
  }

  // ---- partitions ----
  function renderRows(rows, total, note) {
    const body = $('partitions').tBodies[0];
    body.textContent = '';
    const now = Date.now();
    for (const r of rows) {
      const key = `${r.processor}/${r.topic}/${r.partition}`;
      const childPath = tree ? findPartitionPath(r) : undefined;
      body.append(
        el(
          'tr',
          {
            'data-key': key,
            'data-state': r.state,
            'data-restarts': r.restarts,
            class: `${stateClass(r.state)}${r.node !== ($('node').dataset.node || r.node) ? ' remote' : ''}${childPath && flashing.get(childPath) > now ? ' flash' : ''}`,
          },
          el('td', { text: r.processor }),
          el('td', { text: `${r.topic}-${r.partition}` }),
          el('td', { text: r.node }),
          el('td', {}, el('span', { class: 'pill ' + stateClass(r.state), text: r.state })),
          el('td', { class: 'num', text: fmt(r.committed) }),
          el('td', { class: 'num', text: fmt(r.end) }),
          el('td', { class: 'num', text: fmt(r.lag) }),
          el('td', { text: r.watermark === undefined ? '–' : time(r.watermark) }),
          el('td', { class: 'num', text: fmt(r.rate) }),
          el('td', { class: 'num', text: fmt(r.inFlight) }),
          el('td', { text: r.paused === undefined ? '–' : r.paused ? 'paused' : '' }),
          el('td', { class: 'num', text: fmt(r.restarts) }),
          el('td', { text: r.restoring ? `restoring ${r.restoring}` : r.storeKeys === undefined ? '' : `${fmt(r.storeKeys)} keys` }),
        ),
      );
    }
    $('rows-note').textContent = note || (total > rows.length ? `(the ${rows.length} most interesting of ${fmt(total)}: not running, restarted, most lag)` : `(${fmt(total)})`);
  }

  function findPartitionPath(row) {
    const sup = tree.children.find((c) => c.supervisor && c.id === `processor:${row.processor}`);
    return sup ? `${sup.path}/partition:${row.topic}-${row.partition}` : undefined;
  }

  $('filter-form').addEventListener('submit', (e) => e.preventDefault());
  let filterTimer;
  $('filter').addEventListener('input', () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(async () => {
      const q = $('filter').value.trim();
      filtering = q.length > 0;
      if (!filtering) return renderRows(latestRows, totalRows);
      const res = await fetch(`api/partitions?limit=500&q=${encodeURIComponent(q)}`);
      const page = await res.json();
      renderRows(page.rows, page.total, `(${page.rows.length} of ${fmt(page.total)} matching '${q}', as of the last update; clear the filter for live rows)`);
    }, 250);
  });

  // ---- cluster ----
  function renderCluster(cluster) {
    const box = $('cluster');
    if (!cluster) return;
    box.textContent = '';
    const table = el('table', { class: 'members' }, el('thead', {}, el('tr', {}, ...['node', 'status', 'app', 'healthy', 'partitions', 'last heard'].map((h) => el('th', { text: h })))));
    const body = el('tbody');
    for (const m of cluster.members) {
      const gone = m.status === 'down' || m.status === 'left';
      body.append(
        el(
          'tr',
          { class: `member member-${m.status}${gone ? ' gone' : ''}${m.self ? ' self' : ''}`, 'data-node': m.node, 'data-status': m.status },
          el('td', { text: m.node + (m.self ? ' (this node)' : '') }),
          el('td', {}, el('span', { class: 'pill status-' + m.status, text: m.status })),
          el('td', { text: m.state }),
          el('td', { text: m.healthy ? 'yes' : 'no' }),
          el('td', { class: 'num', text: fmt(m.partitions) }),
          el('td', { text: time(m.lastHeardAt) }),
        ),
      );
    }
    table.append(body);
    box.append(table);
  }

  // ---- events ----
  function addEvents(list) {
    const now = Date.now();
    for (const e of list) {
      if (e.path && (e.type === 'supervisor.child-failed' || e.type === 'supervisor.child-restarting' || e.type === 'supervisor.escalated')) flashing.set(e.path, now + 5000);
      events.unshift(e);
    }
    events.length = Math.min(events.length, 50);
    const box = $('events');
    box.textContent = '';
    for (const e of events) {
      box.append(
        el(
          'li',
          { class: 'event ' + e.type.replace(/[^a-z-]/g, '-') },
          el('span', { class: 'muted', text: new Date(e.at).toLocaleTimeString() + ' ' }),
          el('span', { text: e.type.replace('supervisor.', '') + ' ' }),
          el('span', { class: 'name', text: e.path || e.supervisor }),
          e.message ? el('div', { class: 'error', text: e.message }) : null,
        ),
      );
    }
  }

  // ---- frames ----
  function apply(frame) {
    $('node').textContent = `node ${frame.node}`;
    $('node').dataset.node = frame.node;
    $('app-state').textContent = frame.state;
    $('app-state').className = 'pill ' + stateClass(frame.state);
    if (control !== frame.control) {
      control = frame.control;
      $('mode').textContent = control ? 'control enabled' : 'read-only';
      $('token-form').hidden = !control;
    }
    processors = frame.processors;
    if (frame.tree) tree = frame.tree;
    if (frame.events && frame.events.length) addEvents(frame.events);
    renderProcessors();
    renderTree();
    latestRows = frame.rows;
    totalRows = frame.totalRows;
    if (!filtering) renderRows(frame.rows, frame.totalRows);
    renderCluster(frame.cluster);
    document.body.dataset.updatedAt = String(frame.at);
  }

  $('token').addEventListener('change', () => sessionStorage.setItem('tributary-console-token', $('token').value));
  $('token-form').addEventListener('submit', (e) => e.preventDefault());

  const source = new EventSource('events');
  source.addEventListener('open', () => {
    $('connection').textContent = 'live';
    $('connection').className = 'pill conn-live';
  });
  source.addEventListener('error', () => {
    $('connection').textContent = 'reconnecting';
    $('connection').className = 'pill conn-wait';
  });
  source.addEventListener('hello', (e) => {
    const hello = JSON.parse(e.data);
    history.length = 0;
    history.push(...hello.history);
    apply(hello.frame);
    drawPlots();
  });
  source.addEventListener('update', (e) => {
    const frame = JSON.parse(e.data);
    const last = history[history.length - 1];
    if (!last || frame.point.t > last.t) history.push(frame.point);
    if (history.length > MAX_POINTS) history.shift();
    apply(frame);
    drawPlots();
  });
})();
