import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  jobSpanAttributes,
  type Logger,
  loggerForSpan,
  type OpenSpan,
  openSpan,
  type Span,
} from '@vtp/service-kit';
import type {
  Artifact,
  JobError,
  Metrics,
  TrainingResume,
  Training as TrainingState,
  TrainingStatus,
} from '@vtp/shared-schemas';
import { InvalidDatasetError, type TrainerAdapter } from '../adapter.ts';
import { ArtifactStore } from '../artifacts/artifactStore.ts';
import type { CallbackDelivery, NewTrainerEvent } from '../callbacks/callbackDelivery.ts';
import type { CallbackSender } from '../callbacks/deliveryPolicy.ts';
import { findDatasetRoot } from '../dataset/datasetRoot.ts';
import { extractZip } from '../dataset/extractZip.ts';
import type { DownloadedObject, TrainerMetrics } from '../observability/trainerMetrics.ts';
import { oomKillCount } from '../runner/oomKills.ts';
import { OutputLines } from '../runner/outputLines.ts';
import type { RunnerEvent, RunnerFile } from '../runner/protocol.ts';
import { runnerEnvironment } from '../runner/runnerEnvironment.ts';
import { type RunnerLauncher, RunnerProcess } from '../runner/runnerProcess.ts';
import { TrainingLog } from '../runner/trainingLog.ts';
import { downloadObject, MissingObjectError } from '../storage/objectTransfer.ts';
import { StorageUrls } from '../storage/storageUrls.ts';
import { MlflowTracker } from '../tracking/mlflowTracker.ts';
import { createWorkspace, type JobWorkspace, jobWorkspace, removeWorkspace } from './jobWorkspace.ts';
import { ProgressWatch } from './progressWatch.ts';
import { type RunnerOutcome, runnerOutcome, type StopReason } from './runnerOutcome.ts';
import type { TrainingSpec } from './trainingSpec.ts';

/** How long a training's end waits for its MLflow run to open, so the job can link it (tracking never fails it). */
const RUN_REPORT_WAIT_MS = 10_000;

export interface TrainingDeps {
  adapter: TrainerAdapter;
  metrics: TrainerMetrics;
  delivery: CallbackDelivery;
  /** The policy of calls to the backend, for storage URLs. */
  sender: CallbackSender;
  logger: Logger;
  /** Python interpreter; undefined when no environment is set up (the job then fails saying how to fix it). */
  python: string | undefined;
  /** How runners start: forked from a warm zygote, or each in a new interpreter. */
  runners: RunnerLauncher;
  /** PYTHONPATH of the runner (the shared helper module). */
  runnerHelperDir: string;
  workDir: string;
  heartbeatIntervalMs: number;
  cancelGraceMs: number;
  /** An artifact upload that makes no progress for this long fails. */
  uploadIdleTimeoutMs: number;
  /** A phase without progress this long is a stall (epochs also get 5x the longest so far). */
  stallTimeoutMs: number;
}

/** Stray stdout lines sent to the backend as log events, per job; the rest only reach the training log. */
const MAX_STRAY_LOG_EVENTS = 100;

class Stopped extends Error {}

/** The checkpoint to resume from is not the one reported: continuing would train on different weights. */
class ResumeCheckpointError extends Error {}

async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

/**
 * One training from start request to terminal event: fetch and unpack the dataset, run the framework's runner,
 * turn its protocol into callback events (uploading checkpoints on the way), and clean up. It never waits on
 * the backend: events go to the delivery queue.
 */
