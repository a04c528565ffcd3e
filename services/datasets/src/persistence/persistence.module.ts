import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { InjectConnection, MongooseModule } from '@nestjs/mongoose';
import { ensureIndexes } from '@llmops/platform';
import type { Connection } from 'mongoose';
import { DATASETS_MODELS } from './datasets.schemas';

/** The datasets service's models (every feature module's repositories inject them); indexes at boot. */
@Global()
@Module({
  imports: [MongooseModule.forFeature(DATASETS_MODELS)],
  exports: [MongooseModule],
})
export class PersistenceModule implements OnModuleInit {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  async onModuleInit(): Promise<void> {
    for (const { name } of DATASETS_MODELS) await ensureIndexes(this.connection.model(name));
  }
}
