import { Module } from '@nestjs/common';
import { ExperimentsModule } from '../experiments/experiments.module';
import { AssignUserUseCase } from './assign-user.usecase';
import { AssignmentController } from './assignment.controller';

@Module({
  imports: [ExperimentsModule],
  controllers: [AssignmentController],
  providers: [AssignUserUseCase],
})
export class AssignmentModule {}