export class Training {
  readonly jobId: string;
  readonly attempt: number;
  /** The delivery stream of this attempt's events (its token and numbering differ from the earlier ones'). */
  private readonly stream: string;
  /** Resolves with the final status once the terminal event is queued and the work folder is gone. */
  readonly done: Promise<TrainingStatus>;
  private readonly spec: TrainingSpec;
  private readonly deps: TrainingDeps;
  private readonly logger: Logger;
  /** The training's span in its job's trace: dataset, runner and uploads are its children, epochs its events. */
  private readonly span: OpenSpan;
  private readonly workspace: JobWorkspace;
  private readonly storage: StorageUrls;
  private readonly artifacts: ArtifactStore;
  private readonly abort = new AbortController();
  private status: TrainingStatus = 'starting';
  private epoch = 0;
  private totalEpochs: number;
  private readonly startedAt = new Date();
  private finishedAt: Date | undefined;
  private error: JobError | null = null;
  private stopReason: StopReason | undefined;
  private readonly progress: ProgressWatch;
  /** What the watchdog saw when it stopped the training. */
  private stall: string | undefined;
  private runner: RunnerProcess | undefined;
  private log: TrainingLog | undefined;
  /** Runner events are handled one after another, in order, uploads included. */
  private handling: Promise<void> = Promise.resolve();
  private terminal: Extract<RunnerEvent, { type: 'completed' | 'error' | 'cancelled' }> | undefined;
  private lastCheckpoint: Artifact[] = [];
  private readonly epochMetrics: Metrics[] = [];
  private strayEvents = 0;
  /** Logs the training to MLflow when its job asks for it; never holds the training up. */
  private readonly tracker: MlflowTracker | undefined;

  constructor(spec: TrainingSpec, deps: TrainingDeps) {
    this.spec = spec;
    this.deps = deps;
    this.jobId = spec.request.jobId;
    this.attempt = spec.request.attempt;
    this.stream = this.attempt === 1 ? this.jobId : `${this.jobId}-a${this.attempt}`;
    const { request } = spec;
    this.span = openSpan(
      `training ${this.jobId}`,
      request.traceContext,
      jobSpanAttributes({
        jobId: this.jobId,
        attempt: this.attempt,
        framework: request.framework,
        model: request.model,
      }),
    );
    this.logger = loggerForSpan(deps.logger, this.span.span, { job_id: this.jobId, attempt: this.attempt });
    this.workspace = jobWorkspace(deps.workDir, this.jobId);
    this.progress = new ProgressWatch({ floorMs: deps.stallTimeoutMs });
    const { callback, traceContext } = spec.request;
    this.storage = new StorageUrls(
      deps.sender,
      {
        url: callback.storageUrl,
        token: callback.token,
        ...(traceContext ? { traceHeaders: { ...traceContext } } : {}),
      },
      {
        // The backend away for longer than a phase may stall fails the transfer, as a stall would.
        patienceMs: deps.stallTimeoutMs,
        // A trainer shutting down keeps what it cannot store quickly out of its grace period.
        patient: () => this.stopReason !== 'shutdown',
      },
    );
    this.artifacts = new ArtifactStore(this.storage, {
      snapshotDir: this.workspace.snapshots,
      idleTimeoutMs: deps.uploadIdleTimeoutMs,
      onProgress: () => this.progress.progressed(),
      onUploaded: (kind, bytes, seconds) => deps.metrics.uploaded(kind, bytes, seconds),
    });
    this.totalEpochs = Number(spec.hyperparameters.epochs ?? 0);
    const { resume } = spec.request;
    if (resume) {
      this.epoch = resume.epoch;
      this.epochMetrics.push(...resume.epochMetrics);
    }
    this.tracker = this.trackerFor(spec);
    this.done = this.span.within(() => this.run()).finally(() => this.span.end());
  }

