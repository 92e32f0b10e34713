// Test OpenID Provider for scimbox's integration tests (tests/it/).
//
// Usage: node tests/node/oidc-op.mjs CONFIG_JSON_PATH
//
// The config file lists the clients and the accounts:
//   {"clients":  [{"client_id", "client_secret", "redirect_uris", "post_logout_redirect_uris"?, ...}],
//    "accounts": [{"sub", "email"?, "email_verified"?, "name"?, "oid"?}]}
//
// It serves a real oidc-provider on 127.0.0.1 (OS-chosen port) and, once
// ready, prints one line to stdout: {"issuer":"http://127.0.0.1:<port>"}.
// It runs until killed, or until its stdin (when a pipe) reaches end of file,
// so it never outlives the test that spawned it with a piped stdin.
//
// Clients are confidential web clients (code flow, client_secret_basic by
// default); PKCE with S256 is required. The id_token (RS256) carries the
// claims of the requested scopes: openid: sub; email: email, email_verified;
// profile: name, oid.
//
// Besides the provider's own routes it serves:
//   GET  /interaction/:uid        sign-in page (one field: the account's sub)
//   POST /interaction/:uid/login  finishes the sign-in; consent is automatic
//   POST /__test/tamper {"mode"}  forges the id_token of the next token response
//   POST /__test/rotate           new signing key (old ones stay in the JWKS)
//   GET  /__test/tokens           {"issued": N} successful token responses so far

import { randomBytes, randomUUID } from 'node:crypto';
import { readFileSync, fstatSync } from 'node:fs';
import http from 'node:http';

import * as jose from 'jose';
import Provider from 'oidc-provider';

// stdout carries only the issuer line: oidc-provider prints notices with
// console.info, so send console.log/info to stderr.
console.log = console.error;
console.info = console.error;

const configPath = process.argv[2];
if (!configPath) {
  console.error('usage: node oidc-op.mjs CONFIG_JSON_PATH');
  process.exit(2);
}
const config = JSON.parse(readFileSync(configPath, 'utf8'));
const accounts = new Map((config.accounts ?? []).map((account) => [account.sub, account]));

// Claims released per scope; only the claims an account has are included.
const SCOPE_CLAIMS = {
  openid: ['sub'],
  email: ['email', 'email_verified'],
  profile: ['name', 'oid'],
};

// --- Keys -------------------------------------------------------------------

// A fresh RS256 key pair; the kid is the public key's thumbprint.
async function newSigningKey() {
  const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
  const jwk = await jose.exportJWK(privateKey);
  const kid = await jose.calculateJwkThumbprint(jwk);
  return { kid, privateKey, jwk: { ...jwk, kid, alg: 'RS256', use: 'sig' } };
}

// Newest first: oidc-provider signs with the first key and publishes them all.
const signingKeys = [await newSigningKey()];
const currentKey = () => signingKeys[0];

// Signs forged tokens for the "unknown-key" mode; its kid is never published.
const strangerKey = { ...(await newSigningKey()), kid: `unknown-${randomUUID()}` };

// --- Test controls state ----------------------------------------------------

let tokensIssued = 0;
let pendingTamper = null; // mode applied to the next token response's id_token

// --- Forged id_tokens -------------------------------------------------------

const b64json = (value) => jose.base64url.encode(JSON.stringify(value));

async function sign(header, claims, privateKey) {
  return new jose.CompactSign(new TextEncoder().encode(JSON.stringify(claims)))
    .setProtectedHeader(header)
    .sign(privateKey);
}

// Builds the forged replacement of a real id_token for the given mode.
async function forge(mode, idToken) {
  const [headerPart, claimsPart, signaturePart] = idToken.split('.');
  const header = jose.decodeProtectedHeader(idToken);
  const claims = jose.decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  const resign = (changes) => sign(header, { ...claims, ...changes }, currentKey().privateKey);

  switch (mode) {
    case 'wrong-audience':
      return resign({ aud: 'someone-else' });
    case 'expired':
      return resign({ exp: now - 600, iat: now - 1200 });
    case 'wrong-issuer':
      return resign({ iss: 'http://127.0.0.1:9/not-the-issuer' });
    case 'wrong-nonce':
      return resign({ nonce: 'not-the-nonce' });
    case 'alg-none':
      return `${b64json({ alg: 'none', typ: 'JWT' })}.${claimsPart}.`;
    case 'unsigned':
      return `${headerPart}.${claimsPart}.`;
    case 'bad-signature': {
      const altered = { ...claims, name: `${claims.name ?? ''} (altered)` };
      return `${headerPart}.${b64json(altered)}.${signaturePart}`;
    }
    case 'unknown-key':
      return sign({ ...header, kid: strangerKey.kid }, claims, strangerKey.privateKey);
    default:
      throw new Error(`unknown tamper mode ${mode}`);
  }
}
const TAMPER_MODES = new Set([
  'wrong-audience', 'expired', 'alg-none', 'unsigned',
  'bad-signature', 'unknown-key', 'wrong-issuer', 'wrong-nonce',
]);

