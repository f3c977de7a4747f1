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
  COMPLETION_MARKER,
  isCompleteEnv,
  type PythonEnvSettings,
  type PythonEnvSpec,
  pythonEnvCacheRoot,
  pythonEnvDir,
  pythonEnvKey,
  REQUIREMENTS_FILES,
  resolvePython,
  TEST_TOOLS_ENV,
  TRACKING_SERVER_ENV,
  TRAINERS_ENV,
  testToolPath,
  venvPython,
} from './pythonEnv.ts';
