// My access: what the signed-in person can reach, at which level and why, and their groups. Read-only;
// every provisioned person who signs in through the identity provider sees it, admins too.

import { myAccess } from './api.js';
import { currentUser } from './app.js';
import { h, emptyState, errorBox, loading, pageHeader, pageSize, pager, table } from './ui.js';
import { kindLabel, levelLabel, reasonText } from './sharing.js';

export async function render(main, { query, isCurrent }) {
  const user = currentUser();
  main.append(pageHeader('My access',
    h('p', { class: 'page-lead' }, 'The capsules, data and pipelines you can reach, at which level, and why. ',
      'What you can reach follows your groups in your identity provider.')));
  const groups = h('section', { class: 'card', 'aria-labelledby': 'my-groups-title' },
    h('h2', { id: 'my-groups-title' }, 'Your groups'), loading());
  const assets = h('section', { class: 'card', 'aria-labelledby': 'my-assets-title' },
    h('h2', { id: 'my-assets-title' }, 'What you can reach'), loading());
  main.append(h('p', { class: 'muted', id: 'me-signed-in-as' }, `Signed in as ${user ? user.userName : ''}.`), groups, assets);

  const state = { start: Number(query.get('start')) || 0, count: pageSize(query) };
  const load = async () => {
    let data;
    try {
      data = await myAccess({ start: state.start, count: state.count });
    } catch (error) {
      if (!isCurrent()) return;
      assets.replaceChildren(h('h2', { id: 'my-assets-title' }, 'What you can reach'), errorBox(error.message));
      groups.replaceChildren(h('h2', { id: 'my-groups-title' }, 'Your groups'));
      return;
    }
    if (!isCurrent()) return;
    groups.replaceChildren(h('h2', { id: 'my-groups-title' }, 'Your groups'),
      data.groups.length === 0
        ? h('p', { class: 'muted' }, 'You are in no group.')
        : h('ul', { class: 'plain-list', id: 'my-groups' }, data.groups.map((g) =>
          h('li', {}, g.displayName, g.direct ? null : h('span', { class: 'muted' }, ' (through another group)')))));
    const body = data.totalResults === 0
      ? emptyState('Nothing yet', 'Nothing is shared with you or your groups yet. When someone shares a capsule, data asset or pipeline with you or with one of your groups, it appears here.')
      : [table('What you can reach', [{ label: 'Name' }, { label: 'Kind' }, { label: 'Level' }, { label: 'Why' }],
        data.assets.map((a) => h('tr', { dataset: { asset: a.id } },
          h('th', { scope: 'row' }, a.name), h('td', {}, kindLabel(a.kind)),
          h('td', {}, levelLabel(a.access.level)), h('td', {}, reasonText(a.access.via))))),
      data.totalResults > state.count ? pager({ start: state.start, count: state.count, total: data.totalResults, label: 'My access',
        onPage: async (start, count) => { state.start = start; state.count = count; await load(); } }) : null];
    assets.replaceChildren(h('h2', { id: 'my-assets-title' }, 'What you can reach'), ...[body].flat().filter(Boolean));
  };
  await load();
}
