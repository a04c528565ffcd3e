export { ExperimentNotFoundError } from '../experiments/experiments.errors';
