// Sign in.

import { api } from './api.js';
import { setupNeeded, signedIn } from './app.js';
import { h, clearFieldErrors, field, fieldError, errorBox } from './ui.js';

export async function render(main, { query }) {
  const card = h('section', { class: 'auth-card', 'aria-labelledby': 'login-title' });
  main.append(h('div', { class: 'auth-wrap' }, card));
  card.append(h('div', { class: 'auth-brand' }, h('img', { src: '/favicon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'scimbox')));
  card.append(h('h1', { id: 'login-title', tabindex: '-1' }, 'Sign in'));
  if (query.get('expired')) {
    card.append(h('p', { class: 'notice', role: 'status', id: 'session-ended' },
      'Your session ended — sign in again. You will come back to the page you were on.'));
  }
  if (setupNeeded()) {
    card.append(h('p', { class: 'notice' }, 'No admin exists yet. Open the setup link that `scimbox serve` printed, or run `scimbox admin create --username NAME` on the server.'));
  }
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, 'Sign in');
  const form = h('form', { class: 'form', novalidate: true }, field('User name', username), field('Password', password), status, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.replaceChildren();
    clearFieldErrors(form);
    if (!username.value.trim()) return fieldError(username, 'Enter your user name.');
    if (!password.value) return fieldError(password, 'Enter your password.');
    submit.disabled = true;
    try {
      signedIn(await api('POST', 'login', { username: username.value.trim(), password: password.value }));
    } catch (error) {
      status.replaceChildren(errorBox(error.message));
      password.value = '';
      password.focus();
    } finally {
      submit.disabled = false;
    }
  });
  card.append(form);
}
