// The portal's API client: the dashboard's, with the portal session's token instead of a signed-in one.
import { api } from '../../../dashboard/js/api.js';

const KEY = 'hookyard.portal.token';

/**
 * The session token. It arrives in the URL fragment (`#token=…`: never sent to a server, so not in any access log),
 * moves to this tab's sessionStorage (a reload keeps the session, closing the tab ends it) and leaves the address
 * bar and the history, so that a copied URL or a screenshot does not carry it.
 */
export function takeToken() {
  const match = /^#token=([^&]+)/.exec(location.hash);
  if (match) {
    sessionStorage.setItem(KEY, decodeURIComponent(match[1]));
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
  }
  return sessionStorage.getItem(KEY);
}

export const forgetToken = () => sessionStorage.removeItem(KEY);

const call = (method, path, body, opts = {}) => api(method, path, body, { ...opts, token: sessionStorage.getItem(KEY) ?? '' });

export const get = (path, opts) => call('GET', path, undefined, opts);
export const post = (path, body, opts) => call('POST', path, body, opts);
export const patch = (path, body, opts) => call('PATCH', path, body, opts);
export const del = (path, opts) => call('DELETE', path, undefined, opts);
