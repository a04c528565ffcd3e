import { Inject, Module, type OnModuleInit } from '@nestjs/common';
import { InjectConnection, MongooseModule } from '@nestjs/mongoose';
import { ensureIndexes, LOGGER } from '@llmops/platform';
import type { Connection } from 'mongoose';
import type { Logger } from 'pino';
import { AggregationRepository } from './aggregation.repository';
import { ANALYTICS_MODELS } from './analytics.schemas';
import { ExperimentsRepository } from './experiments.repository';
import { ParkedFeedbackRepository } from './parked-feedback.repository';
import { migrateStoredFields } from './stored-fields.migration';

const repositories = [AggregationRepository, ExperimentsRepository, ParkedFeedbackRepository];

/** The analytics models and repositories. At boot: stored-field migration, then the indexes. */
@Module({
  imports: [MongooseModule.forFeature(ANALYTICS_MODELS)],
  providers: repositories,
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
    for (const { name } of ANALYTICS_MODELS) await ensureIndexes(this.connection.model(name));
  }
}
