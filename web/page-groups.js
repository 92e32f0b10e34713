// Groups: a paged, searchable list with member counts, and one group with a page of its members. Groups
// pushed over SCIM are read-only here.

import { api, queryString } from './api.js';
import { setQuery } from './app.js';
import { groupAssetsSection } from './sharing.js';
import { h, badge, debounce, emptyState, errorBox, formatNumber, loading, pageHeader, pager, table, time } from './ui.js';

const PAGE = 50;

export function render(main, context) {
  return context.id ? renderGroup(main, context) : renderList(main, context);
}

async function renderList(main, { query, isCurrent }) {
  const state = { q: query.get('q') || '', start: Number(query.get('start')) || 0 };
  const search = h('input', { id: 'group-search', type: 'search', value: state.q, placeholder: 'Start of a group name', autocomplete: 'off' });
  const count = h('p', { class: 'result-count', role: 'status' });
  const results = h('div', {}, loading());
  main.append(
    pageHeader('Groups', h('p', { class: 'page-lead' }, 'Groups your identity provider pushes. Membership decides who can reach what is shared with a group.')),
    h('div', { class: 'toolbar', role: 'search' }, h('div', { class: 'field grow' }, h('label', { for: 'group-search' }, 'Search groups'), search)),
    count, results);
  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ q: state.q, start: state.start });
    let data;
    try {
      data = await api('GET', `groups${queryString({ q: state.q, start: state.start, count: PAGE })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    count.textContent = `${formatNumber(data.total)} group${data.total === 1 ? '' : 's'}`;
    if (data.total === 0) {
      results.replaceChildren(state.q
        ? emptyState('No groups match', 'Try the start of another group name.')
        : emptyState('No groups yet', 'Groups appear here when your identity provider pushes them (in Okta: the Push Groups tab).'));
      return;
    }
    const rows = data.items.map((group) => h('tr', {},
      h('th', { scope: 'row' }, h('a', { href: `/groups/${encodeURIComponent(group.id)}`, 'data-link': true }, group.displayName)),
      h('td', { class: 'number' }, formatNumber(group.members)),
      h('td', {}, badge('Managed by SCIM', 'info')),
      h('td', { class: 'wide-only' }, group.externalId || h('span', { class: 'muted' }, '—')),
      h('td', { class: 'wide-only' }, time(group.lastModified))));
    results.replaceChildren(
      table('Groups', [{ label: 'Name' }, { label: 'Members', class: 'number' }, { label: 'Source' },
        { label: 'External ID', class: 'wide-only' }, { label: 'Last change', class: 'wide-only' }], rows),
      pager({ start: state.start, count: PAGE, total: data.total, label: 'Groups', onPage: (start) => { state.start = start; load(); } }));
  }
  search.addEventListener('input', debounce(() => { state.q = search.value.trim(); state.start = 0; load(); }));
  await load();
}

async function renderGroup(main, { id, query, isCurrent }) {
  let start = Number(query.get('start')) || 0;
  let data;
  try {
    data = await api('GET', `groups/${encodeURIComponent(id)}${queryString({ start, count: PAGE })}`);
  } catch (error) {
    main.append(breadcrumb('Group'), h('h1', { tabindex: '-1' }, 'Group not found'), errorBox(error.message));
    return;
  }
  if (!isCurrent()) return;
  const { group } = data;
  document.title = `${group.displayName} · scimbox`;
  const members = h('div', {});
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
    h('section', { class: 'card', 'aria-labelledby': 'members-title' }, h('h2', { id: 'members-title' }, 'Members'), members),
    groupAssetsSection(group));

  function show(page) {
    if (page.total === 0) {
      members.replaceChildren(emptyState('No members', 'Members the identity provider adds to this group appear here.'));
      return;
    }
    const rows = page.items.map((m) => h('tr', {},
      h('th', { scope: 'row' }, m.type === 'User'
        ? h('a', { href: `/users/${encodeURIComponent(m.id)}`, 'data-link': true }, m.display || m.userName || m.id)
        : h('a', { href: `/groups/${encodeURIComponent(m.id)}`, 'data-link': true }, m.display || m.id)),
      h('td', {}, m.userName || h('span', { class: 'muted' }, '—')),
      h('td', {}, m.type === 'User' ? 'User' : 'Group'),
      h('td', {}, m.type === 'User' ? (m.active ? badge('Active', 'ok') : badge('Deactivated', 'muted')) : null)));
    members.replaceChildren(
      table('Members', [{ label: 'Name' }, { label: 'User name' }, { label: 'Type' }, { label: 'Status' }], rows),
      pager({ start, count: PAGE, total: page.total, label: 'Members', onPage: async (next) => {
        try {
          const fresh = await api('GET', `groups/${encodeURIComponent(id)}${queryString({ start: next, count: PAGE })}`);
          start = next;
          setQuery({ start });
          show(fresh.members);
        } catch (error) {
          members.prepend(errorBox(error.message));
        }
      } }));
  }
  show(data.members);
}

function breadcrumb(current) {
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/groups', 'data-link': true }, 'Groups'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page' }, current));
}
