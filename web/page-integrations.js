// Integrations → SCIM: the base URL, the tokens (generate, list, revoke) and a short Okta guide.

import { api } from './api.js';
import { h, announce, badge, clearFieldErrors, confirmDialog, copyButton, copyField, emptyState, errorBox, field, fieldError, loading, openDialog, pageHeader, table, time } from './ui.js';

export async function render(main, { isCurrent }) {
  main.append(pageHeader('SCIM provisioning',
    h('p', { class: 'page-lead' }, 'Connect Okta, Microsoft Entra ID or any SCIM 2.0 client: give it the base URL and a token, and it creates, updates and deactivates users and groups here.')));
  const integration = await api('GET', 'integration');
  if (!isCurrent()) return;

  const connection = h('section', { class: 'card', 'aria-labelledby': 'connection-title' },
    h('h2', { id: 'connection-title' }, 'Connection'),
    baseUrlWarning(integration.scimBaseUrl),
    copyField('scim-base-url', 'SCIM base URL', integration.scimBaseUrl,
      integration.publicUrlConfigured
        ? 'Set by --public-url.'
        : 'Taken from the address of this page. If your identity provider reaches scimbox at another address, start scimbox with --public-url.'));

  const tokenList = h('div', { id: 'token-list' }, loading());
  const generate = h('button', { type: 'button', class: 'button primary', id: 'generate-token' }, 'Generate new token');
  generate.addEventListener('click', () => generateToken(tokenList));
  const tokens = h('section', { class: 'card', 'aria-labelledby': 'tokens-title' },
    h('div', { class: 'card-header' }, h('h2', { id: 'tokens-title' }, 'Tokens'), generate),
    h('p', { class: 'hint' }, 'The identity provider sends a token as "Authorization: Bearer …" with every request. Give each client its own token, so that you can revoke one without disturbing the others.'),
    tokenList);

  main.append(connection, tokens, guide(integration.scimBaseUrl), signInSection(integration));
  await loadTokens(tokenList);
}

/** A warning when the base URL is one an identity provider in the cloud cannot use: a loopback address,
 * or plain http (a bearer token over plain http can be read on the way). */
