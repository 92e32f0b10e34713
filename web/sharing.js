// Sharing pieces the pages share: the search-as-you-type picker over users and SCIM-pushed groups, the
// Share dialog (Set Permissions), the owner and reason texts, and the asset sections of a user's and a
// group's page. Assets and permissions come from the platform API (`/api/v1/`), users and groups from
// the admin API's directory search.

import { api, platformApi, queryString } from './api.js';
import { h, announce, badge, debounce, emptyState, errorBox, formatNumber, loading, openDialog, table } from './ui.js';

export const KINDS = [
  { value: 'capsule', label: 'Capsule', plural: 'Capsules' },
  { value: 'dataAsset', label: 'Data asset', plural: 'Data' },
  { value: 'pipeline', label: 'Pipeline', plural: 'Pipelines' },
];

const LEVEL_LABELS = { viewer: 'Viewer', editor: 'Editor', owner: 'Owner' };

export function kindLabel(kind) {
  return (KINDS.find((k) => k.value === kind) || { label: kind }).label;
}

export function levelLabel(level) {
  return LEVEL_LABELS[level] || level;
}

/** A user as a row shows them, linked to their page; a deleted user is a tombstone: "deleted user", whose
 * page lists what they owned for handing over. */
export function personName(user) {
  if (user.status === 'deleted') {
    return h('span', {}, badge('deleted user', 'muted', 'Deleted over SCIM; kept so that nothing they owned is lost'),
      ' ', h('a', { href: `/users/${encodeURIComponent(user.id)}`, 'data-link': true, class: 'muted-link' }, user.userName));
  }
  const name = user.displayName || user.userName;
  return h('span', {}, h('a', { href: `/users/${encodeURIComponent(user.id)}`, 'data-link': true }, name),
    user.status === 'deactivated' ? [' ', badge('Deactivated', 'muted')] : null);
}

/** Why a user holds a level: "owner", "shared directly", "through group X". */
export function reasonText(via) {
  return via.map((v) => {
    if (v.type === 'owner') return 'owner';
    if (v.type === 'direct') return 'shared directly';
    return `through group ${v.displayName}${v.nested ? ' (nested)' : ''}`;
  }).join('; ');
}

/**
 * A search-as-you-type field over users (and groups when `groups`), as an ARIA combobox: arrow keys move
 * through the options, Enter picks, Escape closes the list. The list opens as soon as the field has the
 * focus, groups first with their member counts, then people; typing narrows it to the names, user names
 * and e-mail addresses with a word starting so. `onPick({type, id, display, detail})`.
 */
