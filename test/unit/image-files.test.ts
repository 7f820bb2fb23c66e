/**
 * The image build's files agree with each other (read, not built: test/image.test.ts builds the
 * CPU image, opt-in): Docker reads .dockerignore, buildah and podman .containerignore, so the two
 * are one list; the GPU image, which copies only node into a CUDA base, links every npm tool its
 * build runs; both images and the local stand-in base run one Node.js major; each image's runtime
 * stage copies what its build stage made and installs nothing.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const read = (file: string): string => readFileSync(path.join(ROOT, file), 'utf8');

test('.dockerignore and .containerignore are the same list', () => {
  assert.equal(read('.dockerignore'), read('.containerignore'));
  for (const ignored of ['node_modules', 'dist', '.data', '.tools'])
    assert.ok(read('.dockerignore').split('\n').includes(ignored), ignored);
});

test('the GPU image links each npm tool its build runs (it copies node alone from the node image)', () => {
  const gpu = read('infra/image/Containerfile.gpu');
  assert.match(gpu, /^COPY --from=node \/usr\/local\/bin\/node /m);
  const commands = gpu
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((l) => l.startsWith('RUN '));
  for (const tool of ['npm', 'npx']) {
    const runs = commands.some((c) => new RegExp(`(?:^RUN|&&)\\s+${tool}\\s`).test(c));
    const linked = new RegExp(`ln -sf? \\S*/npm/bin/${tool}-cli\\.js /usr/local/bin/${tool}(?:\\s|$)`).test(gpu);
    if (runs) assert.ok(linked, `Containerfile.gpu runs ${tool} but does not link it into /usr/local/bin`);
  }
});

test('both images and build-local.sh name one Node.js major', () => {
  const major = (file: string): string => {
    const m = /^ARG NODE_IMAGE=\S+\/node:(\d+)-/m.exec(read(file));
    assert.ok(m, `${file}: ARG NODE_IMAGE=.../node:<major>-...`);
    return m[1]!;
  };
  const cpu = major('infra/image/Containerfile');
  assert.equal(major('infra/image/Containerfile.gpu'), cpu);
  // The stand-in base's Node.js: the registry's official build, of that major, its integrity pinned.
  const local = read('infra/image/build-local.sh');
  assert.match(local, new RegExp(`^node_version=${cpu}\\.\\d+\\.\\d+$`, 'm'));
  assert.match(local, /^node_integrity=sha512-\S{86}==$/m);
});

test('build-local.sh stands in every base image the Containerfiles name (their ARGs)', () => {
  const local = read('infra/image/build-local.sh');
  for (const file of ['infra/image/Containerfile', 'infra/image/Containerfile.gpu'])
    for (const [, arg] of read(file).matchAll(/^ARG (\w+_IMAGE)=/gm))
      assert.match(local, new RegExp(`--build-arg ${arg}=`), `${file}'s ${arg} is not stood in by build-local.sh`);
});

test("each image's runtime stage installs and builds nothing: it copies the build stage's products", () => {
  for (const file of ['infra/image/Containerfile', 'infra/image/Containerfile.gpu']) {
    const text = read(file).replace(/\\\n/g, ' ');
    const stages = text.split(/^FROM /m);
    const build = stages.find((s) => /^\S+ AS build$/m.test(s.split('\n')[0]!));
    assert.ok(build, `${file}: a stage named build`);
    assert.match(build, /npm prune --omit=dev/, `${file}: the build stage prunes the dev dependencies`);
    assert.match(build, /slim-node-modules\.sh/, `${file}: and slims node_modules`);
    assert.match(build, /rm -rf dist\/test\b/, `${file}: the compiled tests stay out of dist/`);
    const runtime = stages.at(-1)!;
    for (const line of runtime.split('\n').filter((l) => l.startsWith('RUN ')))
      assert.doesNotMatch(line, /apt-get|\bnpm\b|\bnpx\b|g\+\+|\btsc\b/, `${file}: the runtime stage runs ${line}`);
    assert.doesNotMatch(runtime, /^COPY (?!--from=)/m, `${file}: the runtime stage copies from the build context`);
    const copied = [...runtime.matchAll(/^COPY --from=build (\S+)/gm)].map((m) => m[1]);
    for (const from of copied)
      assert.ok(
        ['/app/package.json', '/app/node_modules', '/app/dist', '/app/.tools/torch', '/runtime/'].includes(from!),
        `${file}: the runtime stage copies ${from}`,
      );
    assert.ok(copied.includes('/app/node_modules') && copied.includes('/app/.tools/torch'), file);
  }
});
