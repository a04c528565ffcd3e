import { Injectable } from '@nestjs/common';
import type { ExperimentResponse } from './dto/experiment.response';
import { toResponse } from './experiment-writer';
import { ExperimentNotFoundError } from './experiments.errors';
import { ExperimentRepository } from './persistence/experiment.repository';

/** Reads go to MongoDB (the source of truth, and it knows what is published), not to memory. */
@Injectable()
export class ReadExperimentsUseCase {
  constructor(private readonly repository: ExperimentRepository) {}

  async list(): Promise<ExperimentResponse[]> {
    return (await this.repository.findAll()).map(toResponse);
  }

  async get(key: string): Promise<ExperimentResponse> {
    const record = await this.repository.findByKey(key);
    if (!record) throw new ExperimentNotFoundError(key);
    return toResponse(record);
  }
}
