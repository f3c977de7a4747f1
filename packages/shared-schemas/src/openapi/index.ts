export { buildBackendDocument, DatasetPage, JobEventList, JobPage } from './backend.ts';
export { json, problems } from './responses.ts';
export { buildTrainerDocument } from './trainer.ts';
