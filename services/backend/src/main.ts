// Evaluated first, before the modules that take seconds to load: the pid of the parent (see startedBy.ts).
import '@vtp/service-kit/startedBy';
import { ConfigError, createLogger, startTelemetry } from '@vtp/service-kit';
import { startedBy } from '@vtp/service-kit/startedBy';
import { startBackend } from './backend.ts';
import { loadBackendConfig } from './config.ts';

try {
  const config = loadBackendConfig(process.env);
  const logger = createLogger('backend', config.LOG_LEVEL);
  const telemetry = startTelemetry('vtp-backend');
  const backend = await startBackend(config, logger);
  backend.lifecycle.addShutdownHook('telemetry', () => telemetry.shutdown());
  backend.lifecycle.exitOnSignals();
  if (config.EXIT_WITH_PARENT) backend.lifecycle.exitWithParent(startedBy);
  if (!config.ADMIN_API_KEY) {
    // Printed on purpose, once, so a newcomer can call the API right away; never logged elsewhere.
    process.stdout.write(
      `\n  Backend ready at ${backend.url}  (API reference: ${backend.url}/docs)\n  Admin API key: ${backend.adminKey}\n\n`,
    );
  }
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
