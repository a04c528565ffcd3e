import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { getModelToken, InjectConnection, MongooseModule } from '@nestjs/mongoose';
import { ensureIndexes, LOGGER, mongoServerKind, SERVICE_CONFIG } from '@llmops/platform';
import type { Connection, Model } from 'mongoose';
import type { Logger } from 'pino';
import type { AnalyticsConfig } from '../config/analytics.config';
import { AggregationRepository } from './aggregation.repository';
import { ANALYTICS_MODELS, BUCKET, PHASE_BUCKET, type StoredBucket } from './analytics.schemas';
import { BUCKET_STORE, type BucketStore, PHASE_BUCKET_STORE } from './bucket-store';
import { DecisionsRepository } from './decisions.repository';
import { ExperimentsRepository } from './experiments.repository';
import { ParkedFeedbackRepository } from './parked-feedback.repository';
import { PlainBucketStore } from './plain-bucket.store';
import {
  PROMPT_SETTINGS,
  PromptSettingsRepository,
  PromptSettingsSchema,
} from './prompt-settings.repository';
import { migrateToProjects } from './projects.migration';
import { migrateStoredFields } from './stored-fields.migration';
import { VersionedBucketStore } from './versioned-bucket.store';

const repositories = [
  AggregationRepository,
  ExperimentsRepository,
  ParkedFeedbackRepository,
  DecisionsRepository,
  PromptSettingsRepository,
];

/** The bucket store the server supports, chosen once at boot (see BucketStore). */
async function bucketStore(
  buckets: Model<StoredBucket>,
  config: AnalyticsConfig,
  logger: Logger,
): Promise<BucketStore> {
  let kind = config.ANALYTICS_BUCKET_STORE;
  if (kind === 'auto') kind = (await mongoServerKind(buckets.db)) === 'mongodb' ? 'plain' : 'versioned';
  return kind === 'plain'
    ? new PlainBucketStore(buckets)
    : new VersionedBucketStore(buckets, config.ANALYTICS_BUCKET_GC_INTERVAL_MS, logger);
}

/** The analytics models and repositories. At boot: stored-field and project migrations, then the indexes. */
@Module({
  imports: [
    MongooseModule.forFeature([...ANALYTICS_MODELS, { name: PROMPT_SETTINGS, schema: PromptSettingsSchema }]),
  ],
  providers: [
    ...repositories,
    {
      provide: BUCKET_STORE,
      inject: [getModelToken(BUCKET), SERVICE_CONFIG, LOGGER],
      useFactory: bucketStore,
    },
    {
      provide: PHASE_BUCKET_STORE,
      inject: [getModelToken(PHASE_BUCKET), SERVICE_CONFIG, LOGGER],
      useFactory: bucketStore,
    },
  ],
  exports: repositories,
})
export class PersistenceModule implements OnModuleInit {
  constructor(
    @InjectConnection() private readonly connection: Connection,
    @Inject(LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const renamed = await migrateStoredFields(this.connection);
    if (renamed > 0) this.logger.info({ renamed }, 'renamed the one-letter fields of older documents');
    const moved = await migrateToProjects(this.connection);
    if (moved > 0)
      this.logger.info({ moved }, "moved documents written before projects to project 'default'");
    for (const { name } of ANALYTICS_MODELS) await ensureIndexes(this.connection.model(name));
  }
}