  private trackerFor({ request, hyperparameters }: TrainingSpec): MlflowTracker | undefined {
    if (!request.tracking) return undefined;
    return new MlflowTracker(
      request.tracking.mlflow,
      {
        jobId: this.jobId,
        attempt: this.attempt,
        framework: request.framework,
        model: request.model,
        hyperparameters,
        dataset: request.dataset,
        earlierEpochs: request.resume?.epochMetrics ?? [],
      },
      {
        logger: this.logger,
        stagingDir: join(this.deps.workDir, 'mlflow', this.stream),
        onRun: (mlflow) => {
          // After the terminal event the attempt's token is dead: the next attempt reports the run instead.
          if (!this.finished) this.emit({ type: 'tracking', mlflow });
        },
        onFailure: (message, failures) => {
          this.deps.metrics.trackingFailed();
          this.log?.note(message);
          if (failures === 1 && !this.finished) this.emit({ type: 'log', level: 'warn', message });
        },
      },
    );
  }

  get finished(): boolean {
    return this.finishedAt !== undefined;
  }

  state(): TrainingState {
    return {
      jobId: this.jobId,
      attempt: this.attempt,
      status: this.status,
      epoch: this.epoch,
      totalEpochs: this.totalEpochs,
      startedAt: this.startedAt.toISOString(),
      finishedAt: this.finishedAt?.toISOString() ?? null,
      error: this.error,
      pendingEvents: this.deps.delivery.pending(this.stream),
    };
  }

  /** The training log so far; with `follow`, streamed until the training ends. */
  async *logs(follow: boolean, signal?: AbortSignal): AsyncGenerator<Buffer> {
    if (this.log) yield* this.log.read(follow, signal);
  }

  /**
   * Stops the training: SIGTERM to the runner (it stops at the next batch and names its
   * checkpoints), SIGKILL after the grace period. The first reason given is the one reported.
   */
  stop(reason: StopReason): void {
    if (this.finished || this.stopReason) return;
    this.stopReason = reason;
    this.logger.info({ reason }, 'stopping the training');
    this.log?.note(`stopping: ${reason}`);
    this.abort.abort();
    void this.runner?.terminate(this.deps.cancelGraceMs);
  }

  private async run(): Promise<TrainingStatus> {
    const heartbeat = setInterval(() => {
      this.emit({
        type: 'heartbeat',
        phase: this.progress.phase,
        lastProgressAt: this.progress.lastProgressAt.toISOString(),
        stallLimitSeconds: Math.ceil(this.progress.limitMs() / 1000),
      });
      this.watchForStall();
    }, this.deps.heartbeatIntervalMs);
    const { maxDurationSeconds } = this.spec.request;
    const limit = maxDurationSeconds
      ? setTimeout(() => this.stop('time_limit'), maxDurationSeconds * 1000)
      : undefined;
    try {
      await createWorkspace(this.workspace);
      this.log = new TrainingLog(this.workspace.log);
      const outcome = await this.train();
      await this.finish(outcome);
    } catch (err) {
      await this.finish(this.failureOf(err));
    } finally {
      clearInterval(heartbeat);
      clearTimeout(limit);
      // In the background: MLflow's pace never holds up the end of a training (its files are staged).
      void this.tracker?.end(this.status);
      await this.log?.close().catch(() => undefined);
      await removeWorkspace(this.workspace).catch((err) =>
        this.logger.warn({ err }, 'could not remove the job folder'),
      );
    }
    return this.status;
  }

  /** Stops the training when its phase has gone past its limit without progress. */
  private watchForStall(): void {
    const stall = this.progress.stalled();
    if (!stall || this.finished || this.stopReason) return;
    const phase = stall.phase.replaceAll('_', ' ');
    this.stall = `No progress while ${phase} for ${Math.round(stall.silentMs / 1000)}s (its limit is ${Math.round(stall.limitMs / 1000)}s); the training was stopped`;
    this.logger.warn({ stall }, 'training stalled');
    this.stop('stalled');
  }

