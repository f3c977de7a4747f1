// The soak's object store in a process of its own, so that the soak can pause it (SIGSTOP) like a storage
// outage. Prints its endpoint and credentials as one JSON line once it listens.
import { startEmbeddedS3 } from '@vtp/service-kit/s3';
import { stopWithParent } from './childLifetime.ts';

const [directory] = process.argv.slice(2);
if (!directory) throw new Error('usage: s3server.ts <directory>');
const s3 = await startEmbeddedS3(directory);
const { endpoint, accessKeyId, secretAccessKey } = s3;
process.stdout.write(`${JSON.stringify({ endpoint, accessKeyId, secretAccessKey })}\n`);
stopWithParent(() => s3.stop());
