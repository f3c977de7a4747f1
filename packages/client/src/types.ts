import type { components } from './generated/backend.ts';

type Schemas = components['schemas'];
/** The API's bodies, as its OpenAPI document declares them. */
export type Job = Schemas['Job'];
export type JobStatus = Schemas['JobStatus'];
export type JobEvent = Schemas['JobEvent'];
export type JobCreateRequestBody = Schemas['JobCreateRequestBody'];
export type Dataset = Schemas['Dataset'];
export type DatasetFormat = Schemas['DatasetFormat'];
export type Artifact = Schemas['Artifact'];
export type ArtifactKind = Schemas['ArtifactKind'];
export type Framework = Schemas['Framework'];
export type TrainerModel = Schemas['TrainerModel'];
export type Problem = Schemas['Problem'];
export type ProblemIssue = Schemas['ProblemIssue'];

/** A job in one of these statuses never changes again. */
export const terminalStatuses: readonly JobStatus[] = ['succeeded', 'failed', 'cancelled'];
