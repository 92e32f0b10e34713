// Audit: who changed who can do what, newest first, filtered by actor, action, target and time, each record
// linked to what it concerns; and the export of a time range as JSON Lines.

import { api, queryString } from './api.js';
import { setQuery } from './app.js';
import { h, announce, debounce, emptyState, errorBox, loading, pageHeader, table, time } from './ui.js';

const PAGE = 50;

/** Where the page shows a target or an actor, when it shows it at all. */
function linkFor(kind, id) {
  if (!id) return null;
  switch (kind) {
    case 'user': return `/users/${encodeURIComponent(id)}`;
    case 'group': return `/groups/${encodeURIComponent(id)}`;
    case 'asset': return `/assets/${encodeURIComponent(id)}`;
    case 'token': return '/integrations';
    case 'admin': return '/admins';
    default: return null;
  }
}

function named(kind, id, name) {
  const text = name || id || kind;
  const href = linkFor(kind, id);
  const label = h('span', {}, h('span', { class: 'muted' }, `${kind} `), href ? h('a', { href, 'data-link': true }, text) : text);
  if (id && name) label.title = `${kind} ${id}`;
  return label;
}

function actorCell(actor) {
  const kinds = { admin: 'admin', token: 'token', cli: 'command line', server: 'scimbox', anonymous: 'not signed in' };
  // A user as actor signed in through the identity provider.
  const who = ['admin', 'token', 'user'].includes(actor.kind)
    ? named(actor.kind, actor.id, actor.name)
    : h('span', {}, h('span', { class: 'muted' }, `${kinds[actor.kind] || actor.kind} `), actor.name || '');
  return h('td', {}, who, actor.address ? h('div', { class: 'muted mono small' }, actor.address) : null);
}

/** What changed, in a line or two; the whole record is one click away. */
function describe(record) {
  const d = record.details || {};
  const grants = (list) => (list || []).map((g) => `${g.name || g.id} (${g.type}) ${g.level}`).join(', ') || 'nobody';
  switch (record.action) {
    case 'asset.permissions_changed':
      return d.imported ? `imported ${d.imported.length} grant${d.imported.length === 1 ? '' : 's'}` : `before: ${grants(d.before)} · after: ${grants(d.after)}`;
    case 'asset.renamed': return `"${d.from}" → "${d.to}"`;
    case 'asset.owner_changed': return `${d.from?.userName} → ${d.to?.userName}`;
    case 'user.ownership_extended': return `made ${d.to?.type} owner of ${d.madeOwner?.length ?? 0} of ${d.assets} assets`;
    case 'group.changed': case 'group.created': {
      const parts = [];
      if (d.membersAdded) parts.push(`${d.membersAdded} member${d.membersAdded === 1 ? '' : 's'} added`);
      if (d.membersRemoved) parts.push(`${d.membersRemoved} removed`);
      if (d.displayName) parts.push(`renamed "${d.displayName.from}" → "${d.displayName.to}"`);
      return parts.join(', ');
    }
    case 'user.changed': return Object.entries(d).map(([k, v]) => (typeof v === 'object' && v ? `${k}: ${v.from} → ${v.to}` : `${k} ${v}`)).join(', ');
    case 'session.locked_out': case 'token.locked_out': return `locked for ${d.lockedForSeconds} s`;
    case 'session.sign_in_failed':
      if (d.method === 'oidc') return `${d.method.toUpperCase()} refused: ${d.reason}${d.claim ? ` (${d.claim} ${d.value})` : ''}${d.error ? ` (${d.error})` : ''}`;
      return d.knownName ? 'wrong password' : 'unknown user name';
    case 'session.signed_in': return d.method === 'oidc' ? `through the identity provider${d.admin ? ', as an admin' : ''}` : '';
    case 'session.expired': return d.reason === 'idle' ? 'idle too long' : 'lifetime reached';
    case 'token.created': return `scope ${d.scope}, ${d.expiresAt ? `expires ${new Date(d.expiresAt).toLocaleDateString()}` : 'never expires'}`;
    case 'token.revoked': case 'token.expired': return d.scope ? `scope ${d.scope}` : '';
    case 'user.created': return [d.active === false ? 'inactive' : 'active', d.password ? 'password set' : null].filter(Boolean).join(', ');
    case 'admin.removed': return d.sessionsEnded ? `${d.sessionsEnded} session${d.sessionsEnded === 1 ? '' : 's'} ended` : '';
    case 'asset.created': case 'asset.deleted': return `${d.kind}, owner ${d.owner?.userName ?? ''}`;
    case 'token.refused': return d.reason || '';
    case 'database.migrated': return `schema ${d.fromVersion ?? 'new'} → ${d.toVersion}`;
    case 'database.backed_up': return `to ${d.copy}`;
    case 'server.started': case 'server.stopped': return `version ${d.version}`;
    case 'audit.pruned': return `${d.removed} records older than ${d.olderThan} removed`;
    default: return '';
  }
}

