import { Global, Module, type OnModuleInit } from '@nestjs/common';
import { getConnectionToken, InjectConnection, MongooseModule } from '@nestjs/mongoose';
import { ensureIndexes, type MongoServerKind, mongoServerKind, SERVICE_CONFIG } from '@llmops/platform';
import type { Connection } from 'mongoose';
import type { DatasetsConfig } from '../config/datasets.config';
import { DATASETS_MODELS } from './datasets.schemas';
import { EXAMPLE_LAYOUT, type ExampleLayout, MONGO_SERVER_KIND } from './example-layout';

/** The layout the configuration names, or the one the server suits (`auto`), chosen once at boot. */
function exampleLayout(server: MongoServerKind, config: DatasetsConfig): ExampleLayout {
  const configured = config.DATASETS_EXAMPLE_LAYOUT;
  if (configured !== 'auto') return configured;
  return server === 'mongodb' ? 'documents' : 'facts';
}

/** The datasets service's models (every feature module's repositories inject them); indexes at boot. */
@Global()
@Module({
  imports: [MongooseModule.forFeature(DATASETS_MODELS)],
  providers: [
    { provide: MONGO_SERVER_KIND, inject: [getConnectionToken()], useFactory: mongoServerKind },
    { provide: EXAMPLE_LAYOUT, inject: [MONGO_SERVER_KIND, SERVICE_CONFIG], useFactory: exampleLayout },
  ],
  exports: [MongooseModule, EXAMPLE_LAYOUT, MONGO_SERVER_KIND],
})
export class PersistenceModule implements OnModuleInit {
  constructor(@InjectConnection() private readonly connection: Connection) {}

  async onModuleInit(): Promise<void> {
    for (const { name } of DATASETS_MODELS) await ensureIndexes(this.connection.model(name));
  }
}
