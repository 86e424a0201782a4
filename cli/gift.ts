#!/usr/bin/env node
/** The gift command line: `gift <command> [options]`; `gift --help` lists the commands. */
import { GiftError } from '../engine/errors.js';
import { UsageError } from './command.js';
import { commands, defaultCommand } from './commands.js';

function overview(): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  return [
    'usage: gift <command> [options]',
    '',
    'commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    '',
    `Without a command, gift runs '${defaultCommand}'. 'gift <command> --help' explains one.`,
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  const [first, ...rest] = argv;
  if (first === '--help' || first === '-h' || first === 'help') {
    console.log(overview());
    return 0;
  }
  const name = first === undefined || first.startsWith('-') ? defaultCommand : first;
  const args = first === undefined || first.startsWith('-') ? argv : rest;
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`gift: unknown command '${name}'\n\n${overview()}`);
    return 2;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`gift ${name}: ${e.message}\n\n${command.usage}`);
      return 2;
    }
    if (e instanceof GiftError) {
      console.error(`gift ${name}: ${e.name}: ${e.message}`);
      return 1;
    }
    throw e;
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code));
