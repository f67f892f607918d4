#!/usr/bin/env node
// The action's version, and the agent image it names by default (the image the release workflow
// publishes for that version), in every place that says them.
//
//   node scripts/version.mjs set 1.2.0 [--owner prodigy]   writes them all
//   node scripts/version.mjs check v1.2.0 [--owner prodigy] fails unless all say so (release.yml)
//   node scripts/version.mjs image                         prints the default image
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
/** Every file that names the default image. */
export const FILES = [
  'action.yml',
  'plan/action.yml',
  'reduce/action.yml',
  'src/config/names.ts',
  'README.md',
  '.github/workflows/example.yml',
  '.github/workflows/mapreduce.yml',
];
const IMAGE = /ghcr\.io\/[a-z0-9][a-z0-9-]*\/cook-agent:[0-9A-Za-z.+-]+/g;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?$/;

function fail(message) {
  console.error(`version: ${message}`);
  process.exit(1);
}

function imageFor(owner, version) {
  return `ghcr.io/${owner.toLowerCase()}/cook-agent:${version}`;
}

function read(file) {
  return readFileSync(path.join(root, file), 'utf8');
}

function main() {
  const [command, value, ...rest] = process.argv.slice(2);
  const ownerAt = rest.indexOf('--owner');
  const owner = ownerAt >= 0 ? rest[ownerAt + 1] : 'prodigy';
  if (!owner || !/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(owner))
    fail(`--owner ${owner}: not an owner name`);
  const pkg = JSON.parse(read('package.json'));

  if (command === 'image') {
    console.log(imageFor(owner, pkg.version));
  } else if (command === 'set') {
    if (!value || !VERSION.test(value)) fail(`set ${value}: give a version such as 1.2.0`);
    const image = imageFor(owner, value);
    for (const file of ['package.json', 'package-lock.json']) {
      const json = JSON.parse(read(file));
      json.version = value;
      if (json.packages?.['']) json.packages[''].version = value;
      writeFileSync(path.join(root, file), `${JSON.stringify(json, null, 2)}\n`);
    }
    for (const file of FILES) {
      const text = read(file);
      if (!text.match(IMAGE)) fail(`${file} names no agent image to set`);
      writeFileSync(path.join(root, file), text.replace(IMAGE, image));
    }
    console.log(image);
  } else if (command === 'check') {
    const version = (value ?? '').replace(/^v/, '');
    if (!VERSION.test(version)) fail(`check ${value}: not a version tag such as v1.2.0`);
    if (pkg.version !== version) fail(`package.json says ${pkg.version}, the tag ${value}`);
    const image = imageFor(owner, version);
    const wrong = FILES.flatMap((file) => {
      const found = read(file).match(IMAGE) ?? [];
      if (found.length === 0) return [`${file} names no agent image`];
      return found.filter((name) => name !== image).map((name) => `${file} names ${name}`);
    });
    if (wrong.length > 0)
      fail(
        `not all name ${image}: ${wrong.join('; ')}; run 'node scripts/version.mjs set ${version} --owner ${owner}'`,
      );
    console.log(`version ${version}, image ${image}: everywhere`);
  } else {
    fail("use 'set VERSION', 'check TAG' or 'image', with --owner OWNER (default prodigy)");
  }
}

if (import.meta.url === `file://${process.argv[1]}`) main();
