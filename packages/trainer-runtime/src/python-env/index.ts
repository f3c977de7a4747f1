export { acquireFileLock } from './fileLock.ts';
export {
  DEFAULT_VERIFY_IMPORTS,
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
  pythonEnvCacheRoot,
  pythonEnvDir,
  pythonEnvKey,
  REQUIREMENTS_FILES,
  resolvePython,
  venvPython,
} from './pythonEnv.ts';
