/**
 * A key's coarse last-used time. The identity service records it for the requests it serves itself
 * (the key management calls); the other services verify keys locally and do not report usage, so
 * `lastUsedAt` says when a key last managed keys or projects, not when it last assigned or ingested.
 * Each replica writes a key's time at most once per IDENTITY_KEY_USAGE_RESOLUTION_MS, off the
 * request path.
 */
import { LOGGER, SERVICE_CONFIG } from '@llmops/platform';
import {
  type CallHandler,
  type ExecutionContext,
  Inject,
  Injectable,
  type NestInterceptor,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Observable } from 'rxjs';
import type { IdentityConfig } from '../config/identity.config';
import { ApiKeyRepository } from '../persistence/api-key.repository';

@Injectable()
export class KeyUsageInterceptor implements NestInterceptor {
  private readonly lastWritten = new Map<string, number>();

  constructor(
    private readonly keys: ApiKeyRepository,
    @Inject(SERVICE_CONFIG) private readonly config: IdentityConfig,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() === 'http') {
      const principal = context.switchToHttp().getRequest<FastifyRequest>().principal;
      if (principal) this.seen(principal.keyId, Date.now());
    }
    return next.handle();
  }

  private seen(keyId: string, now: number): void {
    const last = this.lastWritten.get(keyId);
    if (last !== undefined && now - last < this.config.IDENTITY_KEY_USAGE_RESOLUTION_MS) return;
    this.lastWritten.set(keyId, now);
    this.keys.touch(keyId, new Date(now)).catch((err: unknown) => {
      this.logger.warn(
        { keyId, err: err instanceof Error ? err.message : String(err) },
        'could not record key usage',
      );
    });
  }
}