  /** The dataset downloaded, unpacked and checked by the adapter; an export-only run needs none. */
  private async prepareDataset(signal: AbortSignal): Promise<{ root: string; dataYaml: string | null }> {
    const { request } = this.spec;
    const { adapter } = this.deps;
    const progressed = () => this.progress.progressed();
    this.note(`downloading ${request.dataset.uri}`);
    const zipBytes = await this.download(request.dataset.uri, this.workspace.datasetZip, 'dataset', signal);
    this.note(`unpacking ${zipBytes} bytes`);
    this.progress.enter('extracting_dataset');
    const extracting = performance.now();
    const extracted = await this.span.child('extract dataset', async (span) => {
      const files = await extractZip(
        this.workspace.datasetZip,
        this.workspace.dataset,
        undefined,
        signal,
        progressed,
      );
      span.setAttributes({ 'vtp.files': files.files, 'vtp.bytes': files.bytes });
      return files;
    });
    this.deps.metrics.extracted(extracted.bytes, (performance.now() - extracting) / 1000);
    const root = await findDatasetRoot(this.workspace.dataset, adapter.datasetTopFolders);
    this.note(`dataset: ${extracted.files} files, ${extracted.bytes} bytes`);
    const prepared = await adapter.prepareDataset({ root, ...extracted }, this.workspace.dir);
    return { root, dataYaml: prepared.dataYaml };
  }

  private async train(): Promise<RunnerOutcome> {
    const { request } = this.spec;
    const { adapter } = this.deps;
    const signal = this.abort.signal;
    const prepared = request.exportOnly ? null : await this.prepareDataset(signal);
    let initialWeights: string | null = null;
    if (request.initialWeightsUri) {
      initialWeights = join(this.workspace.dir, adapter.initialWeightsFileName);
      this.note(`downloading initial weights ${request.initialWeightsUri}`);
      this.progress.enter('downloading_dataset');
      await this.download(request.initialWeightsUri, initialWeights, 'checkpoint', signal);
    }
    const resume = request.resume ? await this.fetchResumePoint(request.resume, signal) : null;
    await writeFile(
      this.workspace.config,
      JSON.stringify(
        {
          jobId: this.jobId,
          model: request.model,
          // An export-only run reads no dataset: its (empty) folder stands in.
          datasetDir: prepared?.root ?? this.workspace.dataset,
          dataYaml: prepared?.dataYaml ?? null,
          outputDir: this.workspace.output,
          snapshotDir: this.workspace.snapshots,
          hyperparameters: this.spec.hyperparameters,
          initialWeights,
          resume,
          export: request.export,
          exportOnly: request.exportOnly,
          device: 'auto',
        },
        null,
        2,
      ),
    );
    if (this.stopReason) throw new Stopped();
    if (!this.deps.python) {
      return {
        type: 'failed',
        error: {
          code: 'internal_error',
          message: 'No Python environment for the runner: run `npm run python:env`, or set VTP_PYTHON',
        },
      };
    }
    return this.supervise(this.deps.python);
  }

  /**
   * Downloads the checkpoints an earlier attempt reported, checking `last` is the very file it reported: the
   * runner continues from it (weights, optimizer, epoch) and keeps `best` unless it trains a better one.
   */
  private async fetchResumePoint(
    resume: TrainingResume,
    signal: AbortSignal,
  ): Promise<{ epoch: number; last: string; best: string | null }> {
    const names = this.deps.adapter.checkpointFileNames;
    await mkdir(this.workspace.resume, { recursive: true });
    const last = join(this.workspace.resume, names.last);
    this.note(`downloading the checkpoint of epoch ${resume.epoch} to resume from: ${resume.last}`);
    this.progress.enter('downloading_dataset');
    await this.download(resume.last, last, 'checkpoint', signal);
    if (resume.lastSha256 && (await sha256Of(last)) !== resume.lastSha256) {
      throw new ResumeCheckpointError(
        `${resume.last} is not the checkpoint its training reported (sha256 differs)`,
      );
    }
    let best: string | null = null;
    if (resume.best) {
      best = join(this.workspace.resume, names.best);
      await this.download(resume.best, best, 'checkpoint', signal);
    }
    return { epoch: resume.epoch, last, best };
  }

