// Small building blocks of the page: element construction (text is always set as text, never parsed as
// HTML), dialogs, copy buttons, tables with server-side sorting, paging, field errors, and formatting.

/**
 * Creates an element. `props` may hold `class`, `text`, `on` (event listeners), `dataset`, and any other
 * attribute; children are nodes, strings (as text), arrays, or nothing (null, undefined, false).
 */
export function h(tag, props = {}, ...children) {
  const element = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') element.className = value;
    else if (key === 'text') element.textContent = value;
    else if (key === 'on') for (const [event, handler] of Object.entries(value)) element.addEventListener(event, handler);
    else if (key === 'dataset') Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(key, '');
    else element.setAttribute(key, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Announces a message to screen readers (and shows nothing). */
export function announce(message) {
  const region = document.getElementById('announcer');
  region.textContent = '';
  // A fresh text node after clearing makes screen readers repeat an identical message.
  window.requestAnimationFrame(() => { region.textContent = message; });
}

/** A message as a sentence: the server's details are often fragments ("the current password is wrong"). */
export function sentence(message) {
  const text = String(message || '').trim();
  if (!text) return text;
  const first = text[0].toLocaleUpperCase() + text.slice(1);
  return /[.!?)”"]$/.test(first) ? first : `${first}.`;
}

/** A message box for an error; `role=alert` makes it read out when it appears. */
export function errorBox(message) {
  return h('p', { class: 'error-box', role: 'alert' }, sentence(message));
}

export function emptyState(title, text, action) {
  return h('div', { class: 'empty-state' }, h('p', { class: 'empty-title' }, title), text ? h('p', {}, text) : null, action || null);
}

export function badge(text, kind = 'neutral', title) {
  return h('span', { class: `badge badge-${kind}`, title }, text);
}

/** Copies text to the clipboard; falls back to a selection copy where the Clipboard API is not offered. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch {
      // Fall through to the selection copy.
    }
  }
  const area = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true' });
  area.value = text;
  document.body.append(area);
  area.select();
  let copied = false;
  try {
    copied = document.execCommand('copy');
  } catch {
    copied = false;
  }
  area.remove();
  return copied;
}

/** A button that copies `getText()` and says so, visibly and to screen readers. */
export function copyButton(getText, label = 'Copy to clipboard') {
  const button = h('button', { type: 'button', class: 'button' }, label);
  let timer = null;
  button.addEventListener('click', async () => {
    const copied = await copyText(getText());
    const message = copied ? 'Copied to clipboard' : 'Copying failed: select the text and copy it yourself';
    button.textContent = copied ? 'Copied' : 'Copy failed';
    button.dataset.copied = copied ? 'yes' : 'no';
    announce(message);
    clearTimeout(timer);
    timer = setTimeout(() => { button.textContent = label; }, 2500);
  });
  return button;
}

/** A field that shows a value to copy: a read-only input and a copy button. */
export function copyField(id, label, value, hint) {
  const input = h('input', { id, type: 'text', readonly: true, class: 'mono', spellcheck: 'false', value });
  input.addEventListener('focus', () => input.select());
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    h('div', { class: 'copy-field' }, input, copyButton(() => input.value)),
    hint ? h('p', { class: 'hint' }, hint) : null);
}

/**
 * Opens a modal dialog. `build(close)` returns its content; `close(value)` closes it and resolves the
 * returned promise with `value` (Escape resolves it with undefined). Focus returns where it was.
 * `keepOpen()`, when given, may return a sentence: while it does, neither Escape nor a click outside
 * closes the dialog; the sentence is shown and read out instead (a one-time secret must not be lost to a
 * stray key).
 */
/** The close functions of the dialogs open now. */
const openDialogs = new Set();

/** Closes every open dialog (as Cancel would): a dialog belongs to the page it was opened on. */
export function closeDialogs() {
  for (const close of [...openDialogs]) close(undefined);
}

export function openDialog(title, build, { wide = false, keepOpen = null } = {}) {
  const previous = document.activeElement;
  return new Promise((resolve) => {
    const heading = h('h2', { id: 'dialog-title', tabindex: '-1' }, title);
    const dialog = h('dialog', { class: wide ? 'dialog wide' : 'dialog', 'aria-labelledby': 'dialog-title' });
    const held = h('p', { class: 'dialog-held', role: 'alert', hidden: true });
    let settled = false;
    const close = (value) => {
      if (settled) return;
      settled = true;
      openDialogs.delete(close);
      dialog.close();
      dialog.remove();
      if (previous && typeof previous.focus === 'function' && document.contains(previous)) previous.focus();
      resolve(value);
    };
    const holding = () => {
      const reason = keepOpen ? keepOpen() : null;
      if (!reason) return false;
      held.textContent = reason;
      held.hidden = false;
      return true;
    };
    // Escape is stopped at its key press while the dialog is held: a prevented `cancel` is not enough,
    // since browsers close a dialog anyway on a second Escape without other input in between.
    dialog.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && holding()) { event.preventDefault(); event.stopPropagation(); }
    });
    dialog.addEventListener('cancel', (event) => { event.preventDefault(); if (!holding()) close(undefined); });
    openDialogs.add(close);
    dialog.append(heading, held, build(close));
    document.body.append(dialog);
    dialog.showModal();
    const first = dialog.querySelector('[autofocus], input, select, textarea, button');
    (first || heading).focus();
  });
}

