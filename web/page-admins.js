// Admins: who can sign in to this page; add and remove admins, change your own password.

import { api } from './api.js';
import { currentAdmin } from './app.js';
import { h, announce, clearFieldErrors, confirmDialog, errorBox, field, fieldError, loading, pageHeader, table, time } from './ui.js';

export async function render(main) {
  const list = h('div', {}, loading());
  // Someone signed in through the identity provider is an admin by group membership there, and has no
  // password here to change.
  const throughProvider = Boolean(currentAdmin()?.throughProvider);
  main.append(
    pageHeader('Admins', h('p', { class: 'page-lead' }, 'Local admin accounts: they sign in with a password, beside the members of the identity provider\'s admin group (Integrations). Use `scimbox admin create` on the server if every admin is locked out.')),
    h('section', { class: 'card', 'aria-labelledby': 'admins-title' }, h('h2', { id: 'admins-title' }, 'Local admin accounts'), list),
    h('div', { class: 'columns' }, addAdminForm(list), throughProvider ? null : passwordForm()));
  await loadAdmins(list);
}

async function loadAdmins(container) {
  let data;
  try {
    data = await api('GET', 'admins');
  } catch (error) {
    container.replaceChildren(errorBox(error.message));
    return;
  }
  const rows = data.admins.map((admin) => h('tr', {},
    h('th', { scope: 'row' }, admin.username, admin.you ? h('span', { class: 'muted' }, ' (you)') : null),
    h('td', {}, time(admin.createdAt)),
    h('td', { class: 'actions' }, admin.you ? null : h('button', {
      type: 'button', class: 'button small danger-outline', 'aria-label': `Remove admin ${admin.username}`,
      on: { click: () => removeAdmin(admin, container) },
    }, 'Remove'))));
  container.replaceChildren(table('Admins', [{ label: 'User name' }, { label: 'Added' }, { label: 'Actions', class: 'visually-hidden-label' }], rows));
}

async function removeAdmin(admin, container) {
  const yes = await confirmDialog({
    title: `Remove admin “${admin.username}”?`,
    message: 'They are signed out at once and can no longer sign in.',
    confirm: 'Remove admin',
    danger: true,
  });
  if (!yes) return;
  try {
    await api('DELETE', `admins/${encodeURIComponent(admin.id)}`);
    announce(`Admin ${admin.username} removed.`);
  } catch (error) {
    container.prepend(errorBox(error.message));
    return;
  }
  await loadAdmins(container);
}

function addAdminForm(list) {
  const username = h('input', { id: 'new-admin-username', autocomplete: 'off', required: true, maxlength: 64 });
  const password = h('input', { id: 'new-admin-password', type: 'password', autocomplete: 'new-password', required: true });
  const status = h('div', { class: 'form-status' });
  const form = h('form', { class: 'form', novalidate: true },
    field('User name', username), field('Password', password, 'At least 12 characters. Give it to them safely; they can change it.'),
    status, h('button', { type: 'submit', class: 'button primary' }, 'Add admin'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    status.replaceChildren();
    if (!username.value.trim()) return fieldError(username, 'Enter a user name for the new admin.');
    if (password.value.length < 12) return fieldError(password, 'The password must be at least 12 characters long.');
    try {
      await api('POST', 'admins', { username: username.value.trim(), password: password.value });
      status.replaceChildren(h('p', { class: 'success-box', role: 'status' }, `Admin ${username.value.trim()} added.`));
      form.reset();
      await loadAdmins(list);
    } catch (error) {
      // The server's refusals name what they are about: the password, else the name.
      if (error.status === 400 || error.status === 409) fieldError(/password/i.test(error.message) ? password : username, error.message);
      else status.replaceChildren(errorBox(error.message));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'add-admin-title' }, h('h2', { id: 'add-admin-title' }, 'Add an admin'), form);
}

function passwordForm() {
  const current = h('input', { id: 'current-password', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true });
  const repeat = h('input', { id: 'repeat-password', type: 'password', autocomplete: 'new-password', required: true });
  const status = h('div', { class: 'form-status' });
  // Whose password this is, for password managers (and Chromium's check that a password form names its
  // user); hidden, since the page says who is signed in.
  const username = h('input', { type: 'text', name: 'username', autocomplete: 'username', value: currentAdmin()?.username ?? '', readonly: true, hidden: true, tabindex: '-1' });
  const form = h('form', { class: 'form', novalidate: true }, username,
    field('Current password', current), field('New password', next, 'At least 12 characters. Your other sessions are signed out.'),
    field('Repeat the new password', repeat), status, h('button', { type: 'submit', class: 'button primary' }, 'Change password'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(form);
    status.replaceChildren();
    if (!current.value) return fieldError(current, 'Enter your current password.');
    if (next.value.length < 12) return fieldError(next, 'The new password must be at least 12 characters long.');
    if (next.value !== repeat.value) return fieldError(repeat, 'The two new passwords differ.');
    try {
      await api('POST', 'password', { currentPassword: current.value, newPassword: next.value });
      status.replaceChildren(h('p', { class: 'success-box', role: 'status' }, 'Your password is changed.'));
      form.reset();
    } catch (error) {
      if (error.status === 400) fieldError(/current password/i.test(error.message) ? current : next, error.message);
      else status.replaceChildren(errorBox(error.message));
    }
  });
  return h('section', { class: 'card', 'aria-labelledby': 'password-title' }, h('h2', { id: 'password-title' }, 'Change your password'), form);
}