  /** Fetches one of the job's objects through a presigned URL; returns its size. */
  private async download(
    uri: string,
    file: string,
    object: DownloadedObject,
    signal: AbortSignal,
  ): Promise<number> {
    return this.span.child(
      `download ${object}`,
      async (span) => {
        const began = performance.now();
        const { url } = await this.storage.get({ method: 'GET', uri }, signal);
        const bytes = await downloadObject(url, uri, file, signal, () => this.progress.progressed());
        this.deps.metrics.downloaded(object, bytes, (performance.now() - began) / 1000);
        span.setAttribute('vtp.bytes', bytes);
        return bytes;
      },
      { 'vtp.object.uri': uri },
    );
  }

  private supervise(python: string): Promise<RunnerOutcome> {
    return this.span.child('runner', async (span) => {
      const outcome = await this.superviseRunner(python, span);
      span.setAttribute('vtp.runner.outcome', outcome.type);
      return outcome;
    });
  }

  private async superviseRunner(python: string, span: Span): Promise<RunnerOutcome> {
    const log = this.log!;
    this.progress.enter('starting_runner');
    const oomKillsBefore = await oomKillCount();
    const started = await this.deps.runners.launch({
      python,
      script: this.deps.adapter.runnerScript,
      configFile: this.workspace.config,
      cwd: this.workspace.dir,
      env: runnerEnvironment(
        process.env,
        this.deps.runnerHelperDir,
        this.deps.adapter.pythonEnv(this.workspace.dir),
      ),
    });
    // The runner's own output also goes to the service log, line by line, naming the job and its trace.
    const output = new OutputLines((line) => this.logger.info({ stream: 'runner' }, line));
    const runner = new RunnerProcess(started, {
      event: (event) => this.onRunnerEvent(event),
      stray: (line) => this.onStrayLine(line),
      stderr: (chunk) => {
        log.write(chunk);
        output.write(chunk);
      },
    });
    this.runner = runner;
    this.note(`runner started: ${started.origin}, pid ${runner.pid}`);
    this.logger.info({ pid: runner.pid, origin: started.origin }, 'runner started');
    span.setAttributes({ 'process.pid': runner.pid, 'vtp.runner.origin': started.origin });
    // A stop that came while the runner was being started.
    if (this.stopReason) void runner.terminate(this.deps.cancelGraceMs);
    const exit = await runner.exited;
    output.end();
    this.progress.enter('uploading_artifacts');
    await this.handling;
    this.logger.info({ code: exit.code, signal: exit.signal }, 'runner exited');
    const outcome = runnerOutcome({
      exit,
      terminal: this.terminal,
      stopReason: this.stopReason,
      maxDurationSeconds: this.spec.request.maxDurationSeconds,
      stall: this.stall,
      logTail: log.tail(),
      oomKilled: await this.oomKilledSince(oomKillsBefore),
    });
    this.deps.metrics.runnerExited(outcome);
    return outcome;
  }

  private async oomKilledSince(before: number | undefined): Promise<boolean | undefined> {
    const after = await oomKillCount();
    return before === undefined || after === undefined ? undefined : after > before;
  }

