/**
 * Errors of the nn module. They extend the engine's GiftError, so the CLI reports them as
 * intended failures (exit code 1) rather than crashes.
 */
import { GiftError } from '../engine/errors.js';

/**
 * A file that is not what it claims to be: a corrupt or truncated IDX or safetensors file, a
 * header that does not match its data, or weights that do not fit the stored architecture.
 * The message names the file and the field at fault.
 * @example
 * try { loadModel('model.safetensors'); } catch (e) { if (e instanceof FormatError) console.error(e.message); }
 */
export class FormatError extends GiftError {}

/**
 * A function that needs something this runtime lacks: reading a file, gunzip or a terminal
 * progress bar in a browser, where gift has no Node built-ins. The message names the function.
 * @example
 * try { loadModel('model.safetensors'); } catch (e) { if (e instanceof EnvironmentError) useBytesInstead(); }
 */
export class EnvironmentError extends GiftError {}