function baseUrlWarning(baseUrl) {
  let url;
  try {
    url = new URL(baseUrl);
  } catch {
    return null;
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopback = host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1';
  const problems = [];
  if (loopback) {
    problems.push(h('li', {}, 'It points at this machine itself (', h('code', {}, url.host), '), which Okta and Entra cannot reach from the internet. Start scimbox with ',
      h('code', {}, '--public-url https://scim.example.com'), ' (the address your identity provider reaches it at) and listen on that interface with ', h('code', {}, '--listen'), '.'));
  }
  if (url.protocol === 'http:') {
    problems.push(h('li', {}, 'It is plain http: the token would cross the network readable by anyone on the way. Serve HTTPS with ',
      h('code', {}, '--tls-cert'), ' and ', h('code', {}, '--tls-key'), ', or put a TLS proxy in front and name its address with ', h('code', {}, '--public-url'), '.'));
  }
  if (problems.length === 0) return null;
  return h('div', { class: 'warning-box', role: 'status', id: 'base-url-warning' },
    h('strong', {}, 'Your identity provider cannot use this base URL as it is.'), h('ul', {}, problems));
}

/** Whether the identity provider is connected, as the activity record shows it for one token. */
function connectionCell(token) {
  const activity = token.activity || {};
  const last = activity.lastRequest;
  const failure = activity.lastFailure;
  const link = h('a', { href: `/activity?token=${encodeURIComponent(token.id)}`, 'data-link': true, class: 'token-activity' },
    `${activity.requestsLastDay} request${activity.requestsLastDay === 1 ? '' : 's'} in 24 h`);
  if (!last) return h('td', { class: 'connection' }, h('span', { class: 'muted' }, 'No request yet'));
  // Every recorded request with a token got past authentication: the provider is connected, and a
  // refused request (a conflict, a bad filter) is shown as the last failure; a 5xx is scimbox's fault.
  // A 401 or 403 is the token refused (revoked, expired): the provider still sends it.
  const state = last.status === 401 || last.status === 403 ? ['Refused', 'danger']
    : last.status >= 500 ? ['Server error', 'danger'] : ['Connected', 'ok'];
  return h('td', { class: 'connection' },
    h('div', {}, badge(state[0], state[1]), ' last request ', time(last.at), ` (${last.status})`),
    failure ? h('div', { class: 'last-failure' }, 'Last failure ', time(failure.at), ` (${failure.status})`,
      failure.error ? h('span', { class: 'error-detail' }, `: ${failure.error}`) : null) : null,
    h('div', {}, link));
}

async function loadTokens(container) {
  let data;
  try {
    data = await api('GET', 'tokens');
  } catch (error) {
    container.replaceChildren(errorBox(error.message));
    return;
  }
  if (data.tokens.length === 0) {
    container.replaceChildren(emptyState('No tokens yet', 'Generate a token and paste it into your identity provider’s SCIM settings.'));
    return;
  }
  const rows = data.tokens.map((token) => {
    const status = { active: badge('Active', 'ok'), revoked: badge('Revoked', 'danger'), expired: badge('Expired', 'warn') }[token.status];
    const revoke = token.status === 'revoked' ? null : h('button', {
      type: 'button', class: 'button small danger-outline', 'aria-label': `Revoke token ${token.name}`,
      on: { click: () => revokeToken(token, container) },
    }, 'Revoke');
    return h('tr', { dataset: { token: token.id } },
      h('th', { scope: 'row' }, token.name),
      h('td', {}, h('code', {}, `${token.prefix}_…`)),
      h('td', {}, token.scope.toUpperCase()),
      h('td', {}, time(token.createdAt)),
      connectionCell(token),
      h('td', {}, time(token.expiresAt, { empty: 'Never' })),
      h('td', {}, status),
      h('td', { class: 'actions' }, revoke));
  });
  container.replaceChildren(table('Tokens', [
    { label: 'Name' }, { label: 'Prefix' }, { label: 'Scope' }, { label: 'Created' }, { label: 'Connection' },
    { label: 'Expires' }, { label: 'Status' }, { label: 'Actions', class: 'visually-hidden-label' },
  ], rows));
}

async function generateToken(container) {
  // Once the token is shown, the dialog stays until the admin says it is copied.
  let shown = false;
  const keepOpen = () => (shown
    ? 'Copy the token first, then choose “I have copied the token”: it cannot be shown again.'
    : null);
  await openDialog('Generate a new token', (close) => {
    // Wide enough to show the whole token once it is made.
    const body = h('div', {});
    const name = h('input', { id: 'token-name', name: 'name', required: true, maxlength: 100, autocomplete: 'off', placeholder: 'e.g. Okta production' });
    const expiry = h('select', { id: 'token-expiry', name: 'expiry' },
      h('option', { value: '' }, 'Never'), h('option', { value: '30' }, 'In 30 days'),
      h('option', { value: '90' }, 'In 90 days'), h('option', { value: '365' }, 'In one year'));
    const status = h('div', { class: 'form-status' });
    const submit = h('button', { type: 'submit', class: 'button primary' }, 'Generate token');
    const form = h('form', { class: 'form', novalidate: true },
      field('Name', name, 'Says who uses the token; shown in the token list and in Activity.'),
      field('Expires', expiry),
      status,
      h('div', { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'button', on: { click: () => close() } }, 'Cancel'), submit));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearFieldErrors(form);
      status.replaceChildren();
      if (!name.value.trim()) return fieldError(name, 'Give the token a name.');
      submit.disabled = true;
      try {
        const created = await api('POST', 'tokens', { name: name.value.trim(), expiresInDays: expiry.value ? Number(expiry.value) : undefined });
        shown = true;
        showSecret(body, created, close);
        loadTokens(container);
      } catch (error) {
        status.replaceChildren(errorBox(error.message));
        submit.disabled = false;
      }
    });
    body.append(form);
    return body;
  }, { wide: true, keepOpen });
}

function showSecret(body, created, close) {
  const secret = h('textarea', { id: 'new-token', readonly: true, rows: 2, class: 'mono secret', spellcheck: 'false' });
  secret.value = created.secret;
  secret.addEventListener('focus', () => secret.select());
  let secretText = created.secret;
  const done = h('button', { type: 'button', class: 'button primary', id: 'token-done' }, 'I have copied the token');
  done.addEventListener('click', () => {
    secretText = '';
    secret.value = '';
    close();
  });
  body.replaceChildren(
    h('p', { class: 'warning-box', role: 'alert' }, h('strong', {}, 'Copy this token now. '), 'You will not see it again: scimbox keeps only a hash of it.'),
    h('div', { class: 'field' },
      h('label', { for: 'new-token' }, `Token “${created.token.name}”`),
      h('div', { class: 'copy-field' }, secret, copyButton(() => secretText, 'Copy token'))),
    h('p', { class: 'hint' }, 'Paste it as the Bearer token (API token) in your identity provider.'),
    h('div', { class: 'dialog-actions' }, done));
  secret.focus();
  announce(`Token ${created.token.name} generated. Copy it now; you will not see it again.`);
}

async function revokeToken(token, container) {
  const yes = await confirmDialog({
    title: `Revoke token “${token.name}”?`,
    message: 'Clients using this token are refused from their next request (401). This cannot be undone; you can generate a new token.',
    confirm: 'Revoke token',
    danger: true,
  });
  if (!yes) return;
  try {
    await api('DELETE', `tokens/${encodeURIComponent(token.id)}`);
    announce(`Token ${token.name} revoked.`);
  } catch (error) {
    container.prepend(errorBox(error.message));
    return;
  }
  await loadTokens(container);
}

