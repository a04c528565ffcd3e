import { Module } from '@nestjs/common';
import { MongooseModule } from '@nestjs/mongoose';
import { ChangeStatusUseCase } from './change-status.usecase';
import { CreateExperimentUseCase } from './create-experiment.usecase';
import { ExperimentPublisher } from './experiment-publisher';
import { ExperimentStore } from './experiment-store';
import { ExperimentWriter } from './experiment-writer';
import { ExperimentsConsumer } from './experiments.consumer';
import { ExperimentsController } from './experiments.controller';
import { ExperimentRepository } from './persistence/experiment.repository';
import { EXPERIMENT_MODEL, ExperimentSchema } from './persistence/experiment.schema';
import { PromptResolver } from './prompt-resolver';
import { ReadExperimentsUseCase } from './read-experiments.usecase';
import { StartPhaseUseCase } from './start-phase.usecase';
import { UpdateExperimentUseCase } from './update-experiment.usecase';

@Module({
  imports: [MongooseModule.forFeature([{ name: EXPERIMENT_MODEL, schema: ExperimentSchema }])],
  controllers: [ExperimentsController, ExperimentsConsumer],
  providers: [
    ExperimentRepository,
    ExperimentStore,
    ExperimentPublisher,
    ExperimentWriter,
    PromptResolver,
    CreateExperimentUseCase,
    UpdateExperimentUseCase,
    ChangeStatusUseCase,
    StartPhaseUseCase,
    ReadExperimentsUseCase,
  ],
  exports: [ExperimentStore, ChangeStatusUseCase],
})
export class ExperimentsModule {}