  private onRunnerEvent(event: RunnerEvent): void {
    switch (event.type) {
      case 'started':
        this.progress.enter('training');
        this.status = 'running';
        this.totalEpochs = event.totalEpochs;
        this.note(`runner started on ${event.device ?? 'unknown device'}`);
        this.emit({
          type: 'started',
          totalEpochs: event.totalEpochs,
          ...(event.frameworkVersion ? { frameworkVersion: event.frameworkVersion } : {}),
        });
        this.tracker?.started(event.frameworkVersion);
        return;
      case 'epoch':
        this.progress.epochEnded();
        this.epoch = event.epoch;
        this.totalEpochs = event.totalEpochs;
        this.epochMetrics.push(event.metrics);
        this.span.span.addEvent('epoch', {
          'vtp.epoch': event.epoch,
          'vtp.epochs.total': event.totalEpochs,
          ...Object.fromEntries(
            Object.entries(event.metrics).map(([name, value]) => [`vtp.metric.${name}`, value]),
          ),
        });
        this.emit({
          type: 'progress',
          epoch: event.epoch,
          totalEpochs: event.totalEpochs,
          metrics: event.metrics,
        });
        this.tracker?.epoch(event.epoch, event.metrics);
        return;
      case 'checkpoint': {
        this.inTurn(async () => {
          try {
            const artifacts = await this.upload(event.files, 'checkpoint');
            if (artifacts.length === 0) return;
            this.lastCheckpoint = artifacts;
            this.emit({ type: 'checkpoint', epoch: event.epoch, artifacts });
          } catch (err) {
            this.logger.warn(
              { err, epoch: event.epoch },
              'checkpoint upload failed; the next one may succeed',
            );
          }
        });
        return;
      }
      case 'completed':
      case 'cancelled':
        this.terminal ??= event;
        return;
      case 'error':
        this.terminal ??= event;
        return;
    }
  }

  private onStrayLine(line: string): void {
    this.log?.note(`runner stdout: ${line}`);
    this.logger.info({ stream: 'runner' }, line);
    if (this.strayEvents >= MAX_STRAY_LOG_EVENTS) return;
    this.strayEvents += 1;
    this.emit({ type: 'log', level: 'warn', message: line.slice(0, 16_000) });
  }

  /** Uploads what the outcome needs and queues the terminal event. */
  private async finish(outcome: RunnerOutcome): Promise<void> {
    let final: NewTrainerEvent;
    try {
      final = await this.terminalEvent(outcome);
    } catch (err) {
      this.logger.error({ err }, 'could not upload the results');
      final = {
        type: 'failed',
        error: { code: 'internal_error', message: `Could not upload the results: ${(err as Error).message}` },
        artifacts: [],
      };
    }
    // A run still opening (a slow MLflow, a short training) gets a moment to be reported while the token lives.
    await this.tracker?.opened(RUN_REPORT_WAIT_MS);
    this.status =
      final.type === 'completed' ? 'succeeded' : final.type === 'cancelled' ? 'cancelled' : 'failed';
    this.error = final.type === 'failed' ? final.error : null;
    this.span.span.setAttribute('vtp.training.status', this.status);
    if (this.error) this.span.fail(`${this.error.code}: ${this.error.message.slice(0, 200)}`);
    this.finishedAt = new Date();
    this.emit(final);
    this.logger.info({ status: this.status, error: this.error }, 'training finished');
  }

  private async terminalEvent(outcome: RunnerOutcome): Promise<NewTrainerEvent> {
    switch (outcome.type) {
      case 'completed': {
        const checkpoints = await this.upload(outcome.files, 'final');
        await writeFile(
          this.workspace.metrics,
          JSON.stringify({ jobId: this.jobId, metrics: outcome.metrics, epochs: this.epochMetrics }, null, 2),
        );
        const metrics = await this.artifacts.uploadFile(this.workspace.metrics, 'metrics.json', 'metrics');
        for (const warning of outcome.warnings) {
          this.log?.note(warning);
          this.emit({ type: 'log', level: 'warn', message: warning.slice(0, 16_000) });
        }
        for (const file of outcome.files.filter((f) => f.kind !== 'last'))
          await this.tracker?.artifact(file.path, `weights/${this.objectName(file.kind)}`);
        await this.tracker?.artifact(this.workspace.metrics, 'metrics.json');
        return {
          type: 'completed',
          metrics: outcome.metrics,
          artifacts: [...checkpoints, metrics, await this.uploadLog()],
        };
      }
      case 'cancelled': {
        const checkpoints = outcome.files ? await this.upload(outcome.files, 'final') : this.lastCheckpoint;
        return { type: 'cancelled', artifacts: [...checkpoints, await this.uploadLog()] };
      }
      case 'failed': {
        // The log of a failed training is what its user needs most: it must outlive the trainer.
        const log = await this.uploadLog().catch((err) => {
          this.logger.warn({ err }, 'could not upload the training log');
          return undefined;
        });
        return { type: 'failed', error: outcome.error, artifacts: log ? [log] : [] };
      }
    }
  }

