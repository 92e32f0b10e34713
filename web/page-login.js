// Sign in.

import { api } from './api.js';
import { setupNeeded, signedIn, signInOptions, takeProviderSignOut } from './app.js';
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
  const options = signInOptions();
  if (query.get('signedOut')) {
    const providerSignOut = takeProviderSignOut();
    card.append(h('p', { class: 'notice', role: 'status', id: 'signed-out' }, 'You are signed out of scimbox.',
      providerSignOut && options.provider
        ? [' ', h('a', { href: providerSignOut, id: 'provider-sign-out' }, `Also sign out of ${options.provider.name}`), '.']
        : null));
  }
  if (options.provider) {
    // The page asked for comes back after the provider's round trip (the server checks it is a path here).
    const next = query.get('next');
    const href = next ? `${options.provider.start}?next=${encodeURIComponent(next)}` : options.provider.start;
    card.append(h('a', { class: 'button primary wide', id: 'provider-sign-in', href }, `Sign in with ${options.provider.name}`));
    if (!options.password) return;
    card.append(h('p', { class: 'auth-or' }, 'or with a local admin account'));
  } else if (!options.password) {
    card.append(h('p', { class: 'notice' }, 'Sign-in is turned off: scimbox was started with --password-sign-in false and no identity provider. Run it with --oidc-issuer, or turn password sign-in back on.'));
    return;
  }
  if (setupNeeded() && !options.provider) {
    card.append(h('p', { class: 'notice' }, 'No admin exists yet. Open the setup link that `scimbox serve` printed, or run `scimbox admin create --username NAME` on the server.'));
  }
  const username = h('input', { id: 'login-username', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: `button ${options.provider ? '' : 'primary '}wide`, id: 'password-sign-in' }, 'Sign in');
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
