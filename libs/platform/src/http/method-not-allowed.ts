/**
 * 405 for a method a path does not support. Fastify's router answers 404 for any unrouted
 * (method, path) pair; HTTP (RFC 9110 §15.5.6) says a path that exists with other methods answers
 * 405 Method Not Allowed with an `Allow` header listing them. The answer is decided before the body
 * is read, with the platform's error body.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { AppError } from '../errors/app-error';
import { sendError } from './http-error.filter';

interface KnownPath {
  pattern: RegExp;
  methods: Set<string>;
}

/** A fastify route URL (`/v1/x/:id`, `/docs/*`) as a regular expression over raw request paths. */
export function routePattern(url: string): RegExp {
  const source = url
    .split(/(:[A-Za-z0-9_]+|\*)/)
    .map((part) => {
      if (part === '*') return '.*';
      if (part.startsWith(':')) return '[^/]+';
      return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    })
    .join('');
  return new RegExp(`^${source}$`);
}

/**
 * Records every route as it is declared, then answers 405 (with `Allow`) for a request that no route
 * serves when its path is served under other methods. Install before the routes are declared (Nest
 * declares them when the application initializes).
 */
export function installMethodNotAllowed(fastify: FastifyInstance, logger: Logger): void {
  const paths = new Map<string, KnownPath>();
  fastify.addHook('onRoute', (route) => {
    const known = paths.get(route.url) ?? { pattern: routePattern(route.url), methods: new Set() };
    for (const method of [route.method].flat()) known.methods.add(method.toUpperCase());
    paths.set(route.url, known);
  });
  // preParsing: after every onRequest hook (context, security headers), before the body is read.
  fastify.addHook('preParsing', (request, reply, payload, done) => {
    if (!request.is404) return done(null, payload);
    const path = request.url.split('?', 1)[0];
    // A static route shadows parametric ones for its exact path (`/v1/experiments/snapshots` is
    // not `/v1/experiments/{key}`): only its own methods are the path's.
    const exact = paths.get(path);
    const allowed = new Set<string>(exact?.methods);
    if (!exact) {
      for (const known of paths.values()) {
        if (known.pattern.test(path)) known.methods.forEach((m) => allowed.add(m));
      }
    }
    if (allowed.size === 0) return done(null, payload);
    const methods = [...allowed].sort();
    void reply.header('allow', methods.join(', '));
    sendError(
      reply,
      request,
      new AppError(
        405,
        'method_not_allowed',
        `${request.method} is not supported on this path; use ${methods.join(', ')}.`,
        { allowed: methods },
      ),
      logger,
    );
  });
}
