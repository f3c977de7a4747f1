import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { createVtpClient } from '../src/index.ts';

/** The client is a library: it must not trust whatever server it is pointed at with the user's disk. */
describe('@vtp/client against a server that misbehaves', () => {
  it.each([
    ['../../etc/cron.d/x', 'x'],
    ['..\\\\..\\\\evil.exe', 'evil.exe'],
    ['..', 'best'],
    ['a/', 'best'],
  ])('names a download %j as %j, never a path out of its folder', async (sent, named) => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-disposition': `attachment; filename="${sent}"` }).end('weights');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const vtp = createVtpClient({ baseUrl: `http://127.0.0.1:${port}`, apiKey: 'vtp_test' });
      const download = await vtp.downloadArtifact('00000000-0000-4000-8000-000000000000', 'best');
      await download.body.cancel();
      expect(download.filename).toBe(named);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
