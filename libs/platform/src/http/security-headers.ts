/**
 * Security headers on every response (Nest routes, direct routes, errors, 404s, /docs, /metrics),
 * as helmet writes them: helmet runs once at boot against a recording response, and one onRequest
 * hook copies the recorded headers to each reply. @fastify/helmet was measured and not kept: it
 * builds a new helmet middleware on every request (CSP directives parsed and validated again)
 * in two async hooks, many times the CPU of the copy (`BENCH_ONLY=http-edge npm run bench`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import helmet, { type HelmetOptions } from 'helmet';

/**
 * helmet's defaults, including its Content-Security-Policy (scripts, fonts and frames from the
 * service itself, inline styles, `data:` images), under which Swagger UI at /docs works: its
 * scripts and stylesheet are the service's own files and its page has inline styles only. Minus
 * `upgrade-insecure-requests`: services are also reached over plain HTTP inside a cluster, where it
 * would make a browser fetch /docs' own scripts over HTTPS.
 */
export const SECURITY_HEADER_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
};

/** The headers helmet sets with `options`, by lower-case name. */
export function securityHeaders(options: HelmetOptions = SECURITY_HEADER_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]): void {
      headers[name.toLowerCase()] = String(value);
    },
    removeHeader(): void {
      // helmet removes X-Powered-By, which fastify never sets.
    },
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err instanceof Error ? err : new Error(String(err));
  });
  return headers;
}

/** Adds the security headers to every reply of `fastify` (before its routes are registered). */
export function installSecurityHeaders(fastify: FastifyInstance, options?: HelmetOptions): void {
  const headers = securityHeaders(options);
  fastify.addHook('onRequest', (_request, reply, done) => {
    void reply.headers(headers);
    done();
  });
}