export function principalPicker({ id, label, groups = true, onPick }) {
  const listId = `${id}-options`;
  // A text field, not type=search: Escape in a search field clears its text, which swallowed the Escape
  // meant for the dialog once the list was closed (one Escape must close one thing).
  const input = h('input', {
    id, type: 'text', autocomplete: 'off', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
    'aria-controls': listId, placeholder: groups ? 'A group, a name, a user name or an e-mail' : 'A name, a user name or an e-mail',
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'picker-options', hidden: true, 'aria-label': label });
  let options = [];
  let active = -1;
  let request = 0;
  // The close that a blur schedules (so that a click on an option lands first). Focus coming back
  // cancels it: a stale one would otherwise shut the list the new focus opened, and the Escape meant
  // for that list would then close the dialog.
  let blurClose = null;

  function close() {
    ++request; // an answer still on its way must not open the list again
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }
  function highlight(index) {
    active = index;
    list.querySelectorAll('[role=option]').forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
    if (index >= 0) input.setAttribute('aria-activedescendant', `${listId}-${index}`);
  }
  function pick(index) {
    const option = options[index];
    if (!option) return;
    close();
    input.value = '';
    onPick(option);
  }
  const lookUp = async () => {
    const text = input.value.trim();
    const mine = ++request;
    if (document.activeElement !== input) return;
    const answer = await Promise.all([
      api('GET', `users${queryString({ q: text, status: 'active', count: 8, sort: 'name' })}`),
      groups ? api('GET', `groups${queryString({ q: text, count: 8 })}`) : Promise.resolve({ items: [] }),
    ]).then((found) => ({ found }), (error) => ({ error }));
    // An answer, or a failure, that a newer request or a close has overtaken, or that comes after the
    // focus left, is dropped.
    if (mine !== request || document.activeElement !== input) return;
    if ('error' in answer) {
      options = [];
      list.replaceChildren(h('li', { class: 'picker-empty' }, answer.error.message));
      list.hidden = false;
      return;
    }
    const [users, found] = answer.found;
    options = [
      ...found.items.map((g) => ({ type: 'group', id: g.id, display: g.displayName, detail: `${formatNumber(g.members)} member${g.members === 1 ? '' : 's'}` })),
      ...users.items.map((u) => ({ type: 'user', id: u.id, display: u.name || u.userName, detail: u.userName })),
    ];
    list.replaceChildren(...(options.length === 0
      ? [h('li', { class: 'picker-empty' }, 'Nobody matches')]
      : options.map((o, i) => h('li', {
        id: `${listId}-${i}`, role: 'option', 'aria-selected': 'false', dataset: { type: o.type, id: o.id },
        on: { mousedown: (event) => { event.preventDefault(); pick(i); } },
      }, h('span', { class: 'picker-name' }, o.display), ' ',
      o.type === 'group' ? [badge('Group', 'info'), ' '] : null, h('span', { class: 'muted' }, o.detail)))));
    list.hidden = false;
    input.setAttribute('aria-expanded', 'true');
    highlight(options.length ? 0 : -1);
  };
  const search = debounce(lookUp, 200);

  // What the list shows no longer matches the text: hide it until the new answer arrives, so that a
  // quick click or Enter never picks from the old list.
  input.addEventListener('input', () => { close(); options = []; list.replaceChildren(); search(); });
  input.addEventListener('focus', () => {
    clearTimeout(blurClose);
    if (list.hidden) lookUp();
  });
  input.addEventListener('blur', () => { blurClose = setTimeout(close, 150); });
  input.addEventListener('keydown', (event) => {
    if (list.hidden) {
      if (event.key === 'ArrowDown') { event.preventDefault(); lookUp(); }
      return;
    }
    if (event.key === 'ArrowDown') { event.preventDefault(); highlight(Math.min(options.length - 1, active + 1)); }
    else if (event.key === 'ArrowUp') { event.preventDefault(); highlight(Math.max(0, active - 1)); }
    else if (event.key === 'Enter') { event.preventDefault(); pick(active); }
    else if (event.key === 'Escape') { event.preventDefault(); event.stopPropagation(); close(); }
  });
  return h('div', { class: 'field picker' }, h('label', { for: id }, label), input, list);
}

/** Where an unsaved permission list waits while its admin signs in again after the session ended. */
const unsavedKey = (assetId) => `scimbox.unsaved-permissions.${assetId}`;

/** The permission list of `assetId` that a Save could not send because the session had ended, if any
 * (taken: asking again answers nothing). */
export function takeUnsavedPermissions(assetId) {
  const key = unsavedKey(assetId);
  const text = sessionStorage.getItem(key);
  sessionStorage.removeItem(key);
  try {
    const rows = JSON.parse(text);
    return Array.isArray(rows) ? rows : null;
  } catch {
    return null;
  }
}

/**
 * The Share dialog: Set Permissions on `asset` (a permission list as the platform API returns it), or on
 * `unsaved` rows kept from a Save the ended session refused. Resolves with the saved list, or undefined
 * when cancelled.
 */
