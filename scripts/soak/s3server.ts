// The soak's object store in a process of its own, so that the soak can pause it (SIGSTOP) like a storage
// outage. Prints its endpoint as one JSON line once it listens; stops on SIGTERM or when its parent is gone.
import { startEmbeddedS3 } from '@vtp/service-kit/s3';

const [directory] = process.argv.slice(2);
if (!directory) throw new Error('usage: s3server.ts <directory>');
const s3 = await startEmbeddedS3(directory);
process.stdout.write(`${JSON.stringify({ endpoint: s3.endpoint })}\n`);
const stop = () => void s3.stop().finally(() => process.exit(0));
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
const parent = process.ppid;
setInterval(() => {
  try {
    process.kill(parent, 0);
  } catch {
    stop();
  }
}, 1000).unref();