function recordRow(record) {
  const summary = describe(record);
  const full = h('details', {}, h('summary', {}, 'Record'),
    h('pre', { class: 'mono small record-json' }, JSON.stringify(record, null, 2)));
  return h('tr', { class: record.outcome === 'failure' ? 'failed' : null, id: `audit-${record.seq}` },
    h('td', { class: 'number mono' }, String(record.seq)),
    h('td', { class: 'nowrap' }, time(record.at, { seconds: true })),
    actorCell(record.actor),
    h('td', {}, h('span', { class: `mono ${record.outcome === 'failure' ? 'text-danger' : ''}` }, record.action)),
    h('td', {}, record.target ? named(record.target.kind, record.target.id, record.target.name) : h('span', { class: 'muted' }, '—')),
    h('td', {}, summary ? h('p', { class: 'audit-summary' }, summary) : null, full));
}

/** A datetime-local value as RFC 3339 in UTC, or ''. */
function toIso(local) {
  if (!local) return '';
  const date = new Date(local);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

function toLocal(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export async function render(main, { query, isCurrent }) {
  const state = {
    actor: query.get('actor') || '', action: query.get('action') || '', target: query.get('target') || '',
    since: query.get('since') || '', until: query.get('until') || '',
  };
  const cursors = [];
  let before = null;
  const actor = h('input', { id: 'audit-actor', type: 'search', value: state.actor, placeholder: 'Admin, token or OS user', autocomplete: 'off' });
  const target = h('input', { id: 'audit-target', type: 'search', value: state.target, placeholder: 'Name or id', autocomplete: 'off' });
  const action = h('select', { id: 'audit-action' }, h('option', { value: '' }, 'All actions'));
  const since = h('input', { id: 'audit-since', type: 'datetime-local', value: toLocal(state.since) });
  const until = h('input', { id: 'audit-until', type: 'datetime-local', value: toLocal(state.until) });
  const exportLink = h('a', { class: 'button', id: 'audit-export', download: true }, 'Export JSON Lines');
  const results = h('div', {}, loading());
  main.append(
    pageHeader('Audit', h('p', { class: 'page-lead' },
      'Who changed who can do what: sign-ins, tokens, admins, assets and permissions, and what the identity provider changed. ',
      'Each record is chained to the one before it; ', h('code', {}, 'scimbox audit verify'), ' checks the chain.')),
    h('div', { class: 'toolbar', role: 'search' },
      h('div', { class: 'field grow' }, h('label', { for: 'audit-actor' }, 'Actor'), actor),
      h('div', { class: 'field' }, h('label', { for: 'audit-action' }, 'Action'), action),
      h('div', { class: 'field grow' }, h('label', { for: 'audit-target' }, 'Target'), target),
      h('div', { class: 'field' }, h('label', { for: 'audit-since' }, 'From'), since),
      h('div', { class: 'field' }, h('label', { for: 'audit-until' }, 'Until'), until),
      h('div', { class: 'field end' }, exportLink)),
    results);

  const updateExport = () => {
    exportLink.href = `/admin/api/audit/export${queryString({ since: state.since, until: state.until })}`;
  };
  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery(state);
    updateExport();
    let data;
    try {
      data = await api('GET', `audit${queryString({ ...state, before, count: PAGE })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    if (action.options.length === 1) {
      for (const name of data.actions) action.append(h('option', { value: name }, name));
      action.value = state.action;
    }
    if (data.records.length === 0) {
      const filtered = state.actor || state.action || state.target || state.since || state.until;
      results.replaceChildren(filtered
        ? emptyState('No records match', 'Change the filters to see more.')
        : emptyState('No records yet', 'Sign-ins, tokens, admins and changes to access appear here.'));
      return;
    }
    const older = h('button', { type: 'button', class: 'button', disabled: data.next === null, on: { click: () => { cursors.push(before); before = data.next; load(); } } }, 'Older');
    const newer = h('button', { type: 'button', class: 'button', disabled: cursors.length === 0, on: { click: () => { before = cursors.pop(); load(); } } }, 'Newer');
    results.replaceChildren(
      table('Audit records', [{ label: '#', class: 'number' }, { label: 'Time' }, { label: 'Actor' }, { label: 'Action' },
        { label: 'Target' }, { label: 'What changed' }], data.records.map(recordRow)),
      h('nav', { class: 'pager', 'aria-label': 'Audit pages' }, newer, older));
  }
  const restart = () => { cursors.length = 0; before = null; load(); };
  actor.addEventListener('input', debounce(() => { state.actor = actor.value.trim(); restart(); }));
  target.addEventListener('input', debounce(() => { state.target = target.value.trim(); restart(); }));
  action.addEventListener('change', () => { state.action = action.value; restart(); announce(`Showing ${action.value || 'all actions'}`); });
  since.addEventListener('change', () => { state.since = toIso(since.value); restart(); });
  until.addEventListener('change', () => { state.until = toIso(until.value); restart(); });
  await load();
}
