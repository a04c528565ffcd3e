import { Controller, Get, Inject, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheckService, HealthIndicatorService, type HealthCheckResult } from '@nestjs/terminus';
import type { FastifyReply } from 'fastify';
import type { ComponentCheck } from './health';

export const READINESS_CHECKS = Symbol('READINESS_CHECKS');

/**
 * /health/live: the process is up (no dependency checks, so a broker outage never restarts pods).
 * /health/ready: terminus indicators for every dependency; a 503 body names the failing ones.
 */
@ApiExcludeController()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    @Inject(READINESS_CHECKS) private readonly checks: ComponentCheck[],
  ) {}

  @Get('live')
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  async ready(@Res() reply: FastifyReply): Promise<void> {
    try {
      const result = await this.health.check(this.checks.map((c) => () => this.indicator(c)));
      await reply.status(200).send({ ...result, failing: [] });
    } catch (err) {
      const body = (err as { getResponse?: () => HealthCheckResult }).getResponse?.();
      if (!body) throw err;
      await reply.status(503).send({ ...body, failing: Object.keys(body.error ?? {}) });
    }
  }

  private async indicator(c: ComponentCheck) {
    const indicator = this.indicators.check(c.name);
    try {
      await c.check();
      return indicator.up();
    } catch (err) {
      return indicator.down({ message: err instanceof Error ? err.message : String(err) });
    }
  }
}