/** Asks a yes/no question in a dialog. */
export function confirmDialog({ title, message, confirm = 'Confirm', danger = false }) {
  return openDialog(title, (close) => h('div', {},
    h('p', {}, message),
    h('div', { class: 'dialog-actions' },
      h('button', { type: 'button', class: 'button', on: { click: () => close(false) } }, 'Cancel'),
      h('button', { type: 'button', class: danger ? 'button danger' : 'button primary', on: { click: () => close(true) } }, confirm))))
    .then((answer) => answer === true);
}

const numberFormat = new Intl.NumberFormat();
export function formatNumber(n) {
  return numberFormat.format(n);
}

const timeFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const secondsFormat = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'medium' });

/** A <time> element for an RFC 3339 timestamp, or a dash. */
export function time(iso, { seconds = false, empty = '—' } = {}) {
  if (!iso) return h('span', { class: 'muted' }, empty);
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return h('span', {}, iso);
  return h('time', { datetime: iso, title: `${date.toISOString()} (${relative(date)})` },
    (seconds ? secondsFormat : timeFormat).format(date));
}

function relative(date) {
  const seconds = Math.round((Date.now() - date.getTime()) / 1000);
  const format = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
  const steps = [[60, 'second'], [60, 'minute'], [24, 'hour'], [30, 'day'], [12, 'month']];
  let value = -seconds;
  for (const [size, unit] of steps) {
    if (Math.abs(value) < size) return format.format(Math.round(value), unit);
    value /= size;
  }
  return format.format(Math.round(value), 'year');
}

/** The page sizes a list offers, and the one the admin chose last (kept in this browser). */
export const PAGE_SIZES = [25, 50, 100];
const PAGE_SIZE_KEY = 'scimbox.page-size';

export function pageSize(query) {
  const asked = Number(query && query.get('count'));
  if (PAGE_SIZES.includes(asked)) return asked;
  const kept = Number(localStorage.getItem(PAGE_SIZE_KEY));
  return PAGE_SIZES.includes(kept) ? kept : 50;
}

let pagerCount = 0;

/**
 * "51–100 of 1,234" with Previous/Next, a jump to any page and the page size (25/50/100). `onPage(start,
 * count)` loads a page; once it has, the list's top (the element the pager is in) scrolls into view, so
 * that the next page is read from its first row.
 */
export function pager({ start, count, total, label, onPage }) {
  const first = total === 0 ? 0 : start + 1;
  const last = Math.min(start + count, total);
  const pages = Math.max(1, Math.ceil(total / count));
  const current = Math.floor(start / count) + 1;
  const n = ++pagerCount;
  let nav = null;
  const go = async (nextStart, nextCount = count) => {
    const list = nav && nav.parentElement;
    await onPage(Math.max(0, nextStart), nextCount);
    if (list && document.contains(list)) {
      list.scrollIntoView({ block: 'start' });
      const focusable = list.querySelector('th a, td a, th button');
      if (focusable) focusable.focus({ preventScroll: true });
    }
  };
  const jump = h('input', { id: `pager-${n}-page`, type: 'number', min: 1, max: pages, value: current, class: 'pager-page', inputmode: 'numeric' });
  const jumpForm = h('form', { class: 'pager-jump', novalidate: true },
    h('label', { for: jump.id }, 'Page'), jump, h('span', { class: 'muted' }, ` of ${formatNumber(pages)}`),
    h('button', { type: 'submit', class: 'button small' }, 'Go'));
  jumpForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const page = Math.min(pages, Math.max(1, Math.round(Number(jump.value) || 1)));
    go((page - 1) * count);
  });
  const size = h('select', { id: `pager-${n}-size`, class: 'pager-size' }, PAGE_SIZES.map((s) => h('option', { value: s }, String(s))));
  size.value = String(count);
  size.addEventListener('change', () => {
    const chosen = Number(size.value);
    localStorage.setItem(PAGE_SIZE_KEY, String(chosen));
    go(Math.floor(start / chosen) * chosen, chosen);
  });
  nav = h('nav', { class: 'pager', 'aria-label': `${label} pages` },
    h('span', { class: 'pager-status' }, `${formatNumber(first)}–${formatNumber(last)} of ${formatNumber(total)}`),
    h('button', { type: 'button', class: 'button', disabled: start <= 0, on: { click: () => go(start - count) } }, 'Previous'),
    h('button', { type: 'button', class: 'button', disabled: start + count >= total, on: { click: () => go(start + count) } }, 'Next'),
    pages > 1 ? jumpForm : null,
    h('span', { class: 'pager-size-field' }, h('label', { for: size.id }, 'Per page'), size));
  return nav;
}

