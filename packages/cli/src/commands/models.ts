import { unwrap } from '@vtp/client';
import type { Command } from 'commander';
import type { Context } from '../context.ts';

export function registerModels(program: Command, context: (cmd: Command) => Context): void {
  program
    .command('models')
    .description('The models each framework trains (all from scratch; nothing is downloaded)')
    .action(async (_options: unknown, cmd: Command) => {
      const { out, client } = context(cmd);
      const { items } = unwrap(await (await client()).api.GET('/v1/models'));
      out.result(items, () =>
        out.table(
          ['FRAMEWORK', 'MODEL', 'TASK', 'DESCRIPTION'],
          items.map((m) => [m.framework, m.name, m.task, m.description]),
        ),
      );
    });
}
