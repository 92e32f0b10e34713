// The admin page's entry point: who is signed in, the router (History API paths), and the frame around
// every page. Each page lives in its own module and renders into <main>.

import { api, setCsrfToken, whenForbidden, whenSignedOut } from './api.js';
import { h, closeDialogs, errorBox } from './ui.js';
import * as setupPage from './page-setup.js';
import * as loginPage from './page-login.js';
import * as integrationsPage from './page-integrations.js';
import * as usersPage from './page-users.js';
import * as groupsPage from './page-groups.js';
import * as activityPage from './page-activity.js';
import * as auditPage from './page-audit.js';
import * as adminsPage from './page-admins.js';
import * as assetsPage from './page-assets.js';
import * as mePage from './page-me.js';

// `admin`: an admin is signed in (a local account, or a provisioned user in the admin group); `user`: the
// provisioned user signed in through the identity provider (admin or not); `signIn`: how one signs in.
const state = { admin: null, user: null, signIn: { password: true, provider: null }, providerSignOut: null };

const routes = [
  { pattern: /^\/setup$/, page: setupPage, open: true },
  { pattern: /^\/login$/, page: loginPage, open: true },
  { pattern: /^\/me$/, page: mePage, nav: 'me', title: 'My access', person: true },
  { pattern: /^\/integrations$/, page: integrationsPage, nav: 'integrations', title: 'SCIM integration' },
  { pattern: /^\/users$/, page: usersPage, nav: 'users', title: 'Users' },
  { pattern: /^\/users\/([^/]+)$/, page: usersPage, nav: 'users', title: 'User', detail: true },
  { pattern: /^\/groups$/, page: groupsPage, nav: 'groups', title: 'Groups' },
  { pattern: /^\/groups\/([^/]+)$/, page: groupsPage, nav: 'groups', title: 'Group', detail: true },
  { pattern: /^\/assets$/, page: assetsPage, nav: 'assets', title: 'Assets' },
  { pattern: /^\/assets\/([^/]+)$/, page: assetsPage, nav: 'assets', title: 'Asset', detail: true },
  { pattern: /^\/activity$/, page: activityPage, nav: 'activity', title: 'Activity' },
  { pattern: /^\/audit$/, page: auditPage, nav: 'audit', title: 'Audit' },
  { pattern: /^\/admins$/, page: adminsPage, nav: 'admins', title: 'Admins' },
];

/** Goes to `path` (with its query) inside the page, adding a history entry unless `replace`. */
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

/** Changes the query of the current page without a new history entry or a re-render. */
export function setQuery(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '' && value !== 0) search.set(key, String(value));
  }
  const text = search.toString();
  history.replaceState(null, '', `${location.pathname}${text ? `?${text}` : ''}`);
}

/** Called by the sign-in and setup pages once a session exists. */
export function signedIn(session) {
  state.admin = session.admin;
  state.user = session.user || null;
  setCsrfToken(session.csrfToken);
  const next = new URLSearchParams(location.search).get('next');
  navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : home(), { replace: true });
}

export function currentAdmin() {
  return state.admin;
}

/** The provisioned user signed in through the identity provider, if that is how this session began. */
export function currentUser() {
  return state.user;
}

/** How one signs in here: `{password, provider: {name, start} | null}`. */
export function signInOptions() {
  return state.signIn;
}

/** The identity provider's sign-out address offered after signing out here (once). */
export function takeProviderSignOut() {
  const url = state.providerSignOut;
  state.providerSignOut = null;
  return url;
}

/** Where a signed-in person starts: admins at the SCIM page, everyone else at My access. */
function home() {
  if (state.admin) return '/integrations';
  return state.user ? '/me' : '/login';
}

/** Whether no admin exists yet (as the page learnt when it loaded). */
export function setupNeeded() {
  return Boolean(state.setupNeeded);
}

