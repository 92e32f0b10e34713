// Assets: capsules, data assets and pipelines. A server-side paged list (by kind, searched by name) with
// New asset; one asset with its owner, who has access (and why the owner may be unreachable), and its
// actions: Share (Set Permissions), Rename, Change owner, Extend its owner's ownership, Delete.

import { platformApi, queryString } from './api.js';
import { navigate, setQuery } from './app.js';
import { h, announce, badge, clearFieldErrors, confirmDialog, debounce, emptyState, errorBox, field, fieldError, formatNumber, loading, openDialog, pageHeader, pageSize, pager, table, time } from './ui.js';
import { KINDS, extensionResult, kindLabel, levelLabel, openExtendDialog, openShareDialog, personName, principalPicker, takeUnsavedPermissions } from './sharing.js';

/** What Extend ownership did from an asset's page, shown once on that page when it is drawn again. */
let extended = null;

export function render(main, context) {
  return context.id ? renderAsset(main, context) : renderList(main, context);
}

async function renderList(main, { query, isCurrent }) {
  const state = {
    q: query.get('q') || '', kind: query.get('kind') || '', start: Number(query.get('start')) || 0, count: pageSize(query),
    needsOwner: query.get('needsOwner') === '1',
  };
  const search = h('input', { id: 'asset-search', type: 'search', value: state.q, placeholder: 'Any word of a name', autocomplete: 'off' });
  const kind = h('select', { id: 'asset-kind' }, h('option', { value: '' }, 'All kinds'), KINDS.map((k) => h('option', { value: k.value }, k.plural)));
  kind.value = state.kind;
  const create = h('button', { type: 'button', class: 'button primary', id: 'new-asset' }, 'New asset');
  const banner = h('div', {});
  const views = h('div', { class: 'view-tabs', role: 'group', 'aria-label': 'Which assets' });
  const filters = h('div', { class: 'toolbar', role: 'search' },
    h('div', { class: 'field grow' }, h('label', { for: 'asset-search' }, 'Search assets'), search),
    h('div', { class: 'field' }, h('label', { for: 'asset-kind' }, 'Kind'), kind),
    h('div', { class: 'end' }, create));
  const count = h('p', { class: 'result-count', role: 'status' });
  const results = h('div', { class: 'list-top' }, loading());
  main.append(
    pageHeader('Assets', h('p', { class: 'page-lead' }, 'Capsules, data assets and pipelines. Share them with groups, and whoever your identity provider puts in a group gets them; nothing is lost when people leave.')),
    banner, views, filters, count, results);

  // How many assets no active user can act as the owner of: on every visit of the page, as a banner.
  let orphaned = 0;
  async function countOrphaned() {
    try {
      orphaned = (await platformApi('GET', `assets${queryString({ needsOwner: 'true', count: 1 })}`)).totalResults;
    } catch {
      orphaned = 0;
    }
    if (!isCurrent()) return;
    banner.replaceChildren(orphaned > 0 && !state.needsOwner
      ? h('p', { class: 'warning-box', id: 'needs-owner-banner' },
        `${formatNumber(orphaned)} asset${orphaned === 1 ? ' needs' : 's need'} an owner: the people who owned ${orphaned === 1 ? 'it' : 'them'} have left and nobody active can act as owner. `,
        h('a', { href: '/assets?needsOwner=1', 'data-link': true }, 'Review them'), '.')
      : null);
    drawViews();
  }
  function drawViews() {
    const tab = (label, on, href) => h('a', { href, 'data-link': true, class: on ? 'view-tab current' : 'view-tab', 'aria-current': on ? 'page' : null }, label);
    views.replaceChildren(tab('All assets', !state.needsOwner, '/assets'),
      tab(`Needs an owner (${formatNumber(orphaned)})`, state.needsOwner, '/assets?needsOwner=1'));
  }
  drawViews();
  filters.hidden = state.needsOwner;

  let request = 0;
  async function load() {
    const mine = ++request;
    setQuery({ q: state.q, kind: state.kind, start: state.start, count: state.count === 50 ? null : state.count, needsOwner: state.needsOwner ? 1 : null });
    let data;
    try {
      data = await platformApi('GET', `assets${queryString(state.needsOwner
        ? { needsOwner: 'true', start: state.start, count: state.count }
        : { q: state.q, kind: state.kind, start: state.start, count: state.count })}`);
    } catch (error) {
      if (mine === request && isCurrent()) results.replaceChildren(errorBox(error.message));
      return;
    }
    if (mine !== request || !isCurrent()) return;
    const total = data.totalResults;
    count.textContent = state.needsOwner
      ? `${formatNumber(total)} ${total === 1 ? 'asset needs' : 'assets need'} an owner`
      : `${formatNumber(total)} asset${total === 1 ? '' : 's'}`;
    if (data.totalResults === 0) {
      results.replaceChildren(state.needsOwner
        ? emptyState('Every asset has an owner', 'When the owners of an asset leave and nobody active can act as its owner, it appears here.')
        : state.q || state.kind
          ? emptyState('No assets match', 'Try the start of another word of a name, or show every kind.')
          : emptyState('No assets yet', 'Create a capsule, data asset or pipeline, then share it with a group.'));
      return;
    }
    const rows = data.assets.map((asset) => h('tr', { dataset: { asset: asset.id } },
      h('th', { scope: 'row' }, h('a', { href: `/assets/${encodeURIComponent(asset.id)}`, 'data-link': true }, asset.name)),
      h('td', {}, kindLabel(asset.kind)),
      h('td', {}, personName(asset.owner)),
      h('td', {}, time(asset.updatedAt))));
    results.replaceChildren(
      state.needsOwner ? h('p', { class: 'hint' }, 'Open an owner to give everything they owned to a colleague or a group in one step (Extend ownership), or open an asset to change its owner.') : null,
      table(state.needsOwner ? 'Assets that need an owner' : 'Assets', [{ label: 'Name' }, { label: 'Kind' }, { label: 'Owner' }, { label: 'Last change' }], rows),
      pager({ start: state.start, count: state.count, total: data.totalResults, label: 'Assets',
        onPage: (start, size) => { state.start = start; state.count = size; return load(); } }));
    results.querySelector('table').classList.add('dense');
  }
  search.addEventListener('input', debounce(() => { state.q = search.value.trim(); state.start = 0; load(); }));
  kind.addEventListener('change', () => { state.kind = kind.value; state.start = 0; load(); });
  create.addEventListener('click', async () => {
    const created = await openCreateDialog(state.kind);
    if (created) navigate(`/assets/${encodeURIComponent(created.id)}`);
  });
  await Promise.all([load(), countOrphaned()]);
}

