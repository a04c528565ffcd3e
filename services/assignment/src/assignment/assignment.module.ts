import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { AssignRoute } from './assign.route';
import { AssignUserUseCase } from './assign-user.usecase';
import { AssignmentController } from './assignment.controller';

@Module({
  imports: [ExperimentsModule],
  controllers: [AssignmentController],
  providers: [AssignUserUseCase, AssignRoute],
})
export class AssignmentModule {}
