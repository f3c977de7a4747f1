export {
  type CheckpointKind,
  type ExtractedDataset,
  InvalidDatasetError,
  type PreparedDataset,
  type TrainerAdapter,
} from './adapter.ts';
export {
  CallbackDelivery,
  type NewTrainerEvent,
  type RedeliveryOptions,
} from './callbacks/callbackDelivery.ts';
export {
  CallbackSender,
  DEFAULT_DELIVERY_POLICY,
  type DeliveryPolicyOptions,
} from './callbacks/deliveryPolicy.ts';
export { createHttpClient, type HttpClient, type HttpResult } from './callbacks/httpClient.ts';
export { type CallbackTarget, Outbox } from './callbacks/outbox.ts';
export { RUN_EXIT_CODES, runTrainerCli } from './cli.ts';
export { loadTrainerConfig, type TrainerConfig, type TrainerMode } from './config.ts';
export { type ExtractLimits, extractZip } from './dataset/extractZip.ts';
export { createTrainerRuntime, type TrainerRuntime, type TrainerRuntimeOptions } from './runtime.ts';
export { createTrainerService, type TrainerService } from './service.ts';
export { parseTrainingSpec, type TrainingSpec } from './training/trainingSpec.ts';
