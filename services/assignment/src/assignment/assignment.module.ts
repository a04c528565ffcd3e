import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { AssignRoute } from './assign.route';
import { AssignUserUseCase } from './assign-user.usecase';
import { AssignmentController } from './assignment.controller';
import { ExposureMessages } from './exposure-event';
import { ExposuresController } from './exposures.controller';
import { RecordExposuresUseCase } from './record-exposures.usecase';

@Module({
  imports: [ExperimentsModule],
  controllers: [AssignmentController, ExposuresController],
  providers: [AssignUserUseCase, AssignRoute, ExposureMessages, RecordExposuresUseCase],
})
export class AssignmentModule {}
