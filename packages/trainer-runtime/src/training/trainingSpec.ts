import { InputError, parseInput, zodIssues } from '@vtp/service-kit';
import { formatForFramework, type ProblemIssue, TrainingStartRequestBody } from '@vtp/shared-schemas';
import type { TrainerAdapter } from '../adapter.ts';

/** A start request this trainer can run, with the framework's hyperparameters checked and defaulted. */
export interface TrainingSpec {
  request: TrainingStartRequestBody;
  hyperparameters: Record<string, unknown>;
}

/**
 * Checks a start request against the contract and against this trainer: framework, dataset format, model
 * catalog and the framework's hyperparameters. Every problem is reported at once, naming its field.
 */
export function parseTrainingSpec(adapter: TrainerAdapter, body: unknown, where = 'body'): TrainingSpec {
  const request = parseInput(TrainingStartRequestBody, body, where);
  const issues: ProblemIssue[] = [];
  if (request.framework !== adapter.framework) {
    issues.push({
      path: `${where}.framework`,
      message: `this trainer runs ${adapter.framework}, not ${request.framework}`,
    });
  }
  const format = formatForFramework[adapter.framework];
  if (request.dataset.format !== format) {
    issues.push({
      path: `${where}.dataset.format`,
      message: `${adapter.framework} trains on ${format} datasets`,
    });
  }
  const model = adapter.models.find((m) => m.name === request.model);
  if (!model) {
    issues.push({
      path: `${where}.model`,
      message: `unknown ${adapter.framework} model; one of ${adapter.models.map((m) => m.name).join(', ')}`,
    });
  } else if (model.needsPretrainedWeights && !request.initialWeightsUri) {
    issues.push({
      path: `${where}.initialWeightsUri`,
      message: `${model.name} needs a checkpoint to start from`,
    });
  }
  const hyperparameters = adapter.hyperparameters.safeParse(request.hyperparameters);
  if (!hyperparameters.success) issues.push(...zodIssues(hyperparameters.error, `${where}.hyperparameters`));
  if (issues.length > 0 || !hyperparameters.success) {
    throw new InputError(
      `Invalid ${where}: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  return { request, hyperparameters: hyperparameters.data };
}