  private failureOf(err: unknown): RunnerOutcome {
    const { request } = this.spec;
    // Whatever a stop broke on its way (an aborted download), the stop is what happened.
    if (err instanceof Stopped || this.stopReason) {
      return runnerOutcome({
        exit: { code: null, signal: null },
        terminal: undefined,
        stopReason: this.stopReason,
        maxDurationSeconds: request.maxDurationSeconds,
        stall: this.stall,
        logTail: '',
      });
    }
    if (err instanceof InvalidDatasetError)
      return { type: 'failed', error: { code: 'invalid_dataset', message: err.message } };
    if (err instanceof ResumeCheckpointError)
      return { type: 'failed', error: { code: 'internal_error', message: err.message } };
    if (err instanceof MissingObjectError) {
      // The checkpoints of an earlier attempt are the platform's own: their loss is not the user's error.
      const code =
        err.uri === request.dataset.uri
          ? 'invalid_dataset'
          : err.uri === request.initialWeightsUri
            ? 'invalid_configuration'
            : 'internal_error';
      return { type: 'failed', error: { code, message: err.message } };
    }
    this.logger.error({ err }, 'training failed inside the trainer');
    return {
      type: 'failed',
      error: { code: 'internal_error', message: String((err as Error).message ?? err).slice(0, 4000) },
    };
  }

  /**
   * Each checkpoint snapshot goes to a key of its own (`weights/epoch-<n>/`), the final files to `weights/`: an
   * object the backend recorded is never overwritten by a later upload whose report may never arrive (the
   * backend deletes a snapshot once a newer one replaces it).
   */
  private upload(files: readonly RunnerFile[], stage: 'checkpoint' | 'final'): Promise<Artifact[]> {
    return this.span.child(
      `upload ${stage}`,
      async (span) => {
        const artifacts: Artifact[] = [];
        for (const file of files) {
          const folder = stage === 'checkpoint' ? `weights/epoch-${file.epoch}` : 'weights';
          artifacts.push(
            await this.artifacts.uploadSnapshot(file, `${folder}/${this.objectName(file.kind)}`, file.kind),
          );
        }
        span.setAttribute(
          'vtp.bytes',
          artifacts.reduce((sum, artifact) => sum + artifact.bytes, 0),
        );
        return artifacts;
      },
      { 'vtp.artifact.kinds': files.map((file) => file.kind) },
    );
  }

  /** `best.onnx` for the ONNX export of the best checkpoint (the backend's storedOutputs reads the same layout). */
  private objectName(kind: RunnerFile['kind']): string {
    return kind === 'onnx' ? 'best.onnx' : this.deps.adapter.checkpointFileNames[kind];
  }

  private uploadLog(): Promise<Artifact> {
    return this.span.child('upload log', async () => {
      await this.log?.close();
      return this.artifacts.uploadFile(this.workspace.log, 'training.log', 'log');
    });
  }

  private note(line: string): void {
    this.log?.note(line);
    this.logger.debug(line);
  }

  private inTurn(step: () => Promise<void>): void {
    this.handling = this.handling
      .then(step)
      .catch((err) => this.logger.error({ err }, 'handling a runner event failed'));
  }

  private emit(event: NewTrainerEvent): void {
    const { url, token, firstSeq } = this.spec.request.callback;
    const trace = this.spec.request.traceContext;
    this.deps.delivery.send(
      this.stream,
      { url, token, firstSeq, ...(trace ? { traceHeaders: { ...trace } } : {}) },
      event,
    );
  }
}
