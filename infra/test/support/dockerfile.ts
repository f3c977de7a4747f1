/** One instruction of a Dockerfile, its continuation lines joined. */
export interface Instruction {
  keyword: string;
  /** Everything after the keyword, flags included. */
  args: string;
  line: number;
}

export interface Stage {
  /** The FROM image (or an earlier stage's name). */
  base: string;
  name?: string | undefined;
  instructions: Instruction[];
}

/**
 * Splits a Dockerfile into stages of instructions: enough of the format for the checks in this suite (comments,
 * parser directives, backslash continuations, `FROM image AS name`). Heredocs are not used in this repository
 * and are refused rather than misread.
 */
export function parseDockerfile(text: string, file: string): Stage[] {
  const stages: Stage[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let logical = lines[i] ?? '';
    if (/^\s*(#|$)/.test(logical)) continue;
    while (logical.trimEnd().endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      // Comment lines inside a continued instruction are dropped, as Docker does.
      if (/^\s*#/.test(next)) {
        logical = `${logical.trimEnd().slice(0, -1)}\\`;
        continue;
      }
      logical = `${logical.trimEnd().slice(0, -1)} ${next.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(logical);
    if (!match) throw new Error(`${file}:${start + 1}: cannot read "${logical.trim()}"`);
    const keyword = (match[1] ?? '').toUpperCase();
    const args = (match[2] ?? '').trim();
    if (/<<-?\s*["']?[A-Z]/.test(args))
      throw new Error(`${file}:${start + 1}: heredocs are not supported here`);
    const instruction = { keyword, args, line: start + 1 };
    if (keyword === 'FROM') {
      const from = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args);
      if (!from) throw new Error(`${file}:${start + 1}: cannot read FROM ${args}`);
      stages.push({ base: from[1] ?? '', name: from[2], instructions: [instruction] });
      continue;
    }
    const stage = stages.at(-1);
    if (!stage) throw new Error(`${file}:${start + 1}: ${keyword} before the first FROM`);
    stage.instructions.push(instruction);
  }
  return stages;
}

export interface CopyInstruction {
  from?: string | undefined;
  sources: string[];
  destination: string;
  line: number;
}

/** COPY/ADD arguments: flags (--from, --chown, ...), then sources, then the destination; shell or JSON form. */
export function parseCopy(instruction: Instruction): CopyInstruction {
  const words = instruction.args.startsWith('[')
    ? (JSON.parse(instruction.args) as string[])
    : instruction.args.split(/\s+/);
  const flags = words.filter((word) => word.startsWith('--'));
  const paths = words.filter((word) => !word.startsWith('--'));
  const from = flags.find((flag) => flag.startsWith('--from='))?.slice('--from='.length);
  const destination = paths.at(-1);
  if (paths.length < 2 || destination === undefined)
    throw new Error(`line ${instruction.line}: COPY needs a source and a destination`);
  return { from, sources: paths.slice(0, -1), destination, line: instruction.line };
}

/** `ENV a=1 b=2` (or the legacy `ENV a 1`) as a map; values keep no surrounding quotes. */
export function parseEnv(instruction: Instruction): Record<string, string> {
  const legacy = /^(\w+)\s+([^=]*)$/.exec(instruction.args);
  if (legacy) return { [legacy[1] ?? '']: (legacy[2] ?? '').trim() };
  const env: Record<string, string> = {};
  for (const [, name, value] of instruction.args.matchAll(/(\w+)=("[^"]*"|\S*)/g)) {
    env[name ?? ''] = (value ?? '').replace(/^"(.*)"$/, '$1');
  }
  return env;
}
