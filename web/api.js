// The admin API client: JSON over fetch with the session cookie, and the CSRF token on every change.

let csrfToken = null;
let onSignedOut = () => {};
let onForbidden = () => {};

export function setCsrfToken(token) {
  csrfToken = token;
}

/** Called when the server says the session has ended (401), except for the sign-in calls themselves. */
export function whenSignedOut(callback) {
  onSignedOut = callback;
}

/** Called on a 403: the session may have lost its admin rights (taken out of the admin group). */
export function whenForbidden(callback) {
  onForbidden = callback;
}

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export async function api(method, path, body) {
  return call(`/admin/api/${path}`, method, body, !['login', 'setup'].includes(path));
}

/** The platform API (`/api/v1/`: assets and sharing), which the page calls with its session too. */
export async function platformApi(method, path, body) {
  return call(`/api/v1/${path}`, method, body, true);
}

async function call(url, method, body, signOutOn401) {
  const headers = { Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch {
    throw new ApiError(0, 'The server cannot be reached. Check that scimbox is running, then try again.');
  }
  if (response.status === 204) return null;
  let data = null;
  try {
    data = await response.json();
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = (data && data.error) || `The server answered with status ${response.status}.`;
    if (response.status === 401 && signOutOn401) onSignedOut();
    if (response.status === 403 && signOutOn401) onForbidden();
    throw new ApiError(response.status, message, response.headers.get('Retry-After'));
  }
  return data;
}

/** "My access" (`/api/me`): what the signed-in person can reach. */
export async function myAccess(params) {
  return call(`/api/me${queryString(params)}`, 'GET', undefined, true);
}

/** A query string from an object, leaving out empty values. */
export function queryString(params) {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : '';
}
