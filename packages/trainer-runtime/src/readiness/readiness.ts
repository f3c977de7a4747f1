import type { Framework, TrainerReadiness } from '@vtp/shared-schemas';
import { type PythonProbe, probePython } from './pythonProbe.ts';

/** The command that builds the Python environment the runners need. */
export const PYTHON_ENV_FIX = 'npm run python:env';

/**
 * Whether this trainer can run trainings: the Python probe, run once and cached, plus the current load.
 */
export class Readiness {
  private readonly framework: Framework;
  private readonly python: string | undefined;
  private probe: PythonProbe | undefined;
  private probing: Promise<PythonProbe> | undefined;

  constructor(framework: Framework, python: string | undefined) {
    this.framework = framework;
    this.python = python;
  }

  /** Starts the probe (once); resolves when it has answered. */
  check(frameworkModule: string, cwd: string, env: NodeJS.ProcessEnv): Promise<PythonProbe> {
    this.probing ??= (
      this.python
        ? probePython(this.python, frameworkModule, cwd, env)
        : Promise.resolve<PythonProbe>({
            executable: '',
            pythonVersion: null,
            torchVersion: null,
            frameworkVersion: null,
            problem:
              'no Python environment: VTP_PYTHON is unset and the cached virtual environment does not exist',
          })
    ).then((probe) => {
      this.probe = probe;
      return probe;
    });
    return this.probing;
  }

  get ready(): boolean {
    return this.probe !== undefined && this.probe.problem === undefined;
  }

  report(activeTrainings: number, maxConcurrentTrainings: number): TrainerReadiness {
    const probe = this.probe;
    const base = {
      framework: this.framework,
      python: { executable: probe?.executable ?? this.python ?? '', version: probe?.pythonVersion ?? null },
      frameworkVersion: probe?.frameworkVersion ?? null,
      torchVersion: probe?.torchVersion ?? null,
      activeTrainings,
      maxConcurrentTrainings,
    };
    if (!probe) return { ...base, ready: false, problem: 'still checking the Python environment' };
    if (probe.problem) return { ...base, ready: false, problem: probe.problem, fix: PYTHON_ENV_FIX };
    return { ...base, ready: true };
  }
}
