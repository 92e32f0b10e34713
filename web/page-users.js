// Users: a server-side paged, searchable list, and one user's attributes and groups. Read-only: users
// are managed by the identity provider over SCIM.

import { api, queryString } from './api.js';
import { setQuery } from './app.js';
import { userAssetsSection } from './sharing.js';
import { h, badge, debounce, emptyState, errorBox, formatNumber, loading, pageHeader, pager, table, time } from './ui.js';

const PAGE = 50;

export function render(main, context) {
  return context.id ? renderUser(main, context) : renderList(main, context);
}

function statusBadge(active) {
  return active ? badge('Active', 'ok') : badge('Deactivated', 'muted');
}

async function renderList(main, { query, isCurrent }) {
  const state = { q: query.get('q') || '', status: query.get('status') || '', start: Number(query.get('start')) || 0 };
  const search = h('input', { id: 'user-search', type: 'search', value: state.q, placeholder: 'Start of a user name, name or e-mail', autocomplete: 'off' });
  const status = h('select', { id: 'user-status' },
    h('option', { value: '' }, 'All users'), h('option', { value: 'active' }, 'Active'), h('option', { value: 'deactivated' }, 'Deactivated'));
  status.value = state.status;
  const count = h('p', { class: 'result-count', role: 'status' });
  const results = h('div', {}, loading());
  main.append(
    pageHeader('Users', h('p', { class: 'page-lead' }, 'People your identity provider has provisioned. Change them in the identity provider; changes arrive here over SCIM.')),
    h('div', { class: 'toolbar', role: 'search' },
      h('div', { class: 'field grow' }, h('label', { for: 'user-search' }, 'Search users'), search),
      h('div', { class: 'field' }, h('label', { for: 'user-status' }, 'Status'), status)),
    count, results);

  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ q: state.q, status: state.status, start: state.start });
    let data;
    try {
      data = await api('GET', `users${queryString({ q: state.q, status: state.status, start: state.start, count: PAGE })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    count.textContent = `${formatNumber(data.total)} user${data.total === 1 ? '' : 's'}`;
    if (data.total === 0) {
      results.replaceChildren(state.q || state.status
        ? emptyState('No users match', 'Try the start of another user name, name or e-mail address, or show all users.')
        : emptyState('No users yet', 'Users appear here when your identity provider provisions them. Connect it under Integrations → SCIM.',
          h('a', { href: '/integrations', 'data-link': true, class: 'button' }, 'Set up SCIM')));
      return;
    }
    const rows = data.items.map((user) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `/users/${encodeURIComponent(user.id)}`, 'data-link': true }, user.name || user.userName)),
      h('td', {}, user.userName),
      h('td', { class: 'wide-only' }, user.email || h('span', { class: 'muted' }, '—')),
      h('td', {}, statusBadge(user.active)),
      h('td', { class: 'wide-only' }, badge('SCIM', 'info', 'Provisioned over SCIM')),
      h('td', { class: 'wide-only' }, time(user.lastModified))));
    results.replaceChildren(
      table('Users', [{ label: 'Name' }, { label: 'User name' }, { label: 'E-mail', class: 'wide-only' }, { label: 'Status' },
        { label: 'Source', class: 'wide-only' }, { label: 'Last change', class: 'wide-only' }], rows),
      pager({ start: state.start, count: PAGE, total: data.total, label: 'Users', onPage: (start) => { state.start = start; load(); } }));
  }
  search.addEventListener('input', debounce(() => { state.q = search.value.trim(); state.start = 0; load(); }));
  status.addEventListener('change', () => { state.status = status.value; state.start = 0; load(); });
  await load();
}

async function renderUser(main, { id, isCurrent }) {
  let data;
  try {
    data = await api('GET', `users/${encodeURIComponent(id)}`);
  } catch (error) {
    main.append(breadcrumb('User'), h('h1', { tabindex: '-1' }, 'User not found'), errorBox(error.message));
    return;
  }
  if (!isCurrent()) return;
  const { user, resource, groups } = data;
  document.title = `${user.name || user.userName} · scimbox`;
  const emails = (resource.emails || []).map((e) => `${e.value}${e.type ? ` (${e.type})` : ''}${e.primary ? ', primary' : ''}`);
  const facts = [
    ['User name', user.userName],
    ['Name', user.name],
    ['E-mail', emails.length ? emails.join('; ') : null],
    ['Title', resource.title],
    ['Department', resource['urn:ietf:params:scim:schemas:extension:enterprise:2.0:User']?.department],
    ['External ID', resource.externalId],
    ['SCIM id', h('code', {}, user.id)],
    ['Created', time(resource.meta?.created)],
    ['Last change', time(user.lastModified)],
  ].filter(([, value]) => value !== undefined && value !== null && value !== '');
  main.append(
    breadcrumb(user.name || user.userName),
    pageHeader(user.name || user.userName, h('div', { class: 'badges' }, statusBadge(user.active), badge('Managed by SCIM', 'info'))),
    h('p', { class: 'notice' }, 'This user is managed by your identity provider over SCIM and is read-only here. Change it in the identity provider.'),
    h('section', { class: 'card', 'aria-labelledby': 'attributes-title' },
      h('h2', { id: 'attributes-title' }, 'Attributes'),
      h('dl', { class: 'facts' }, facts.map(([term, value]) => [h('dt', {}, term), h('dd', {}, value)])),
      h('details', { class: 'raw' }, h('summary', {}, 'All SCIM attributes (JSON)'), h('pre', { class: 'mono' }, JSON.stringify(resource, null, 2)))),
    h('section', { class: 'card', 'aria-labelledby': 'groups-title' },
      h('h2', { id: 'groups-title' }, `Groups (${formatNumber(groups.length)})`),
      groups.length === 0
        ? emptyState('Not in any group', 'Groups pushed by the identity provider that contain this user appear here.')
        : h('ul', { class: 'plain-list' }, groups.map((g) => h('li', {},
          h('a', { href: `/groups/${encodeURIComponent(g.id)}`, 'data-link': true }, g.displayName),
          g.direct ? null : h('span', { class: 'muted' }, ' (through a nested group)'))))),
    userAssetsSection(user));
}

function breadcrumb(current) {
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/users', 'data-link': true }, 'Users'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page' }, current));
}