function openCreateDialog(preselected) {
  return openDialog('New asset', (close) => {
    let owner = null;
    const kind = h('select', { id: 'asset-new-kind' }, KINDS.map((k) => h('option', { value: k.value }, k.label)));
    kind.value = preselected || 'capsule';
    const name = h('input', { id: 'asset-new-name', maxlength: 200, autocomplete: 'off', required: true });
    const chosen = h('p', { class: 'muted', id: 'asset-new-owner' }, 'No owner chosen yet.');
    const status = h('div', {});
    const submit = h('button', { type: 'submit', class: 'button primary' }, 'Create');
    const form = h('form', { class: 'form', novalidate: true },
      field('Kind', kind), field('Name', name),
      principalPicker({
        id: 'asset-owner-search', label: 'Owner', groups: false,
        onPick: (option) => { owner = option; chosen.replaceChildren('Owner: ', h('strong', {}, option.display), '.'); },
      }),
      chosen, status,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', on: { click: () => close() } }, 'Cancel'), submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      status.replaceChildren();
      if (!name.value.trim()) return fieldError(name, 'Give the asset a name.');
      if (!owner) return fieldError(form.querySelector('#asset-owner-search'), 'Choose its owner: an active user.');
      submit.disabled = true;
      try {
        const created = await platformApi('POST', 'assets', { kind: kind.value, name: name.value.trim(), owner: owner.id });
        announce(`${kindLabel(created.kind)} ${created.name} created`);
        close(created);
      } catch (error) {
        status.replaceChildren(errorBox(error.message));
        submit.disabled = false;
      }
    });
    return form;
  });
}

function openRenameDialog(asset) {
  return openDialog(`Rename “${asset.name}”`, (close) => {
    const name = h('input', { id: 'asset-rename', maxlength: 200, autocomplete: 'off', value: asset.name });
    const status = h('div', {});
    const form = h('form', { class: 'form', novalidate: true }, field('New name', name), status,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', on: { click: () => close() } }, 'Cancel'),
        h('button', { type: 'submit', class: 'button primary' }, 'Rename')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      if (!name.value.trim()) return fieldError(name, 'Give the asset a name.');
      try {
        close(await platformApi('PATCH', `assets/${encodeURIComponent(asset.id)}`, { name: name.value }));
      } catch (error) {
        if (error.status === 400) fieldError(name, error.message);
        else status.replaceChildren(errorBox(error.message));
      }
    });
    return form;
  });
}

function openOwnerDialog(asset) {
  return openDialog(`Change the owner of “${asset.name}”`, (close) => {
    const status = h('div', {});
    const picker = principalPicker({
      id: 'asset-reown-search', label: 'New owner (an active user)', groups: false,
      onPick: async (option) => {
        try {
          close(await platformApi('PATCH', `assets/${encodeURIComponent(asset.id)}`, { owner: option.id }));
        } catch (error) {
          status.replaceChildren(errorBox(error.message));
        }
      },
    });
    return h('div', {}, picker, status,
      h('div', { class: 'dialog-actions' }, h('button', { type: 'button', class: 'button', on: { click: () => close() } }, 'Cancel')));
  });
}

