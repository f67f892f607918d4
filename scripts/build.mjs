// Rebuilds dist/: one self-contained ESM bundle per entry point, as the runner executes them.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const entries = ['main', 'post', 'cli'];

rmSync('dist', { recursive: true, force: true });
for (const entry of entries) {
  const source = `src/${entry}.ts`;
  if (!existsSync(source)) throw new Error(`build: missing entry ${source}`);
  execFileSync(
    process.execPath,
    [
      'node_modules/@vercel/ncc/dist/ncc/cli.js',
      'build',
      source,
      '-o',
      `dist/${entry}`,
      '--quiet',
      '--license',
      'licenses.txt',
    ],
    { stdio: 'inherit' },
  );
  // ncc emits ESM for an ESM package, but ssh2 (through dockerode) carries emscripten code that
  // reads __dirname, which ESM lacks; define it once at the top of the bundle.
  const bundle = `dist/${entry}/index.js`;
  const code = readFileSync(bundle, 'utf8');
  const hashbang = code.startsWith('#!') ? code.slice(0, code.indexOf('\n') + 1) : '';
  writeFileSync(
    bundle,
    hashbang +
      "import { fileURLToPath as __cookFileURLToPath } from 'node:url';\n" +
      "const __dirname = __cookFileURLToPath(new URL('.', import.meta.url));\n" +
      code.slice(hashbang.length),
  );
}