export function openShareDialog(permissions, unsaved = null) {
  const { asset, levels } = permissions;
  const rows = (unsaved || permissions.permissions).map((p) => ({ ...p }));
  return openDialog(`Share “${asset.name}”`, (close) => {
    const status = h('div', {}, unsaved
      ? h('p', { class: 'warning-box', role: 'status', id: 'share-restored' },
        'Your session ended before these changes were saved. They are kept here: check them and choose Save.')
      : null);
    const body = h('tbody', {});
    const draw = () => {
      if (rows.length === 0) {
        body.replaceChildren(h('tr', {}, h('td', { colspan: '3', class: 'muted' }, 'Only the owner has access. Add people or groups above.')));
        return;
      }
      body.replaceChildren(...rows.map((row, index) => {
        const select = h('select', { 'aria-label': `Level for ${row.display}`, class: 'level-select', dataset: { principal: row.id } },
          levels.map((level) => h('option', { value: level }, levelLabel(level))));
        select.value = row.level;
        select.addEventListener('change', () => { row.level = select.value; });
        const remove = h('button', {
          type: 'button', class: 'button small quiet', 'aria-label': `Remove ${row.display}`,
          on: { click: () => { rows.splice(index, 1); draw(); announce(`${row.display} removed`); } },
        }, 'Remove');
        return h('tr', { dataset: { principal: row.id } },
          h('th', { scope: 'row' }, row.type === 'group'
            ? h('span', {}, row.display, ' ', badge('Group', 'info'))
            : (row.status === 'deleted' ? personName(row) : row.display)),
          h('td', { dataset: { label: 'Level' } }, select),
          h('td', { class: 'actions', dataset: { label: '' } }, remove));
      }));
    };
    const picker = principalPicker({
      id: 'share-search', label: 'Add people or groups',
      onPick: (option) => {
        const existing = rows.find((r) => r.type === option.type && r.id === option.id);
        if (!existing) rows.push({ type: option.type, id: option.id, display: option.display, level: 'viewer' });
        draw();
        const select = body.querySelector(`select[data-principal="${CSS.escape(option.id)}"]`);
        if (select) select.focus();
        announce(existing ? `${option.display} is already in the list` : `${option.display} added as Viewer`);
      },
    });
    const save = h('button', { type: 'button', class: 'button primary', id: 'share-save' }, 'Save');
    save.addEventListener('click', async () => {
      save.disabled = true;
      try {
        const saved = await platformApi('PUT', `assets/${encodeURIComponent(asset.id)}/permissions`, {
          permissions: rows.map((r) => ({ type: r.type, id: r.id, level: r.level })),
        });
        announce('Permissions saved');
        close(saved);
      } catch (error) {
        if (error.status === 401) {
          // The page goes to sign-in (and this dialog closes); the list waits for the admin's return.
          sessionStorage.setItem(unsavedKey(asset.id), JSON.stringify(rows));
          return;
        }
        status.replaceChildren(errorBox(error.message));
        save.disabled = false;
      }
    });
    draw();
    return h('div', {},
      h('h3', { class: 'dialog-section' }, 'Set Permissions'),
      picker,
      h('div', { class: 'table-wrap share-table' },
        h('table', {}, h('caption', { class: 'visually-hidden' }, 'Who has access'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'User or group'), h('th', { scope: 'col' }, 'Level'),
            h('th', { scope: 'col', class: 'visually-hidden-label' }, h('span', {}, 'Actions')))),
          body)),
      h('p', { class: 'hint' }, `Owner of record: ${asset.owner.display}. Levels of a ${kindLabel(asset.kind).toLowerCase()}: ${levels.map(levelLabel).join(', ')}.`),
      status,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', on: { click: () => close() } }, 'Cancel'), save));
  }, { wide: true });
}

/** A short list of asset names: all of them up to 8, else the first 8 and how many more. */
function assetNames(assets) {
  const shown = assets.slice(0, 8).map((a) => a.name).join(', ');
  return assets.length > 8 ? `${shown} and ${formatNumber(assets.length - 8)} more` : shown;
}

/**
 * Extend ownership: gives a user or group Owner on everything `user` owns. Once the heir is chosen, the
 * dialog lists the assets that will change (and those where the heir is an Owner already) before the
 * admin confirms. Resolves with the outcome (with `heir`), or undefined when cancelled.
 */
