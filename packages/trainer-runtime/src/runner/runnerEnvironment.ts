/**
 * What the trainer's environment holds that framework code running on user data must never see: its own API
 * token, the job's callback token and spec (Kubernetes mode passes them as variables), storage credentials.
 */
const SECRET = /^(TRAINER_TOKEN|CALLBACK_TOKEN|TRAINING_SPEC_JSON|AWS_.*)$/;

/** The runner's environment: the trainer's minus its secrets, plus the helper module and framework settings. */
export function runnerEnvironment(
  trainerEnv: NodeJS.ProcessEnv,
  helperDir: string,
  frameworkEnv: Record<string, string>,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(trainerEnv)) {
    if (!SECRET.test(name)) env[name] = value;
  }
  return { ...env, ...frameworkEnv, PYTHONPATH: helperDir, PYTHONUNBUFFERED: '1' };
}