function guide(baseUrl) {
  const step = (title, ...text) => h('li', {}, h('strong', {}, title), ' ', ...text);
  return h('section', { class: 'card guide', 'aria-labelledby': 'guide-title' },
    h('h2', { id: 'guide-title' }, 'Connect Okta'),
    h('ol', { class: 'steps' },
      step('Create the app.', 'In Okta, open your SCIM app (or create one from the SCIM 2.0 template) and on its General tab enable SCIM provisioning.'),
      step('Base URL.', 'On the Provisioning tab, set SCIM connector base URL to ', h('code', {}, baseUrl), '.'),
      step('Unique identifier field for users:', h('code', {}, 'email'), '.'),
      step('Supported provisioning actions:', 'Push New Users, Push Profile Updates and Push Groups.'),
      step('Authentication Mode:', 'HTTP Header. Generate a token above and paste it as the Bearer token.'),
      step('Test API Credentials.', 'Okta should report success; the requests appear under Activity. Then Save, and turn on Create Users, Update User Attributes and Deactivate Users under To App.')));
}

/** Integrations → Okta sign-in: what to paste into the same Okta app so that it also signs people in. */
function signInSection(integration) {
  const step = (title, ...text) => h('li', {}, h('strong', {}, title), ' ', ...text);
  const section = h('section', { class: 'card guide', 'aria-labelledby': 'sign-in-title', id: 'okta-sign-in' },
    h('h2', { id: 'sign-in-title' }, 'Okta sign-in'));
  const signIn = integration.signIn;
  if (!signIn) {
    section.append(
      h('p', {}, 'The same Okta app can also sign people in here (OpenID Connect): admins from an Okta group, and everyone provisioned sees what they can reach under My access. It is off.'),
      h('ol', { class: 'steps' },
        step('In Okta,', 'on the app\'s General tab, add the OIDC sign-in method (Web application, Authorization Code) with the redirect URI ',
          h('code', {}, `${new URL(integration.scimBaseUrl).origin}/auth/oidc/callback`), ' (with --public-url set, under that address).'),
        step('Start scimbox', 'with ', h('code', {}, '--public-url'), ', ', h('code', {}, '--oidc-issuer https://YOUR-ORG.okta.com'), ', ',
          h('code', {}, '--oidc-client-id'), ', the client secret in ', h('code', {}, 'SCIMBOX_OIDC_CLIENT_SECRET'), ' (or a file named by ',
          h('code', {}, '--oidc-client-secret-file'), ') and ', h('code', {}, '--oidc-admin-group "NAME"'), '. The README has the whole guide.')));
    return section;
  }
  section.append(
    h('p', {}, `People sign in with ${signIn.name} (OpenID Connect, authorization code with PKCE). Nobody is created at sign-in: a person must be provisioned over SCIM, and is matched by the `,
      h('code', {}, signIn.matchClaim), signIn.matchClaim === 'email' ? ' claim (a verified address) against user names and e-mail addresses.' : ' claim against the user\'s externalId.'),
    copyField('oidc-redirect-uri', 'Sign-in redirect URI', signIn.redirectUri, 'Paste into the app\'s Sign-in redirect URIs.'),
    signIn.signOutRedirectUri ? copyField('oidc-sign-out-uri', 'Sign-out redirect URI', signIn.signOutRedirectUri, 'Paste into Sign-out redirect URIs, so that signing out here can also sign out of Okta.') : null,
    copyField('oidc-initiate-uri', 'Initiate login URI', signIn.initiateLoginUri, 'Optional: lets people start from the app\'s tile in their Okta dashboard.'),
    h('dl', { class: 'facts' },
      h('dt', {}, 'Issuer'), h('dd', {}, h('code', {}, signIn.issuer)),
      h('dt', {}, 'Client id'), h('dd', {}, h('code', {}, signIn.clientId)),
      h('dt', {}, 'Scopes'), h('dd', {}, signIn.scopes.join(' ')),
      h('dt', {}, 'Admins'), h('dd', {}, signIn.adminGroup ? ['Members of the group ', h('strong', {}, signIn.adminGroup), ' (pushed over SCIM)'] : 'Nobody: no admin group is set (--oidc-admin-group)'),
      h('dt', {}, 'Password sign-in'), h('dd', {}, signIn.passwordSignIn ? 'On, for local admin accounts (the break-glass way in)' : 'Off (--password-sign-in false)')),
    h('ol', { class: 'steps' },
      step('Sign-in method.', 'In the same Okta app as SCIM, on the General tab, use OIDC – OpenID Connect, application type Web Application, grant type Authorization Code.'),
      step('Redirect URIs.', 'Paste the two URIs above. Controlled access: assign the app to the people and groups you provision.'),
      step('Client credentials.', 'Copy the Client ID into --oidc-client-id and the Client secret into SCIMBOX_OIDC_CLIENT_SECRET (or a file), then restart scimbox.'),
      step('Admins.', 'Push the admin group over SCIM (Push Groups) with the name given to --oidc-admin-group. Taking someone out of it in Okta ends their admin rights on their next request.')));
  return section;
}