function showFrame(signedInFrame) {
  document.body.classList.toggle('signed-out', !signedInFrame);
  document.getElementById('topbar').hidden = !signedInFrame;
  document.getElementById('sidebar').hidden = !signedInFrame;
  document.getElementById('account-name').textContent = state.admin ? state.admin.username : (state.user ? state.user.userName : '');
  // People who are not admins see My access only; admins who signed in through the identity provider see
  // it beside the admin pages.
  document.getElementById('admin-nav').hidden = !state.admin;
  document.getElementById('person-nav').hidden = !state.user;
  document.getElementById('brand-link').setAttribute('href', home());
}

function markNav(nav) {
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

let renderCount = 0;

async function render() {
  const ticket = ++renderCount;
  // A dialog belongs to the page it was opened on: a new route (a link, Back, a session that ended)
  // closes it rather than leaving it over the next page.
  closeDialogs();
  const main = document.getElementById('main');
  const path = location.pathname.replace(/\/+$/, '') || '/';
  if (path === '/') {
    navigate(home(), { replace: true });
    return;
  }
  const route = routes.find((r) => r.pattern.test(path));
  if (!route) {
    showFrame(Boolean(state.admin || state.user));
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'Page not found'),
      h('p', {}, 'There is no such page. ', h('a', { href: home(), 'data-link': true }, 'Go to the start page'), '.'));
    main.querySelector('h1').focus();
    return;
  }
  if (!route.open && !state.admin && !state.user) {
    navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
    return;
  }
  if ((route.person && !state.user) || (!route.open && !route.person && !state.admin)) {
    // A page this session cannot use: a person who is not an admin has My access; a local admin has no
    // access of their own.
    navigate(home(), { replace: true });
    return;
  }
  if (route.open && (state.admin || state.user) && route.page === loginPage) {
    navigate(home(), { replace: true });
    return;
  }
  showFrame(!route.open);
  markNav(route.nav);
  document.title = route.title ? `${route.title} · scimbox` : 'scimbox';
  const match = path.match(route.pattern);
  const query = new URLSearchParams(location.search);
  main.replaceChildren();
  try {
    await route.page.render(main, { id: match[1] ? decodeURIComponent(match[1]) : null, query, isCurrent: () => ticket === renderCount });
  } catch (error) {
    if (ticket !== renderCount) return;
    main.replaceChildren(h('h1', { tabindex: '-1' }, 'Something went wrong'), errorBox(error.message));
  }
  if (ticket !== renderCount) return;
  const heading = main.querySelector('h1');
  if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
}

function onLinkClick(event) {
  const link = event.target.closest('a[data-link]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute('href'));
}

async function signOut() {
  let answer = null;
  try {
    answer = await api('POST', 'logout');
  } catch {
    // Signed out either way: the session is gone or unusable.
  }
  state.admin = null;
  state.user = null;
  state.providerSignOut = answer && answer.providerSignOut ? answer.providerSignOut : null;
  setCsrfToken(null);
  navigate('/login?signedOut=1', { replace: true });
}

async function start() {
  document.addEventListener('click', onLinkClick);
  window.addEventListener('popstate', render);
  document.getElementById('sign-out').addEventListener('click', signOut);
  whenSignedOut(() => {
    if (!state.admin && !state.user) return;
    state.admin = null;
    state.user = null;
    setCsrfToken(null);
    navigate(`/login?expired=1&next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
  });
  whenForbidden(async () => {
    // Someone signed in through the identity provider and taken out of the admin group keeps their
    // session, without the admin pages: find out, and go to what they may still see.
    if (!state.admin || !state.admin.throughProvider) return;
    try {
      const session = await api('GET', 'session');
      if (session.admin) return;
      state.admin = null;
      state.user = session.user || null;
      navigate(home(), { replace: true });
    } catch {
      // The next request tells.
    }
  });
  if (location.pathname !== '/setup') {
    try {
      // Always 200: a signed-out load asks nothing the browser reports as a failed request.
      const session = await api('GET', 'session');
      state.admin = session.admin;
      state.user = session.user || null;
      state.setupNeeded = session.setupNeeded;
      if (session.signIn) state.signIn = session.signIn;
      if (session.csrfToken) setCsrfToken(session.csrfToken);
    } catch {
      state.admin = null;
    }
  }
  render();
}

start();
