// Activity: every SCIM request, newest first, filtered by outcome, resource and text, in pages that
// continue from the last entry shown.

import { api, queryString } from './api.js';
import { setQuery } from './app.js';
import { h, announce, badge, debounce, emptyState, errorBox, formatNumber, loading, pageHeader, table, time } from './ui.js';

const PAGE = 50;

function statusPill(status) {
  const kind = status >= 500 ? 'danger' : status >= 400 ? 'warn' : 'ok';
  return h('span', { class: `badge badge-${kind} mono` }, String(status));
}

/** The token of a request: its name, and whether it was revoked or has expired (a refused request
 * recorded only the token's id). */
function tokenCell(e) {
  if (!e.tokenId && !e.tokenName) return h('td', {}, h('span', { class: 'muted' }, 'none'));
  const name = e.tokenName || h('span', { class: 'muted' }, `unknown token ${e.tokenId}`);
  const status = { revoked: badge('revoked', 'danger'), expired: badge('expired', 'warn') }[e.tokenStatus];
  return h('td', {}, name, status ? [' ', status] : null);
}

/** What a request touched, linked to that user's or group's page when it touched one. */
function summaryCell(e) {
  const page = e.targetId && { Users: 'users', Groups: 'groups' }[e.resource];
  const text = e.summary || (page ? 'see it' : null);
  const summary = text && page
    ? h('a', { href: `/${page}/${encodeURIComponent(e.targetId)}`, 'data-link': true }, text)
    : (text || h('span', { class: 'muted' }, '—'));
  return h('td', {}, summary, e.error ? h('p', { class: 'error-detail' }, e.error) : null);
}

/** A request path with the id it names shortened (the whole path is in the tooltip). */
function pathText(e) {
  if (!e.targetId || !e.path.includes(e.targetId) || e.targetId.length <= 12) return e.path;
  return e.path.replace(e.targetId, `${e.targetId.slice(0, 8)}…`);
}

export async function render(main, { query, isCurrent }) {
  const state = { status: query.get('status') || '', resource: query.get('resource') || '', q: query.get('q') || '', token: query.get('token') || '' };
  // The `before` cursors of the pages shown so far: going back to a newer page pops one.
  const cursors = [];
  let before = null;
  const status = h('select', { id: 'activity-status' },
    h('option', { value: '' }, 'All outcomes'), h('option', { value: 'succeeded' }, 'Succeeded'),
    h('option', { value: 'failed' }, 'Failed'), h('option', { value: '4xx' }, 'Client errors (4xx)'), h('option', { value: '5xx' }, 'Server errors (5xx)'));
  status.value = state.status;
  const resource = h('select', { id: 'activity-resource' },
    h('option', { value: '' }, 'All resources'), h('option', { value: 'Users' }, 'Users'), h('option', { value: 'Groups' }, 'Groups'),
    h('option', { value: 'Bulk' }, 'Bulk'), h('option', { value: 'ServiceProviderConfig' }, 'Service provider config'));
  resource.value = state.resource;
  const text = h('input', { id: 'activity-search', type: 'search', value: state.q, placeholder: 'Path, token, summary or error', autocomplete: 'off' });
  const refresh = h('button', { type: 'button', class: 'button', id: 'activity-refresh' }, 'Refresh');
  const count = h('p', { class: 'result-count', role: 'status' });
  const results = h('div', {}, loading());
  main.append(
    pageHeader('Activity', h('p', { class: 'page-lead' }, 'Every SCIM request your identity provider made: who, what, the outcome and what changed. Request bodies are never recorded.')),
    h('div', { class: 'toolbar', role: 'search' },
      h('div', { class: 'field grow' }, h('label', { for: 'activity-search' }, 'Search'), text),
      h('div', { class: 'field' }, h('label', { for: 'activity-status' }, 'Outcome'), status),
      h('div', { class: 'field' }, h('label', { for: 'activity-resource' }, 'Resource'), resource),
      h('div', { class: 'field end' }, refresh)),
    count, results);

  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ status: state.status, resource: state.resource, q: state.q, token: state.token });
    let data;
    try {
      data = await api('GET', `activity${queryString({ status: state.status, resource: state.resource, q: state.q, token: state.token, before, count: PAGE })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    // `replaceChildren` writes a null as the text "null": the token note is added only when there is one.
    count.replaceChildren(`${formatNumber(data.total)} request${data.total === 1 ? '' : 's'}`, ...(state.token
      ? [h('span', {}, ' with one token ', h('button', { type: 'button', class: 'button small', id: 'activity-all-tokens',
        on: { click: () => { state.token = ''; restart(); } } }, 'Show every token'))]
      : []));
    if (data.total === 0) {
      const filtered = state.status || state.resource || state.q || state.token;
      results.replaceChildren(filtered
        ? emptyState('No requests match', 'Change the filters to see more.')
        : emptyState('No SCIM requests yet', 'Requests appear here as soon as your identity provider calls scimbox, for example when you press Test API Credentials in Okta.'));
      return;
    }
    const rows = data.items.map((e) => h('tr', { class: e.status >= 400 ? 'failed' : null },
      h('td', { class: 'nowrap' }, time(e.at, { seconds: true })),
      tokenCell(e),
      h('td', {}, h('span', { class: 'method mono' }, e.method), ' ', h('span', { class: 'mono path', title: e.path }, pathText(e))),
      h('td', {}, statusPill(e.status)),
      h('td', { class: 'number nowrap' }, `${e.latencyMs < 10 ? e.latencyMs.toFixed(1) : Math.round(e.latencyMs)} ms`),
      summaryCell(e)));
    const older = h('button', { type: 'button', class: 'button', disabled: data.next === null, on: { click: () => { cursors.push(before); before = data.next; load(); } } }, 'Older');
    const newer = h('button', { type: 'button', class: 'button', disabled: cursors.length === 0, on: { click: () => { before = cursors.pop(); load(); } } }, 'Newer');
    results.replaceChildren(
      table('SCIM requests', [{ label: 'Time' }, { label: 'Token' }, { label: 'Request' }, { label: 'Status' },
        { label: 'Latency', class: 'number' }, { label: 'What changed' }], rows),
      h('nav', { class: 'pager', 'aria-label': 'Activity pages' }, newer, older));
  }
  const restart = () => { cursors.length = 0; before = null; load(); };
  text.addEventListener('input', debounce(() => { state.q = text.value.trim(); restart(); }));
  status.addEventListener('change', () => { state.status = status.value; restart(); });
  resource.addEventListener('change', () => { state.resource = resource.value; restart(); });
  refresh.addEventListener('click', async () => { cursors.length = 0; before = null; await load(); announce('Activity refreshed'); });
  await load();
}
