import { createInterface } from 'node:readline/promises';
import { createVtpClient, unwrap } from '@vtp/client';
import type { Command } from 'commander';
import { configPath, readConfig, writeConfig } from '../config.ts';
import type { Context } from '../context.ts';
import { CliError, ExitCode } from '../exitCodes.ts';
import { apiUrl } from '../values.ts';

export function registerLogin(program: Command, context: (cmd: Command) => Context): void {
  program
    .command('login')
    .description(
      `Check and save the API's URL and your API key (in ${configPath()}, mode 0600). The key comes from ` +
        'VTP_API_KEY or standard input (asked for, unechoed, on a terminal), never from the command line.',
    )
    .option(
      '--url <url>',
      "the API's URL (default: VTP_URL, the saved one, or http://127.0.0.1:8000)",
      apiUrl,
    )
    .action(async (options: { url?: string }, cmd: Command) => {
      const { out } = context(cmd);
      const saved = await readConfig();
      const url = options.url ?? apiUrl(process.env.VTP_URL ?? saved.url ?? 'http://127.0.0.1:8000');
      const apiKey = process.env.VTP_API_KEY || (await readKey());
      if (!apiKey) throw new CliError('no API key given (set VTP_API_KEY or type it when asked)');
      // The key is checked before it is saved: its own key list needs a valid key.
      const vtp = createVtpClient({ baseUrl: url, apiKey });
      const keys = unwrap(
        await vtp.api.GET('/v1/api-keys').catch((err: unknown) => {
          // Login has no saved URL yet to name: say which one could not be reached.
          throw new CliError(`cannot reach ${url}: ${(err as Error).message}`, ExitCode.unavailable);
        }),
      );
      await writeConfig({ url, apiKey });
      const user = keys.items[0]?.user;
      out.result(
        { url, user: user ?? null, config: configPath() },
        () => `Logged in to ${url}${user ? ` as ${user}` : ''} (saved in ${configPath()})`,
      );
    });
}

/** One line from standard input; on a terminal, asked for without echoing what is typed. */
async function readKey(): Promise<string> {
  const input = process.stdin;
  if (!input.isTTY) {
    const rl = createInterface({ input, terminal: false });
    for await (const line of rl) {
      rl.close();
      return line.trim();
    }
    return '';
  }
  process.stderr.write('API key: ');
  input.setRawMode(true);
  input.resume();
  let key = '';
  try {
    for await (const chunk of input) {
      for (const char of String(chunk)) {
        if (char === '\r' || char === '\n') return key.trim();
        if (char === '\u0003') throw new CliError('cancelled');
        if (char === '\u007f') key = key.slice(0, -1);
        else key += char;
      }
    }
    return key.trim();
  } finally {
    input.setRawMode(false);
    input.pause();
    process.stderr.write('\n');
  }
}
