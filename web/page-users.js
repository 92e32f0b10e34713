// Users: a server-side paged, searchable list, and one user's attributes and groups. Read-only: users
// are managed by the identity provider over SCIM.

import { api, queryString } from './api.js';
import { setQuery } from './app.js';
import { userAssetsSection } from './sharing.js';
import { h, badge, debounce, emptyState, errorBox, formatNumber, loading, pageHeader, pageSize, pager, table, time } from './ui.js';

export function render(main, context) {
  return context.id ? renderUser(main, context) : renderList(main, context);
}

function statusBadge(active) {
  return active ? badge('Active', 'ok') : badge('Deactivated', 'muted');
}

/** Whether every row's e-mail is its user name (as with Okta, whose user name is the e-mail address). */
function sameIdentity(items) {
  return items.every((u) => !u.email || u.email.toLowerCase() === u.userName.toLowerCase());
}

async function renderList(main, { query, isCurrent }) {
  const state = {
    q: query.get('q') || '', status: query.get('status') || '', start: Number(query.get('start')) || 0,
    count: pageSize(query), sort: query.get('sort') || 'userName', descending: query.get('order') === 'desc',
  };
  const search = h('input', { id: 'user-search', type: 'search', value: state.q, placeholder: 'Any part of a name, user name or e-mail: “singh”, “corp.example”', autocomplete: 'off' });
  const status = h('select', { id: 'user-status' },
    h('option', { value: '' }, 'All users'), h('option', { value: 'active' }, 'Active'), h('option', { value: 'deactivated' }, 'Deactivated'));
  status.value = state.status;
  const count = h('p', { class: 'result-count', role: 'status' });
  const results = h('div', { class: 'list-top' }, loading());
  main.append(
    pageHeader('Users', h('p', { class: 'page-lead' }, 'People your identity provider has provisioned over SCIM. Change them in the identity provider; changes arrive here at once.')),
    h('div', { class: 'toolbar', role: 'search' },
      h('div', { class: 'field grow' }, h('label', { for: 'user-search' }, 'Search users'), search),
      h('div', { class: 'field' }, h('label', { for: 'user-status' }, 'Status'), status)),
    count, results);

  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ q: state.q, status: state.status, start: state.start, count: state.count === 50 ? null : state.count,
      sort: state.sort === 'userName' ? null : state.sort, order: state.descending ? 'desc' : null });
    let data;
    try {
      data = await api('GET', `users${queryString({ q: state.q, status: state.status, start: state.start, count: state.count, sort: state.sort, order: state.descending ? 'desc' : '' })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    count.textContent = `${formatNumber(data.total)} user${data.total === 1 ? '' : 's'}`;
    if (data.total === 0) {
      results.replaceChildren(state.q || state.status
        ? emptyState('No users match', 'Try the start of a first or last name, a user name, or part of an e-mail address, or show all users.')
        : emptyState('No users yet', 'Users appear here when your identity provider provisions them. Connect it under Integrations → SCIM.',
          h('a', { href: '/integrations', 'data-link': true, class: 'button' }, 'Set up SCIM')));
      return;
    }
    // With Okta the user name is the e-mail address: one column says both.
    const folded = sameIdentity(data.items);
    const columns = [
      { label: 'Name', sort: 'name' },
      { label: folded ? 'User name and e-mail' : 'User name', sort: 'userName' },
      folded ? null : { label: 'E-mail' },
      { label: 'Status', sort: 'status' },
      { label: 'Last change', sort: 'lastModified' },
    ].filter(Boolean);
    const rows = data.items.map((user) => h('tr', { dataset: { user: user.id } },
      h('th', { scope: 'row' }, h('a', { href: `/users/${encodeURIComponent(user.id)}`, 'data-link': true }, user.name || user.userName)),
      h('td', { title: user.userName }, user.userName),
      folded ? null : h('td', { title: user.email || '' }, user.email || h('span', { class: 'muted' }, '—')),
      h('td', {}, statusBadge(user.active)),
      h('td', {}, time(user.lastModified))));
    results.replaceChildren(
      table('Users', columns, rows, {
        sort: state.sort, descending: state.descending,
        onSort: (sort, descending) => { Object.assign(state, { sort, descending, start: 0 }); load(); },
      }),
      pager({ start: state.start, count: state.count, total: data.total, label: 'Users',
        onPage: (start, size) => { state.start = start; state.count = size; return load(); } }));
    results.querySelector('table').classList.add('dense');
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
  if (data.deleted) {
    renderDeleted(main, data.deleted);
    return;
  }
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

/** A user the identity provider deleted: kept so that nothing they owned is lost, and handed over here. */
function renderDeleted(main, user) {
  const title = user.name || user.userName;
  document.title = `${title} (deleted) · scimbox`;
  main.append(
    breadcrumb(title),
    pageHeader(title, h('div', { class: 'badges' }, badge('Deleted over SCIM', 'muted'))),
    h('p', { class: 'notice' }, 'Your identity provider deleted this user', user.deletedAt ? [' on ', time(user.deletedAt)] : null,
      '. They can reach nothing. What they owned is kept: give it to a colleague or a group with Extend ownership.'),
    h('section', { class: 'card', 'aria-labelledby': 'attributes-title' },
      h('h2', { id: 'attributes-title' }, 'Attributes'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'User name'), h('dd', {}, user.userName),
        h('dt', {}, 'SCIM id'), h('dd', {}, h('code', {}, user.id)))),
    userAssetsSection({ id: user.id, userName: user.userName, name: user.name, deleted: true }));
}

function breadcrumb(current) {
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/users', 'data-link': true }, 'Users'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page' }, current));
}
