import { Command, CommanderError } from 'commander';
import { registerDatasets } from './commands/datasets.ts';
import { registerJobs } from './commands/jobs.ts';
import { registerLogin } from './commands/login.ts';
import { registerModels } from './commands/models.ts';
import { registerTrain } from './commands/train.ts';
import { type Context, createContext } from './context.ts';
import { describeFailure, ExitCode, exitCodeHelp } from './exitCodes.ts';

/** Runs `vtp` on `argv` (as `process.argv`); resolves to the exit code. */
export async function run(argv: string[]): Promise<number> {
  const contexts = new Map<Command, Context>();
  const context = (cmd: Command) => {
    let found = contexts.get(cmd);
    if (!found) {
      found = createContext(cmd.optsWithGlobals<{ json?: boolean }>().json === true);
      contexts.set(cmd, found);
    }
    return found;
  };
  const program = new Command('vtp')
    .description('Train vision models on the platform: datasets, trainings with live progress, checkpoints.')
    .option('--json', 'print results as JSON (for scripts); errors stay one line on stderr')
    .addHelpText(
      'after',
      `\nConnection: VTP_URL and VTP_API_KEY, else what \`vtp login\` saved.\n\n${exitCodeHelp}\n\n` +
        'Example:\n  vtp datasets upload shapes/ --format imagefolder --name shapes\n' +
        '  vtp train timm test_resnet --dataset shapes --epochs 3 --set imgsz=64 --follow\n' +
        '  vtp jobs download <job id> --artifact best -o model.pth.tar',
    )
    .showHelpAfterError('(vtp --help lists the commands)')
    .exitOverride();
  registerLogin(program, context);
  registerDatasets(program, context);
  registerTrain(program, context);
  registerJobs(program, context);
  registerModels(program, context);
  for (const command of allCommands(program)) command.exitOverride();

  try {
    await program.parseAsync(argv);
    return ExitCode.ok;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are not errors; commander has already printed its message.
      return err.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
    }
    const { line, exitCode } = describeFailure(err, [...contexts.values()][0]?.url());
    process.stderr.write(`vtp: ${line}\n`);
    return exitCode;
  }
}

function allCommands(command: Command): Command[] {
  return command.commands.flatMap((c) => [c, ...allCommands(c)]);
}
