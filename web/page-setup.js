// Setup: creates the first admin with the one-time code from the link `scimbox serve` printed.

import { api } from './api.js';
import { signedIn } from './app.js';
import { h, clearFieldErrors, field, fieldError, errorBox } from './ui.js';

let setupCode = null;

export async function render(main) {
  // The code travels in the fragment (never sent to the server in a URL); keep it, then take it out of
  // the address bar so it is not left in history or on screen.
  const fragment = new URLSearchParams(location.hash.slice(1));
  if (fragment.get('code')) {
    setupCode = fragment.get('code');
    history.replaceState(null, '', '/setup');
  }
  const card = h('section', { class: 'auth-card', 'aria-labelledby': 'setup-title' });
  main.append(h('div', { class: 'auth-wrap' }, card));
  card.append(h('div', { class: 'auth-brand' }, h('img', { src: '/favicon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'scimbox')));
  card.append(h('h1', { id: 'setup-title', tabindex: '-1' }, 'Create the first admin'));
  try {
    await api('GET', 'setup');
  } catch (error) {
    card.append(errorBox(error.status === 404 ? 'Setup is complete: an admin exists already.' : error.message),
      h('p', {}, h('a', { href: '/login', 'data-link': true }, 'Go to sign in')));
    return;
  }
  if (!setupCode) {
    card.append(errorBox('This page needs the setup link that `scimbox serve` printed when it started. Open that link, or create an admin with `scimbox admin create --username NAME`.'));
    return;
  }
  const username = h('input', { id: 'setup-username', name: 'username', autocomplete: 'username', required: true, maxlength: 64 });
  const password = h('input', { id: 'setup-password', name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 12 });
  const repeat = h('input', { id: 'setup-repeat', name: 'repeat', type: 'password', autocomplete: 'new-password', required: true });
  const status = h('div', { class: 'form-status' });
  const submit = h('button', { type: 'submit', class: 'button primary wide' }, 'Create admin and sign in');
  const form = h('form', { class: 'form', novalidate: true },
    h('p', { class: 'lead' }, 'This account manages the SCIM integration, tokens and admins of this scimbox.'),
    field('User name', username),
    field('Password', password, 'At least 12 characters; not your user name.'),
    field('Repeat the password', repeat),
    status, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    status.replaceChildren();
    clearFieldErrors(form);
    if (!username.value.trim()) return fail('Enter a user name.', username);
    if (password.value.length < 12) return fail('The password must be at least 12 characters long.', password);
    if (password.value !== repeat.value) return fail('The two passwords differ.', repeat);
    submit.disabled = true;
    try {
      const session = await api('POST', 'setup', { code: setupCode, username: username.value.trim(), password: password.value });
      setupCode = null;
      signedIn(session);
    } catch (error) {
      if (error.status === 400) fail(error.message, /password/i.test(error.message) ? password : username);
      else fail(error.message);
    } finally {
      submit.disabled = false;
    }
  });
  function fail(message, control) {
    if (control) fieldError(control, message);
    else status.replaceChildren(errorBox(message));
  }
  card.append(form);
}
