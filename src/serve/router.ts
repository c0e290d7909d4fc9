// The Open Inference Protocol's REST paths (plus /metrics), matched to a route or a 404/405 RequestError.
import { RequestError } from './http-errors.js';

export type Route =
  | { readonly name: 'live' | 'ready' | 'server' | 'metrics' | 'index' }
  /** `version` undefined: the model's highest READY version. */
  | { readonly name: 'model' | 'modelReady' | 'infer'; readonly model: string; readonly version: string | undefined }
  | { readonly name: 'load' | 'unload'; readonly model: string };

const STATIC: Readonly<Record<string, Route['name']>> = {
  '/v2/health/live': 'live',
  '/v2/health/ready': 'ready',
  '/v2': 'server',
  '/metrics': 'metrics',
  '/v2/repository/index': 'index',
};

const MODEL_PATH = /^\/v2\/models\/([^/]+)(?:\/versions\/([^/]+))?(\/ready|\/infer)?$/;
const REPOSITORY_PATH = /^\/v2\/repository\/models\/([^/]+)\/(load|unload)$/;
const POSTS: ReadonlySet<Route['name']> = new Set(['infer', 'index', 'load', 'unload']);

/** Matches a request to a route; throws RequestError 404 for an unknown path and 405 for a wrong method. */
export function matchRoute(method: string | undefined, pathname: string): Route {
  const path = pathname.length > 1 ? pathname.replace(/\/+$/, '') : pathname;
  let route: Route | undefined;
  const fixed = STATIC[path];
  if (fixed) {
    route = { name: fixed } as Route;
  } else {
    const match = MODEL_PATH.exec(path);
    const repository = REPOSITORY_PATH.exec(path);
    if (match) {
      const model = safeDecode(match[1]!);
      const version = match[2] === undefined ? undefined : safeDecode(match[2]);
      route = { name: match[3] === '/infer' ? 'infer' : match[3] === '/ready' ? 'modelReady' : 'model', model, version };
    } else if (repository) {
      route = { name: repository[2] as 'load' | 'unload', model: safeDecode(repository[1]!) };
    }
  }
  if (!route) throw new RequestError(404, `no such endpoint: ${pathname}`);
  const allowed = POSTS.has(route.name) ? 'POST' : 'GET';
  if (method !== allowed && !(allowed === 'GET' && method === 'HEAD')) {
    throw new MethodNotAllowed(`${method ?? '?'} is not allowed on ${pathname}; use ${allowed}`, allowed);
  }
  return route;
}

/** The model a path names (`/v2/models/{name}/…`, `/v2/repository/models/{name}/…`), else null (also for a name that is not valid percent-encoding). */
export function modelInPath(pathname: string): string | null {
  const match = /^\/v2\/(?:repository\/)?models\/([^/]+)/.exec(pathname);
  if (!match) return null;
  try {
    return decodeURIComponent(match[1]!);
  } catch {
    return null;
  }
}

/** True for a path this server answers (whatever the method): a mounted handler passes others on. */
export function isServedPath(pathname: string): boolean {
  try {
    matchRoute('GET', pathname);
    return true;
  } catch (error) {
    return !(error instanceof RequestError && error.status === 404);
  }
}

/** 405, with the method to use (sent as the Allow header). */
export class MethodNotAllowed extends RequestError {
  constructor(message: string, readonly allow: string) {
    super(405, message);
  }
}

function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new RequestError(400, `the model name in the path is not valid percent-encoding: ${segment}`);
  }
}
