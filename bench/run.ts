/**
 * `npm run bench [-- <module> ...] [flags]`: runs benchmark modules by name (all when none is
 * named). Each module exports `run(args)`, prints a table and writes bench/results/<name>.json.
 * Flags after the module names are passed to every module (e.g. `--quick`).
 */
type BenchModule = { run(args: string[]): Promise<unknown> };

/** Registered modules: one line each, loaded lazily so one module's imports cannot slow another. */
const modules: Record<string, () => Promise<BenchModule>> = {
  engine: () => import('./engine.js'),
  gpu: () => import('./gpu.js'),
  nn: () => import('./nn.js'),
  influence: () => import('./influence.js'),
  gif: () => import('./gif.js'),
};

async function main(argv: string[]): Promise<number> {
  const names = argv.filter((a) => !a.startsWith('-'));
  const flags = argv.filter((a) => a.startsWith('-'));
  if (flags.includes('--help') || flags.includes('-h')) {
    console.log(`usage: npm run bench -- [${Object.keys(modules).join('|')} ...] [--quick]`);
    return 0;
  }
  const unknown = names.filter((n) => !(n in modules));
  if (unknown.length > 0) {
    console.error(`bench: unknown module(s) ${unknown.join(', ')}; known: ${Object.keys(modules).join(', ')}`);
    return 2;
  }
  for (const name of names.length > 0 ? names : Object.keys(modules)) {
    console.log(`\n=== bench ${name} ===`);
    const mod = await modules[name]!();
    await mod.run(flags);
  }
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
