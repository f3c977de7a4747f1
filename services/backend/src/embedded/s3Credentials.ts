import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';

const S3Credentials = z.object({ accessKeyId: z.string().min(1), secretAccessKey: z.string().min(1) });
type S3Credentials = z.infer<typeof S3Credentials>;

/**
 * The embedded S3 server's credentials: random for each DATA_DIR and kept in DATA_DIR/s3-credentials (0600), so
 * that no other user of the machine can use the server and the same pair serves every start (and anyone who
 * points an S3 client at it by hand).
 */
export async function loadOrCreateS3Credentials(
  dataDir: string,
): Promise<{ credentials: S3Credentials; file: string; created: boolean }> {
  const file = resolve(dataDir, 's3-credentials');
  const kept = await readFile(file, 'utf8').catch(() => undefined);
  if (kept?.trim()) {
    try {
      return { credentials: S3Credentials.parse(JSON.parse(kept)), file, created: false };
    } catch {
      throw new Error(`${file} does not hold S3 credentials: delete it to get new ones`);
    }
  }
  const credentials = {
    accessKeyId: randomBytes(10).toString('hex').toUpperCase(),
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
  return { credentials, file, created: true };
}
