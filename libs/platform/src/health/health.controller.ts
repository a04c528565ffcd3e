import { Controller, Get, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { PublicRoute } from '../auth/route-auth';
import type { FastifyReply } from 'fastify';
import { type ComponentCheck, ReadinessProbe } from './health';

/**
 * The readiness checks of the service. A mutable list, read again on every probe round: components
 * that start later (e.g. Kafka consumers) push their own checks into it and remove them on stop.
 */
export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

type Indicator = Record<string, { status: 'up' | 'down'; message?: string }>;

/**
 * /health/live: the process is up (no dependency checks, so a broker outage never restarts pods).
 * /health/ready: the latest background probe result of every dependency, answered from memory
 * (never probed inline, so it answers at once during any outage); a 503 body names the failing ones.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(private readonly probe: ReadinessProbe) {}

  @PublicRoute()
  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @PublicRoute()
  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    const info: Indicator = {};
    const error: Indicator = {};
    const details: Indicator = {};
    for (const s of this.probe.snapshot()) {
      const entry = s.up
        ? { status: 'up' as const }
        : { status: 'down' as const, message: s.message ?? 'down' };
      (s.up ? info : error)[s.name] = entry;
      details[s.name] = entry;
    }
    const failing = Object.keys(error);
    await reply
      .status(failing.length === 0 ? 200 : 503)
      .header('cache-control', 'no-store')
      .send({ status: failing.length === 0 ? 'ok' : 'error', info, error, details, failing });
  }
}

/** The service's readiness probe loop over READINESS_CHECKS (started and stopped by the platform). */
export function readinessProbeProvider(options: { intervalMs: number; timeoutMs: number }) {
  return {
    provide: ReadinessProbe,
    inject: [READINESS_CHECKS],
    useFactory: (checks: ComponentCheck[]) => new ReadinessProbe(checks, options),
  };
}
