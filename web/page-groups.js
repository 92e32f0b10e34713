// Groups: a paged, searchable, sortable list with member counts, and one group with a searchable,
// sortable page of its members. Groups pushed over SCIM are read-only here.

import { api, queryString } from './api.js';
import { setQuery } from './app.js';
import { groupAssetsSection } from './sharing.js';
import { h, badge, debounce, emptyState, errorBox, formatNumber, loading, pageHeader, pageSize, pager, table, time } from './ui.js';

export function render(main, context) {
  return context.id ? renderGroup(main, context) : renderList(main, context);
}

async function renderList(main, { query, isCurrent }) {
  const state = {
    q: query.get('q') || '', start: Number(query.get('start')) || 0, count: pageSize(query),
    sort: query.get('sort') || 'name', descending: query.get('order') === 'desc',
  };
  const search = h('input', { id: 'group-search', type: 'search', value: state.q, placeholder: 'Any word of a group name: “science”', autocomplete: 'off' });
  const count = h('p', { class: 'result-count', role: 'status' });
  const results = h('div', { class: 'list-top' }, loading());
  main.append(
    pageHeader('Groups', h('p', { class: 'page-lead' }, 'Groups your identity provider pushes over SCIM. Membership decides who can reach what is shared with a group.')),
    h('div', { class: 'toolbar', role: 'search' }, h('div', { class: 'field grow' }, h('label', { for: 'group-search' }, 'Search groups'), search)),
    count, results);
  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ q: state.q, start: state.start, count: state.count === 50 ? null : state.count,
      sort: state.sort === 'name' ? null : state.sort, order: state.descending ? 'desc' : null });
    let data;
    try {
      data = await api('GET', `groups${queryString({ q: state.q, start: state.start, count: state.count, sort: state.sort, order: state.descending ? 'desc' : '' })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    count.textContent = `${formatNumber(data.total)} group${data.total === 1 ? '' : 's'}`;
    if (data.total === 0) {
      results.replaceChildren(state.q
        ? emptyState('No groups match', 'Try the start of another word of a group name.')
        : emptyState('No groups yet', 'Groups appear here when your identity provider pushes them (in Okta: the Push Groups tab).'));
      return;
    }
    const rows = data.items.map((group) => h('tr', { dataset: { group: group.id } },
      h('th', { scope: 'row' }, h('a', { href: `/groups/${encodeURIComponent(group.id)}`, 'data-link': true }, group.displayName)),
      h('td', { class: 'number' }, formatNumber(group.members)),
      h('td', {}, group.externalId || h('span', { class: 'muted' }, '—')),
      h('td', {}, time(group.lastModified))));
    results.replaceChildren(
      table('Groups', [{ label: 'Name', sort: 'name' }, { label: 'Members', class: 'number', sort: 'members' },
        { label: 'External ID' }, { label: 'Last change', sort: 'lastModified' }], rows, {
        sort: state.sort, descending: state.descending,
        onSort: (sort, descending) => { Object.assign(state, { sort, descending, start: 0 }); load(); },
      }),
      pager({ start: state.start, count: state.count, total: data.total, label: 'Groups',
        onPage: (start, size) => { state.start = start; state.count = size; return load(); } }));
    results.querySelector('table').classList.add('dense');
  }
  search.addEventListener('input', debounce(() => { state.q = search.value.trim(); state.start = 0; load(); }));
  await load();
}

async function renderGroup(main, { id, query, isCurrent }) {
  const state = {
    q: query.get('q') || '', start: Number(query.get('start')) || 0, count: pageSize(query),
    sort: query.get('sort') || 'name', descending: query.get('order') === 'desc',
  };
  const membersQuery = () => queryString({ q: state.q, start: state.start, count: state.count, sort: state.sort, order: state.descending ? 'desc' : '' });
  let data;
  try {
    data = await api('GET', `groups/${encodeURIComponent(id)}${membersQuery()}`);
  } catch (error) {
    main.append(breadcrumb('Group'), h('h1', { tabindex: '-1' }, 'Group not found'), errorBox(error.message));
    return;
  }
  if (!isCurrent()) return;
  const { group } = data;
  document.title = `${group.displayName} · scimbox`;
  const search = h('input', { id: 'member-search', type: 'search', value: state.q, placeholder: 'Any part of a name, user name or e-mail', autocomplete: 'off' });
  const count = h('p', { class: 'result-count', role: 'status' });
  const members = h('div', { class: 'list-top' });
  main.append(
    breadcrumb(group.displayName),
    pageHeader(group.displayName, h('div', { class: 'badges' }, badge('Managed by SCIM', 'info'))),
    h('p', { class: 'notice' }, 'This group is managed by your identity provider over SCIM and is read-only here. Change its name or members in the identity provider.'),
    h('section', { class: 'card', 'aria-labelledby': 'group-facts-title' },
      h('h2', { id: 'group-facts-title' }, 'Details'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Members'), h('dd', {}, formatNumber(group.members)),
        h('dt', {}, 'External ID'), h('dd', {}, group.externalId || '—'),
        h('dt', {}, 'SCIM id'), h('dd', {}, h('code', {}, group.id)),
        h('dt', {}, 'Last change'), h('dd', {}, time(group.lastModified)))),
    h('section', { class: 'card', 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title' }, 'Members'),
      group.members > 0
        ? h('div', { class: 'toolbar', role: 'search' }, h('div', { class: 'field grow' }, h('label', { for: 'member-search' }, 'Search members'), search))
        : null,
      count, members),
    groupAssetsSection(group));

  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ q: state.q, start: state.start, count: state.count === 50 ? null : state.count,
      sort: state.sort === 'name' ? null : state.sort, order: state.descending ? 'desc' : null });
    try {
      const fresh = await api('GET', `groups/${encodeURIComponent(id)}${membersQuery()}`);
      if (mine === request && isCurrent()) show(fresh.members);
    } catch (error) {
      if (mine === request && isCurrent()) members.replaceChildren(errorBox(error.message));
    }
  }
  function show(page) {
    count.textContent = group.members > 0 ? `${formatNumber(page.total)} member${page.total === 1 ? '' : 's'}${state.q ? ' match' : ''}` : '';
    if (page.total === 0) {
      members.replaceChildren(state.q
        ? emptyState('No members match', 'Try the start of a first or last name, a user name, or part of an e-mail address.')
        : emptyState('No members', 'Members the identity provider adds to this group appear here.'));
      return;
    }
    const rows = page.items.map((m) => h('tr', { dataset: { member: m.id } },
      h('th', { scope: 'row' }, m.type === 'User'
        ? h('a', { href: `/users/${encodeURIComponent(m.id)}`, 'data-link': true }, m.display || m.userName || m.id)
        : h('a', { href: `/groups/${encodeURIComponent(m.id)}`, 'data-link': true }, m.display || m.id)),
      h('td', {}, m.userName || h('span', { class: 'muted' }, m.type === 'User' ? '—' : 'Group')),
      h('td', {}, m.type === 'User' ? (m.active ? badge('Active', 'ok') : badge('Deactivated', 'muted')) : badge('Group', 'info'))));
    members.replaceChildren(
      table('Members', [{ label: 'Name', sort: 'name' }, { label: 'User name', sort: 'userName' }, { label: 'Status', sort: 'status' }], rows, {
        sort: state.sort, descending: state.descending,
        onSort: (sort, descending) => { Object.assign(state, { sort, descending, start: 0 }); load(); },
      }),
      pager({ start: state.start, count: state.count, total: page.total, label: 'Members',
        onPage: (start, size) => { state.start = start; state.count = size; return load(); } }));
    members.querySelector('table').classList.add('dense');
  }
  search.addEventListener('input', debounce(() => { state.q = search.value.trim(); state.start = 0; load(); }));
  show(data.members);
}

function breadcrumb(current) {
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/groups', 'data-link': true }, 'Groups'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page' }, current));
}