async function renderAsset(main, { id, isCurrent }) {
  let data;
  try {
    data = await platformApi('GET', `assets/${encodeURIComponent(id)}/permissions`);
  } catch (error) {
    main.append(breadcrumb('Asset'), h('h1', { tabindex: '-1' }, 'Asset not found'), errorBox(error.message));
    return;
  }
  if (!isCurrent()) return;
  const { asset } = data;
  document.title = `${asset.name} · scimbox`;
  const share = h('button', { type: 'button', class: 'button primary', id: 'share-button' }, 'Share');
  const rename = h('button', { type: 'button', class: 'button', id: 'rename-asset' }, 'Rename');
  const reown = h('button', { type: 'button', class: 'button', id: 'change-owner' }, 'Change owner');
  const remove = h('button', { type: 'button', class: 'button danger-outline', id: 'delete-asset' }, 'Delete');
  const ownerGone = asset.owner.status !== 'active';
  const extend = ownerGone ? h('button', { type: 'button', class: 'button', id: 'extend-owner' }, 'Extend ownership') : null;
  const access = data.permissions.length === 0
    ? emptyState('Not shared', 'Only the owner has access. Use Share to give people or groups access.')
    : table('Who has access', [{ label: 'User or group' }, { label: 'Level' }],
      data.permissions.map((p) => h('tr', { dataset: { principal: p.id } },
        h('th', { scope: 'row' }, p.type === 'group'
          ? h('span', {}, h('a', { href: `/groups/${encodeURIComponent(p.id)}`, 'data-link': true }, p.displayName), ' ', badge('Group', 'info'))
          : personName(p)),
        h('td', {}, levelLabel(p.level)))));
  const shown = extended && extended.assetId === asset.id ? extended : null;
  extended = null;
  // main.append would write a null as the text "null"; h() leaves it out.
  main.append(h('div', {},
    breadcrumb(asset.name),
    pageHeader(asset.name, h('div', { class: 'badges' }, badge(kindLabel(asset.kind), 'info'))),
    shown ? extensionResult(shown.outcome) : null,
    data.ownerReachable ? null : h('p', { class: 'warning-box', role: 'status' },
      'No active user can act as this asset’s owner. Change its owner, or extend its owner’s ownership to a colleague or a group.'),
    h('div', { class: 'toolbar' }, share, rename, reown, extend, remove),
    h('section', { class: 'card', 'aria-labelledby': 'asset-facts-title' },
      h('h2', { id: 'asset-facts-title' }, 'Details'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Kind'), h('dd', {}, kindLabel(asset.kind)),
        h('dt', {}, 'Owner'), h('dd', {}, personName(asset.owner)),
        h('dt', {}, 'Created'), h('dd', {}, time(asset.createdAt)),
        h('dt', {}, 'Last change'), h('dd', {}, time(asset.updatedAt)),
        h('dt', {}, 'Id'), h('dd', {}, h('code', {}, asset.id)))),
    h('section', { class: 'card', 'aria-labelledby': 'access-title' }, h('h2', { id: 'access-title' }, 'Who has access'), access)));

  const reload = () => navigate(`/assets/${encodeURIComponent(asset.id)}`, { replace: true });
  share.addEventListener('click', async () => { if (await openShareDialog(data)) reload(); });
  // Back from signing in again: the list the ended session could not save opens where it was left.
  const unsaved = takeUnsavedPermissions(asset.id);
  if (unsaved) openShareDialog(data, unsaved).then((saved) => { if (saved) reload(); });
  rename.addEventListener('click', async () => { if (await openRenameDialog(asset)) reload(); });
  reown.addEventListener('click', async () => { if (await openOwnerDialog(asset)) reload(); });
  if (extend) {
    extend.addEventListener('click', async () => {
      const outcome = await openExtendDialog(asset.owner);
      if (!outcome) return;
      extended = { assetId: asset.id, outcome };
      reload();
    });
  }
  remove.addEventListener('click', async () => {
    const yes = await confirmDialog({
      title: `Delete “${asset.name}”?`,
      message: `The ${kindLabel(asset.kind).toLowerCase()} and everyone’s access to it are removed. This cannot be undone.`,
      confirm: 'Delete', danger: true,
    });
    if (!yes) return;
    try {
      await platformApi('DELETE', `assets/${encodeURIComponent(asset.id)}`);
      announce(`${asset.name} deleted`);
      navigate('/assets');
    } catch (error) {
      main.prepend(errorBox(error.message));
    }
  });
}

function breadcrumb(current) {
  return h('nav', { class: 'breadcrumb', 'aria-label': 'Breadcrumb' },
    h('a', { href: '/assets', 'data-link': true }, 'Assets'), h('span', { 'aria-hidden': 'true' }, ' / '), h('span', { 'aria-current': 'page' }, current));
}
