export { acquireFileLock } from './fileLock.ts';
export {
  type PreparedPythonEnv,
  type PreparePythonEnvOptions,
  PythonEnvError,
  type PythonEnvProgress,
  type PythonEnvStep,
  preparePythonEnv,
} from './preparePythonEnv.ts';
export {
  CHECK_TOOLS_ENV,
  COMPLETION_MARKER,
  isCompleteEnv,
  type PythonEnvSettings,
  type PythonEnvSpec,
  pythonEnvCacheRoot,
  pythonEnvDir,
  pythonEnvKey,
  REQUIREMENTS_FILES,
  resolvePython,
  TRAINERS_ENV,
  venvPython,
} from './pythonEnv.ts';
