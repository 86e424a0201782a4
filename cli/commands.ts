/** The registry of subcommands. Add a command by adding its module here. */
import type { Command } from './command.js';
import { demoCommand } from './commands/demo.js';
import { trainCommand } from './commands/train.js';
import { influenceCommand } from './commands/influence.js';
import { removeClassCommand } from './commands/remove-class.js';
import { backdoorCommand } from './commands/backdoor.js';
import { removeGroupCommand } from './commands/remove-group.js';

export const commands: readonly Command[] = [demoCommand, trainCommand, influenceCommand, removeClassCommand, backdoorCommand, removeGroupCommand];

/** The subcommand `npm start` runs when no name is given. */
export const defaultCommand = 'remove-class';