/** Calls `fn` once input has paused for `ms`. */
export function debounce(fn, ms = 300) {
  let timer = null;
  return (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
}

/** A labelled form field around `control` (whose id the label names). */
export function field(label, control, hint) {
  const hintId = hint ? `${control.id}-hint` : null;
  if (hintId) control.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null);
}

/** A page heading that receives focus after navigation, so keyboard and screen reader users land on it. */
export function pageHeader(title, ...extra) {
  return h('div', { class: 'page-header' }, h('h1', { tabindex: '-1' }, title), ...extra);
}

/**
 * A table in a region named "… table" (so that it never shares its name with the card around it; axe:
 * landmark-unique). Each column is `{label, class, sort}`; with `sorting: {sort, descending, onSort}`, the
 * columns that have a `sort` key get a header button that orders the list on the server (`aria-sort`
 * says the current order). Every cell carries its column's label (`data-label`), which narrow screens
 * show beside the value when rows become stacked cards.
 */
export function table(caption, columns, rows, sorting = null) {
  const header = columns.map((c) => {
    if (!sorting || !c.sort) return h('th', { scope: 'col', class: c.class }, c.label);
    const active = sorting.sort === c.sort;
    const next = active ? !sorting.descending : false;
    const arrow = active ? (sorting.descending ? '↓' : '↑') : '';
    return h('th', { scope: 'col', class: c.class, 'aria-sort': active ? (sorting.descending ? 'descending' : 'ascending') : null },
      h('button', { type: 'button', class: 'sort-button', dataset: { sort: c.sort }, on: { click: () => sorting.onSort(c.sort, next) } },
        c.label, h('span', { class: 'sort-arrow', 'aria-hidden': 'true' }, arrow)));
  });
  for (const row of [rows].flat()) {
    if (!(row instanceof Element)) continue;
    [...row.children].forEach((cell, i) => {
      if (columns[i] && !cell.dataset.label) cell.dataset.label = columns[i].label;
    });
  }
  const region = h('div', { class: 'table-wrap', role: 'region', 'aria-label': `${caption} table`, tabindex: '0' },
    h('table', {},
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', {}, h('tr', {}, header)),
      h('tbody', {}, rows)));
  if (!sorting) return region;
  // Where rows are stacked cards (phone width) the header row is not shown: a "Sort by" list orders them.
  const id = `sort-${++sortSelects}`;
  const select = h('select', { id, class: 'sort-by' }, columns.filter((c) => c.sort).map((c) => [
    h('option', { value: `${c.sort}:asc` }, `${c.label} ↑`), h('option', { value: `${c.sort}:desc` }, `${c.label} ↓`)]));
  select.value = `${sorting.sort}:${sorting.descending ? 'desc' : 'asc'}`;
  select.addEventListener('change', () => {
    const [sort, order] = select.value.split(':');
    sorting.onSort(sort, order === 'desc');
  });
  return h('div', { class: 'sortable' }, h('div', { class: 'field sort-field' }, h('label', { for: id }, 'Sort by'), select), region);
}

let sortSelects = 0;

/** Shows `message` under the form control `control` (and marks it invalid); it is read out at once. */
export function fieldError(control, message) {
  const id = `${control.id}-error`;
  let box = document.getElementById(id);
  if (!box) {
    box = h('p', { class: 'field-error', id, role: 'alert' });
    const container = control.closest('.field') || control.parentElement;
    container.append(box);
  }
  box.textContent = sentence(message);
  control.setAttribute('aria-invalid', 'true');
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  if (!described.includes(id)) control.setAttribute('aria-describedby', [...described, id].join(' '));
  control.focus();
}

/** Removes the field errors of `form`. */
export function clearFieldErrors(form) {
  for (const box of form.querySelectorAll('.field-error')) {
    const control = form.querySelector(`[aria-describedby~="${box.id}"]`);
    if (control) {
      control.removeAttribute('aria-invalid');
      const rest = control.getAttribute('aria-describedby').split(' ').filter((x) => x && x !== box.id);
      if (rest.length) control.setAttribute('aria-describedby', rest.join(' '));
      else control.removeAttribute('aria-describedby');
    }
    box.remove();
  }
}

export function loading() {
  return h('p', { class: 'loading', role: 'status' }, 'Loading…');
}
