import { Counter, Gauge, type Registry } from 'prom-client';

export const REGISTRY_METRICS = Symbol('REGISTRY_METRICS');

export interface RegistryMetrics {
  registrations: Counter<'outcome'>;
  aliasMoves: Counter<'outcome'>;
  cacheLookups: Counter<'cache' | 'result'>;
  outboxPublished: Counter<'kind'>;
  outboxFailures: Counter<string>;
  outboxPending: Gauge<'kind'>;
  outboxQuarantined: Counter<'kind'>;
  autoPromotions: Counter<'outcome'>;
  promotionRefusals: Counter<'reason'>;
}

export function registryMetrics(registry: Registry): RegistryMetrics {
  return {
    registrations: new Counter({
      name: 'llmops_registry_registrations_total',
      help: 'Version registrations by outcome (created = new version, existing = spec already registered)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    aliasMoves: new Counter({
      name: 'llmops_registry_alias_moves_total',
      help: 'Alias move requests by outcome (moved, unchanged, conflict)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    cacheLookups: new Counter({
      name: 'llmops_registry_cache_lookups_total',
      help: 'In-memory cache lookups by cache (version, alias) and result (hit, miss)',
      labelNames: ['cache', 'result'],
      registers: [registry],
    }),
    outboxPublished: new Counter({
      name: 'llmops_registry_outbox_published_total',
      help: 'Outbox events acknowledged by the broker, by kind (version, alias)',
      labelNames: ['kind'],
      registers: [registry],
    }),
    outboxFailures: new Counter({
      name: 'llmops_registry_outbox_publish_failures_total',
      help: 'Outbox publisher rounds that failed (the events stay pending and are retried)',
      registers: [registry],
    }),
    outboxPending: new Gauge({
      name: 'llmops_registry_outbox_pending',
      help: 'Events waiting in the outbox after the last publisher round, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    outboxQuarantined: new Counter({
      name: 'llmops_registry_outbox_quarantined_total',
      help: 'Outbox records quarantined because they could not be published after REGISTRY_OUTBOX_MAX_ATTEMPTS, by kind',
      labelNames: ['kind'],
      registers: [registry],
    }),
    autoPromotions: new Counter({
      name: 'llmops_registry_auto_promotions_total',
      help: 'Winner decisions with autoPromote applied, by outcome (promoted, unchanged = alias already at the winner, refused)',
      labelNames: ['outcome'],
      registers: [registry],
    }),
    promotionRefusals: new Counter({
      name: 'llmops_registry_promotion_refusals_total',
      help: 'Automatic promotions refused, by reason (alias-moved, no-baseline, baseline-mismatch, version-not-found, invalid-alias)',
      labelNames: ['reason'],
      registers: [registry],
    }),
  };
}