// --- The provider -----------------------------------------------------------

const escapeHtml = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(title, body) {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${escapeHtml(title)}</title></head>
<body>
<main>
<h1>Test OpenID Provider</h1>
${body}
</main>
</body>
</html>
`;
}

// Cookies must stay readable when /__test/rotate swaps in a new Provider.
const cookieKeys = [randomBytes(32).toString('base64url')];

// In-memory storage of sessions, interactions, codes, grants, ... shared by
// every Provider this process builds (oidc-provider's own is per Provider).
// Keys are "<model>:<id>"; entries are { payload, expiresAt } (ms, or Infinity).
const store = new Map();

class SharedMemoryAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  // Live entries of this model, dropping the expired ones on the way.
  * entries() {
    const now = Date.now();
    for (const [key, entry] of store) {
      if (entry.expiresAt <= now) store.delete(key);
      else if (key.startsWith(`${this.model}:`)) yield [key, entry];
    }
  }

  async upsert(id, payload, expiresIn) {
    const expiresAt = typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Infinity;
    store.set(this.key(id), { payload: structuredClone(payload), expiresAt });
  }

  async find(id) {
    const entry = store.get(this.key(id));
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      store.delete(this.key(id));
      return undefined;
    }
    return structuredClone(entry.payload);
  }

  async findBy(field, value) {
    for (const [, entry] of this.entries()) {
      if (entry.payload[field] === value) return structuredClone(entry.payload);
    }
    return undefined;
  }

  findByUid(uid) {
    return this.findBy('uid', uid);
  }

  findByUserCode(userCode) {
    return this.findBy('userCode', userCode);
  }

  async consume(id) {
    const entry = store.get(this.key(id));
    if (entry) entry.payload.consumed = Math.floor(Date.now() / 1000);
  }

  async destroy(id) {
    store.delete(this.key(id));
  }

  async revokeByGrantId(grantId) {
    for (const [key, entry] of this.entries()) {
      if (entry.payload.grantId === grantId) store.delete(key);
    }
  }
}

function providerConfiguration() {
  return {
    adapter: SharedMemoryAdapter,
    clients: (config.clients ?? []).map((client) => ({
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
      ...client,
    })),
    jwks: { keys: signingKeys.map((key) => key.jwk) },
    cookies: { keys: cookieKeys },
    claims: { acr: null, auth_time: null, iss: null, sid: null, ...SCOPE_CLAIMS },
    // Put the claims of the requested scopes in the id_token itself.
    conformIdTokenClaims: false,
    // Every authorization request must carry a PKCE code_challenge.
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: async (ctx, form) => {
          ctx.type = 'html';
          ctx.body = page('Test OpenID Provider', `${form}
<p>Sign out of the Test OpenID Provider?</p>
<button id="sign-out" type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Sign out</button>
<button id="stay-signed-in" type="submit" form="op.logoutForm">Stay signed in</button>`);
        },
        postLogoutSuccessSource: async (ctx) => {
          ctx.type = 'html';
          ctx.body = page('Test OpenID Provider', '<p id="signed-out">You are signed out.</p>');
        },
      },
    },
    interactions: { url: async (ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: async (ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: async () => ({ ...account }) };
    },
    // Automatic consent: the grant always covers what the client asks for.
    loadExistingGrant: async (ctx) => {
      const { oidc } = ctx;
      const { accountId } = oidc.session;
      const clientId = oidc.client.clientId;
      const grantId = oidc.result?.consent?.grantId || oidc.session.grantIdFor(clientId);
      let grant = grantId ? await oidc.provider.Grant.find(grantId) : undefined;
      if (!grant || grant.accountId !== accountId || grant.clientId !== clientId) {
        grant = new oidc.provider.Grant({ accountId, clientId });
      }
      grant.addOIDCScope([...oidc.requestParamOIDCScopes].join(' '));
      grant.addOIDCClaims([...oidc.requestParamClaims]);
      await grant.save();
      return grant;
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      const lines = Object.entries(out)
        .map(([key, value]) => `<p><strong>${escapeHtml(key)}</strong>: ${escapeHtml(value)}</p>`);
      ctx.body = page('Test OpenID Provider error', `<div id="error">${lines.join('\n')}</div>`);
    },
    // Explicit lifetimes (the defaults print notices).
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      Grant: 3600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 3600,
    },
  };
}

function newProvider(issuer) {
  const provider = new Provider(issuer, providerConfiguration());
  // Count successful token responses; forge the id_token when a tamper is pending.
  provider.use(async (ctx, next) => {
    await next();
    if (ctx.oidc?.route !== 'token' || ctx.status !== 200) return;
    tokensIssued += 1;
    if (pendingTamper && typeof ctx.body?.id_token === 'string') {
      const mode = pendingTamper;
      pendingTamper = null;
      ctx.body = { ...ctx.body, id_token: await forge(mode, ctx.body.id_token) };
    }
  });
  return { provider, handle: provider.callback() };
}

// --- HTTP plumbing ----------------------------------------------------------

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 64 * 1024) throw new Error('body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function send(res, status, body, type = 'application/json') {
  const text = body === undefined ? '' : (type === 'application/json' ? JSON.stringify(body) : body);
  res.writeHead(status, {
    'Content-Type': `${type}; charset=utf-8`,
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-store',
  });
  res.end(text);
}

// Test controls under /__test/.
async function testControl(req, res, path, state) {
  if (req.method === 'POST' && path === '/__test/tamper') {
    let mode;
    try {
      ({ mode } = JSON.parse(await readBody(req)));
    } catch {
      return send(res, 400, { error: 'body must be JSON {"mode": ...}' });
    }
    if (!TAMPER_MODES.has(mode)) return send(res, 400, { error: `unknown mode ${mode}` });
    pendingTamper = mode;
    return send(res, 204);
  }
  if (req.method === 'POST' && path === '/__test/rotate') {
    signingKeys.unshift(await newSigningKey());
    // The key set is fixed per Provider, so build a new one; sessions, codes and
    // grants live in the shared store and carry over.
    Object.assign(state, newProvider(state.provider.issuer));
    return send(res, 200, { kid: currentKey().kid });
  }
  if (req.method === 'GET' && path === '/__test/tokens') {
    return send(res, 200, { issued: tokensIssued });
  }
  return send(res, 404, { error: 'no such test control' });
}

function loginForm(uid, clientId, { login = '', error } = {}) {
  const errorText = error ? `<p id="error" role="alert">${escapeHtml(error)}</p>\n` : '';
  return page('Test OpenID Provider', `<p>Sign in to continue to ${escapeHtml(clientId)}.</p>
${errorText}<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<label for="login">Account (sub)</label>
<input id="login" name="login" value="${escapeHtml(login)}" autocomplete="off" autofocus>
<button id="sign-in" type="submit">Sign in</button>
</form>`);
}

// Our own interactions: a one-field sign-in; consent is granted automatically.
async function interaction(req, res, path, { provider }) {
  const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(path);
  if (!match) return send(res, 404, 'not found\n', 'text/plain');
  const [, uid, login] = match;

  let details;
  try {
    details = await provider.interactionDetails(req, res);
  } catch (err) {
    return send(res, 400, `interaction not found: ${err.message}\n`, 'text/plain');
  }
  if (details.uid !== uid) return send(res, 400, 'interaction mismatch\n', 'text/plain');
  const clientId = details.params.client_id;

  if (req.method === 'GET' && !login) {
    // Only prompt=consent lands here signed in; the grant already covers it.
    if (details.prompt.name === 'consent' && details.grantId) {
      return provider.interactionFinished(req, res, { consent: { grantId: details.grantId } });
    }
    return send(res, 200, loginForm(uid, clientId), 'text/html');
  }

  if (req.method === 'POST' && login) {
    const sub = new URLSearchParams(await readBody(req)).get('login')?.trim() ?? '';
    if (!accounts.has(sub)) {
      return send(res, 200, loginForm(uid, clientId, { login: sub, error: `No account "${sub}".` }), 'text/html');
    }
    return provider.interactionFinished(
      req,
      res,
      { login: { accountId: sub } },
      { mergeWithLastSubmission: false },
    );
  }
  return send(res, 405, 'method not allowed\n', 'text/plain');
}

const state = {}; // { provider, handle } — replaced by /__test/rotate

const server = http.createServer(async (req, res) => {
  const path = new URL(req.url, 'http://127.0.0.1').pathname;
  res.on('finish', () => console.error(`oidc-op: ${req.method} ${path} ${res.statusCode}`));
  try {
    if (path.startsWith('/__test/')) return await testControl(req, res, path, state);
    if (path.startsWith('/interaction/')) return await interaction(req, res, path, state);
    return state.handle(req, res);
  } catch (err) {
    console.error(`oidc-op: ${req.method} ${path} failed: ${err.stack ?? err}`);
    if (!res.headersSent) send(res, 500, { error: 'internal error' });
    else res.destroy();
  }
});

server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  Object.assign(state, newProvider(issuer));
  process.stdout.write(`${JSON.stringify({ issuer })}\n`);
});

// Exit when the spawning test closes our stdin (or dies). Only a pipe or a
// socket can signal that; /dev/null or a terminal would end (or never end) at once.
let stdinKind;
try {
  stdinKind = fstatSync(0);
} catch {
  stdinKind = null;
}
if (stdinKind && (stdinKind.isFIFO() || stdinKind.isSocket())) {
  process.stdin.on('end', () => process.exit(0));
  process.stdin.on('close', () => process.exit(0));
  process.stdin.on('error', () => process.exit(0));
  process.stdin.resume();
}
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
