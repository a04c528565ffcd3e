export {
  ASSIGN_REASONS,
  type AssignReason,
  type AssignResponse,
  type Assignment,
  type AssignmentCounter,
  type CompiledArm,
  CompiledExperiment,
} from './compiled-experiment';
export { type Attributes, compileTargeting } from './targeting';