export function openExtendDialog(user) {
  const name = user.status === 'deleted' ? `deleted user ${user.userName}` : (user.displayName || user.name || user.userName);
  return openDialog(`Extend ownership of ${name}’s assets`, (close) => {
    let heir = null;
    let preview = 0;
    const chosen = h('div', { id: 'extend-chosen', 'aria-live': 'polite' }, h('p', { class: 'muted' }, 'Nobody chosen yet.'));
    const status = h('div', {});
    const confirm = h('button', { type: 'button', class: 'button primary', id: 'extend-confirm', disabled: true }, 'Extend ownership');
    const url = `users/${encodeURIComponent(user.id)}/extend-ownership`;
    const picker = principalPicker({
      id: 'extend-search', label: 'Give Owner to',
      onPick: async (option) => {
        heir = option;
        confirm.disabled = true;
        status.replaceChildren();
        const mine = ++preview;
        const who = h('strong', {}, option.display);
        chosen.replaceChildren(h('p', {}, 'Checking what changes for ', who, '…'));
        let plan;
        try {
          plan = await platformApi('POST', url, { to: { type: heir.type, id: heir.id }, preview: true });
        } catch (error) {
          if (mine === preview) chosen.replaceChildren(errorBox(error.message));
          return;
        }
        if (mine !== preview) return;
        const label = option.type === 'group' ? [' ', badge('Group', 'info')] : null;
        chosen.replaceChildren(h('div', {},
          plan.changed.length === 0
            ? h('p', {}, h('strong', {}, option.display), label, ' is an Owner of everything this user owns already: nothing will change.')
            : [h('p', {}, h('strong', {}, option.display), label, ` will become an Owner of ${plan.changed.length === 1 ? 'this asset' : `these ${formatNumber(plan.changed.length)} assets`}:`),
              h('ul', { class: 'plain-list change-list', id: 'extend-changes' }, plan.changed.slice(0, 50).map((a) => h('li', {}, assetLink(a)))),
              plan.changed.length > 50 ? h('p', { class: 'muted' }, `and ${formatNumber(plan.changed.length - 50)} more.`) : null],
          plan.unchanged.length ? h('p', { class: 'muted' }, `Already an Owner of ${assetNames(plan.unchanged)}.`) : null));
        confirm.textContent = plan.changed.length ? `Extend ownership of ${formatNumber(plan.changed.length)} asset${plan.changed.length === 1 ? '' : 's'}` : 'Extend ownership';
        confirm.disabled = plan.changed.length === 0;
        if (!confirm.disabled) confirm.focus();
      },
    });
    confirm.addEventListener('click', async () => {
      confirm.disabled = true;
      try {
        const outcome = await platformApi('POST', url, { to: { type: heir.type, id: heir.id } });
        announce(`${heir.display} is now an Owner of ${outcome.extended} assets`);
        close({ ...outcome, heir });
      } catch (error) {
        status.replaceChildren(errorBox(error.message));
        confirm.disabled = false;
      }
    });
    return h('div', {},
      h('p', {}, 'The person or group you choose becomes an Owner of every capsule, data asset and pipeline this user owns, in one step. Nothing is taken away from anyone.'),
      picker, chosen, status,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', on: { click: () => close() } }, 'Cancel'), confirm));
  }, { wide: true });
}

/** The sentence that says what an extension did, shown on the page it was started from. */
export function extensionResult(outcome) {
  return h('div', { class: 'success-box', role: 'status', id: 'extend-result' },
    h('p', {}, h('strong', {}, outcome.heir.display), outcome.extended === 0
      ? ' was an Owner of everything already; nothing changed.'
      : ` is now an Owner of ${formatNumber(outcome.extended)} asset${outcome.extended === 1 ? '' : 's'}: ${assetNames(outcome.changed)}.`));
}

function assetLink(asset) {
  return h('a', { href: `/assets/${encodeURIComponent(asset.id)}`, 'data-link': true }, asset.name);
}

/** A co-owner as a short text with a link: a group, or a user. */
function coOwner(principal) {
  if (principal.type === 'group') {
    return h('span', {}, h('a', { href: `/groups/${encodeURIComponent(principal.id)}`, 'data-link': true }, principal.displayName), ' ', badge('Group', 'info'));
  }
  return personName(principal);
}

/**
 * The user page's Assets card: what they own (as owner of record or through an Owner grant) with the
 * other owners of each, what they can reach and why, and Extend ownership where they own something.
 * `user.deleted` marks a user the identity provider deleted: only what they owned is listed.
 */
export function userAssetsSection(user) {
  const owned = h('div', {}, loading());
  const reach = h('div', {}, user.deleted ? null : loading());
  const result = h('div', {});
  const extend = h('button', { type: 'button', class: 'button', id: 'extend-ownership', hidden: true }, 'Extend ownership');
  const summary = {
    id: user.id, userName: user.userName, displayName: user.name,
    status: user.deleted ? 'deleted' : (user.active ? 'active' : 'deactivated'),
  };
  async function load() {
    try {
      const [mine, reachable] = await Promise.all([
        platformApi('GET', `users/${encodeURIComponent(user.id)}/owned${queryString({ count: 200 })}`),
        user.deleted ? null : platformApi('GET', `users/${encodeURIComponent(user.id)}/assets${queryString({ count: 200 })}`),
      ]);
      // Offered only where there is something to hand over.
      extend.hidden = mine.totalResults === 0;
      owned.replaceChildren(mine.totalResults === 0
        ? emptyState('Owns nothing', 'Assets this user owns (as owner of record or through an Owner grant) appear here.')
        : table('Owned assets', [{ label: 'Name' }, { label: 'Kind' }, { label: 'How' }, { label: 'Other owners' }],
          mine.assets.map((a) => h('tr', { dataset: { asset: a.id } },
            h('th', { scope: 'row' }, assetLink(a)), h('td', {}, kindLabel(a.kind)),
            h('td', {}, a.ownerOfRecord ? 'Owner of record' : 'Owner grant'),
            h('td', { class: 'co-owners' }, a.coOwners.length
              ? a.coOwners.map((p, i) => [i ? ', ' : null, coOwner(p)])
              : (a.ownerReachable ? h('span', { class: 'muted' }, 'None') : badge('Needs an owner', 'warn')))))));
      if (user.deleted) return;
      if (!user.active) {
        reach.replaceChildren(h('p', { class: 'notice' }, 'Deactivated: no access to anything. Their shares and ownership are kept and come back if the identity provider reactivates them.'));
      } else if (reachable.totalResults === 0) {
        reach.replaceChildren(emptyState('No access', 'Assets shared with this user or their groups appear here.'));
      } else {
        reach.replaceChildren(table('Assets this user can reach', [{ label: 'Name' }, { label: 'Kind' }, { label: 'Level' }, { label: 'Why' }],
          reachable.assets.map((a) => h('tr', { dataset: { asset: a.id } },
            h('th', { scope: 'row' }, assetLink(a)), h('td', {}, kindLabel(a.kind)),
            h('td', {}, levelLabel(a.access.level)), h('td', {}, reasonText(a.access.via))))));
      }
    } catch (error) {
      owned.replaceChildren(errorBox(error.message));
      reach.replaceChildren();
    }
  }
  extend.addEventListener('click', async () => {
    const outcome = await openExtendDialog(summary);
    if (!outcome) return;
    result.replaceChildren(extensionResult(outcome));
    await load();
    result.scrollIntoView({ block: 'nearest' });
  });
  load();
  return h('section', { class: 'card', 'aria-labelledby': 'assets-title' },
    h('div', { class: 'card-header' }, h('h2', { id: 'assets-title' }, 'Assets'), extend),
    result,
    h('h3', { class: 'subheading' }, 'Owned'), owned,
    user.deleted ? null : [h('h3', { class: 'subheading' }, 'Owned and shared: what this user can reach'), reach]);
}

/** The group page's card: the assets shared with the group itself. */
export function groupAssetsSection(group) {
  const list = h('div', {}, loading());
  platformApi('GET', `groups/${encodeURIComponent(group.id)}/assets${queryString({ count: 200 })}`).then((data) => {
    list.replaceChildren(data.totalResults === 0
      ? emptyState('Nothing shared', 'Share a capsule, data asset or pipeline with this group from its Share dialog; every member gets it.')
      : table('Assets shared with this group', [{ label: 'Name' }, { label: 'Kind' }, { label: 'Level' }],
        data.assets.map((a) => h('tr', {}, h('th', { scope: 'row' }, assetLink(a)), h('td', {}, kindLabel(a.kind)), h('td', {}, levelLabel(a.level))))));
  }, (error) => list.replaceChildren(errorBox(error.message)));
  return h('section', { class: 'card', 'aria-labelledby': 'shared-assets-title' },
    h('h2', { id: 'shared-assets-title' }, 'Shared assets'), list);
}
