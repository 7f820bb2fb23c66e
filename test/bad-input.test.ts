/**
 * Bad input as a user types it: every case exits with 2 (or 1 where a server is unreachable),
 * prints exactly one line `Error: ...` on stderr that names what is wrong and how to fix it, no
 * stack trace, no secret, and nothing on stdout. Every case runs with Temporal and S3 pointed at
 * a closed port, so each argument is shown to be checked before anything connects: a check made
 * after connecting would answer "cannot reach Temporal" (exit 1) instead.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { decodeSafetensors, encodeSafetensors } from '../src/checkpoint/safetensors';
import { CLI, runCli } from './helpers';

/** Temporal and S3 at a port where nothing listens: a command that connects fails with exit 1. */
const OFFLINE: Record<string, string> = { 'temporal.address': '127.0.0.1:1', 's3.endpoint': 'http://127.0.0.1:1' };

/** The offline servers as `--conf` flags, after the case's arguments, but for a key the case sets itself. */
function offline(args: string[]): string[] {
  return Object.entries(OFFLINE)
    .filter(([key]) => !args.some((a) => a.startsWith(`${key}=`)))
    .flatMap(([key, value]) => ['--conf', `${key}=${value}`]);
}
const SECRET = 'hunter2-s3cr3t-value-0123456789';

const dir = mkdtempSync(path.join(os.tmpdir(), 'repro-bad-input-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string): string => path.join(dir, name);

interface Case {
  /** What a user did. */
  name: string;
  args: string[];
  /** What the one line must say: the mistake and the fix. */
  says: RegExp;
  /** Exit status: 2 (a usage mistake) unless given. */
  status?: number;
  /** Must appear nowhere in the output. */
  secret?: string;
}

/** `hessian` on the 12-6-4 MLP (106 parameters) with the given weights and data. */
const hessian = (weights: string, data: string, ...rest: string[]): string[] => [
  'hessian',
  '--model',
  'mlp:12-6-4',
  '--weights',
  weights,
  '--data',
  data,
  ...rest,
];
const longId = 'a'.repeat(129);

const CASES: Case[] = [
  // Checked before connecting (they used to be checked only after): schedule create/backfill, list --limit.
  {
    name: 'schedule create without an experiment',
    args: ['schedule', 'create', '--every', '1d'],
    says: /schedule create needs an experiment: repro schedule create fig7 --every 1d/,
  },
  {
    name: 'schedule create with neither --cron nor --every',
    args: ['schedule', 'create', 'fig7'],
    says: /exactly one of --cron EXPR and --every DURATION/,
  },
  {
    name: 'schedule create with both --cron and --every',
    args: ['schedule', 'create', 'fig7', '--cron', '0 3 * * *', '--every', '1d'],
    says: /exactly one of --cron EXPR and --every DURATION/,
  },
  {
    name: 'schedule create --every 0s',
    args: ['schedule', 'create', 'fig7', '--every', '0s'],
    says: /--every 0s: give a duration of at least 1s such as 30m, 6h or 1d/,
  },
  {
    name: 'schedule create --every often',
    args: ['schedule', 'create', 'fig7', '--every', 'often'],
    says: /--every often: give a duration/,
  },
  {
    name: 'schedule create --cron nightly',
    args: ['schedule', 'create', 'fig7', '--cron', 'nightly'],
    says: /--cron 'nightly': give five fields \(minute hour day-of-month month day-of-week\)/,
  },
  {
    name: 'schedule create --cron with minute 61',
    args: ['schedule', 'create', 'fig7', '--cron', '61 3 * * *'],
    says: /--cron '61 3 \* \* \*': minute '61' is not 0-59.*e\.g\. '0 3 \* \* \*'/,
  },
  {
    name: 'schedule create --cron with month 13',
    args: ['schedule', 'create', 'fig7', '--cron', '0 3 1 13 *'],
    says: /month '13' is not 1-12/,
  },
  {
    name: 'schedule create --cron with a step of 0',
    args: ['schedule', 'create', 'fig7', '--cron', '*/0 * * * *'],
    says: /minute '\*\/0' is not 0-59/,
  },
  {
    name: 'schedule create --seed -1',
    args: ['schedule', 'create', 'fig7', '--every', '1d', '--seed', '-1'],
    says: /--seed -1: must be a non-negative integer/,
  },
  {
    name: 'schedule create of an unknown experiment',
    args: ['schedule', 'create', 'fig99', '--every', '1d'],
    says: /unknown experiment 'fig99'; available: fig1, .*\(see `repro experiments`\)/,
  },
  {
    name: 'schedule create with an unknown parameter',
    args: ['schedule', 'create', 'fig7', '--every', '1d', '--set', 'eta=0.1'],
    says: /--set eta=0.1: fig7 has no parameter 'eta'; known: alpha, lr/,
  },
  {
    name: 'schedule create with an unknown preset',
    args: ['schedule', 'create', 'fig7', '--every', '1d', '--preset', 'constructor'],
    says: /unknown preset 'constructor' for fig7; available: default, small, paper, quick/,
  },
  {
    name: 'schedule create --id ..',
    args: ['schedule', 'create', 'fig7', '--every', '1d', '--id', '..'],
    says: /--id '..': a schedule id is 1 to 101 letters, digits, '.', '_' and '-'.* without '..'/,
  },
  {
    name: 'schedule create --set steps=1e15',
    args: ['schedule', 'create', 'fig7', '--every', '1d', '--set', 'steps=1e15'],
    says: /--set steps=1000000000000000: .* above 1000000000, .*add --allow-large/,
  },
  {
    name: 'schedule backfill --from yesterday',
    args: ['schedule', 'backfill', 'fig7-small', '--from', 'yesterday', '--to', '2026-11-27T00:00:00Z'],
    says: /--from yesterday: give a time such as 2026-11-27T00:00:00Z/,
  },
  {
    name: 'schedule backfill --from 1 (a number Date() would read as 2001)',
    args: ['schedule', 'backfill', 'fig7-small', '--from', '1', '--to', '2026-11-27T00:00:00Z'],
    says: /--from 1: give a time such as 2026-11-27T00:00:00Z/,
  },
  {
    name: 'schedule backfill without --to',
    args: ['schedule', 'backfill', 'fig7-small', '--from', '2026-11-27T00:00:00Z'],
    says: /--to : give a time such as/,
  },
  {
    name: 'schedule backfill --from after --to',
    args: ['schedule', 'backfill', 'fig7-small', '--from', '2026-11-28T00:00:00Z', '--to', '2026-11-27T00:00:00Z'],
    says: /--from 2026-11-28T00:00:00Z is not before --to 2026-11-27T00:00:00Z/,
  },
  {
    name: 'schedule describe without an id',
    args: ['schedule', 'describe'],
    says: /schedule describe needs a schedule id; `repro schedule list` shows them/,
  },
  {
    name: 'schedule pause of a path',
    args: ['schedule', 'pause', '../x'],
    says: /schedule id '..\/x': a schedule id is 1 to 101/,
  },
  {
    name: 'schedule list with an argument',
    args: ['schedule', 'list', 'fig7'],
    says: /schedule list takes no argument \('fig7'\)/,
  },
  {
    name: 'schedule pause with a create flag',
    args: ['schedule', 'pause', 'fig7-small', '--every', '1d'],
    says: /--every applies to schedule create, not to schedule pause/,
  },
  {
    name: 'schedule trigger with --set',
    args: ['schedule', 'trigger', 'fig7-small', '--set', 'lr=0.1'],
    says: /--set applies to schedule create, not to schedule trigger/,
  },
  { name: 'list --limit 0', args: ['list', '--limit', '0'], says: /--limit 0: must be a positive integer/ },
  { name: 'list --limit -5', args: ['list', '--limit', '-5'], says: /--limit -5: must be a positive integer/ },
  {
    name: 'list --limit many',
    args: ['list', '--limit', 'many'],
    says: /--limit \(not a number\): must be a positive integer/,
  },
  { name: 'list --limit 1.5', args: ['list', '--limit', '1.5'], says: /--limit 1.5: must be a positive integer/ },
  {
    name: 'list --experiment fig99',
    args: ['list', '--experiment', 'fig99'],
    says: /unknown experiment 'fig99'; available: fig1/,
  },
  {
    name: 'list --status sleeping',
    args: ['list', '--status', 'sleeping'],
    says: /Invalid values: Argument: status, Given: "sleeping", Choices: "running".*`repro list --help`/,
  },

  // Run ids: one safe alphabet, checked before connecting by every command that takes one.
  {
    name: 'run --id ..',
    args: ['run', 'fig7', '--id', '..'],
    says: /--id '..': a run id is 1 to 128 letters, digits, '.', '_' and '-'.* without '..' \(e.g. --id fig7-try2\)/,
  },
  { name: 'run --id a/b', args: ['run', 'fig7', '--id', 'a/b'], says: /--id 'a\/b': a run id is 1 to 128/ },
  { name: 'run --id empty', args: ['run', 'fig7', '--id', ''], says: /--id '': a run id is 1 to 128/ },
  { name: 'run --id -x', args: ['run', 'fig7', '--id=-x'], says: /--id '-x': a run id is 1 to 128/ },
  { name: 'run --id of 129 characters', args: ['run', 'fig7', '--id', longId], says: /--id 'a{60}…': a run id/ },
  {
    name: 'run --id with a newline',
    args: ['run', 'fig7', '--id', 'a\nb'],
    says: /--id "a\\nb": a run id is 1 to 128/,
  },
  {
    name: 'status ..',
    args: ['status', '..'],
    says: /run id '..' is not one: run ids are 1 to 128 .*; `repro list` shows the runs/,
  },
  { name: 'status run/..', args: ['status', 'run/..'], says: /run id 'run\/..' is not one/ },
  { name: 'cancel ../etc', args: ['cancel', '../etc'], says: /run id '..\/etc' is not one/ },
  { name: 'resume a b c (spaces)', args: ['resume', 'a b c'], says: /run id 'a b c' is not one/ },
  { name: 'results of an empty id', args: ['results', ''], says: /run id '' is not one/ },
  { name: 'report ../../x', args: ['report', '../../x'], says: /run id '..\/..\/x' is not one/ },
  { name: 'export .. DIR', args: ['export', '..', file('export-dotdot')], says: /run id '..' is not one/ },
  {
    name: 'export into a folder that exists',
    args: ['export', 'fig7-20261127T000000-abcdef', dir],
    says: /exists already; name a new folder/,
  },

  // Presets are looked up as own keys only.
  {
    name: 'run --preset constructor',
    args: ['run', 'fig7', '--preset', 'constructor'],
    says: /unknown preset 'constructor' for fig7; available: default, small, paper, quick/,
  },
  {
    name: 'run --preset __proto__',
    args: ['run', 'fig7', '--preset', '__proto__'],
    says: /unknown preset '__proto__' for fig7; available/,
  },
  {
    name: 'run --preset toString',
    args: ['run', 'fig1', '--preset', 'toString'],
    says: /unknown preset 'toString' for fig1; available: default, small, paper/,
  },
  { name: 'run --preset empty', args: ['run', 'fig7', '--preset', ''], says: /unknown preset '' for fig7/ },

  // Sizes where a typo would run for years, and sizes past the data.
  {
    name: 'run fig7 --set steps=1e15',
    args: ['run', 'fig7', '--set', 'steps=1e15'],
    says: /--set steps=1000000000000000: .* above 1000000000, the most steps of fig7 takes without --allow-large/,
  },
  {
    name: 'run noise-topk --set seeds=1e9',
    args: ['run', 'noise-topk', '--set', 'seeds=1e9'],
    says: /--set seeds=1000000000: .* above 1000, .*lower it, or add --allow-large to run it/,
  },
  {
    name: 'run fig1 --set seeds=1e9',
    args: ['run', 'fig1', '--set', 'seeds=1e9'],
    says: /seeds of fig1 .*--allow-large/,
  },
  {
    name: 'run fig2cd --set steps=1e12',
    args: ['run', 'fig2cd', '--set', 'steps=1e12'],
    says: /steps of fig2cd .*--allow-large/,
  },
  {
    name: 'run fig2a --set samples=600000 (MNIST has 60000)',
    args: ['run', 'fig2a', '--set', 'samples=600000'],
    says: /samples of fig2a must be <= 60000/,
  },
  {
    name: 'run fig1 --set samples=70000',
    args: ['run', 'fig1', '--set', 'samples=70000'],
    says: /--set samples=70000: mnist has 60000 training samples/,
  },
  {
    name: 'run fig7 --set steps=1e300',
    args: ['run', 'fig7', '--set', 'steps=1e300'],
    says: /steps of fig7 must be an integer/,
  },
  {
    name: 'run fig7 --set lr=Infinity',
    args: ['run', 'fig7', '--set', 'lr=Infinity'],
    says: /lr of fig7 must be a finite number \(e.g. --set lr=0.01\)/,
  },
  {
    name: 'run fig7 --set steps=0x10 (hexadecimal)',
    args: ['run', 'fig7', '--set', 'steps=0x10'],
    says: /--set steps=0x10: steps of fig7 must be a finite number \(e.g. --set steps=4000000\)/,
  },
  { name: 'run fig7 --set lr=NaN', args: ['run', 'fig7', '--set', 'lr=NaN'], says: /lr of fig7 must be a finite/ },
  { name: 'run fig7 --set lr=', args: ['run', 'fig7', '--set', 'lr='], says: /lr of fig7 must be a finite number/ },
  { name: 'run fig7 --set steps=-5', args: ['run', 'fig7', '--set', 'steps=-5'], says: /steps of fig7 must be >= 1/ },
  {
    name: 'run fig7 --set lr twice',
    args: ['run', 'fig7', '--set', 'lr=0.01', '--set', 'lr=0.02'],
    says: /--set lr is given twice; give each parameter once/,
  },
  { name: 'run fig7 --set =1', args: ['run', 'fig7', '--set', '=1'], says: /--set =1: expected key=value/ },
  { name: 'run fig7 --set (empty)', args: ['run', 'fig7', '--set', ''], says: /--set : expected key=value/ },
  { name: 'run of an empty experiment', args: ['run', ''], says: /unknown experiment ''; available: fig1/ },
  {
    name: 'run --seed many',
    args: ['run', 'fig7', '--seed', 'many'],
    says: /--seed \(not a number\): must be a non-negative integer/,
  },
  { name: 'run --seed 1.5', args: ['run', 'fig7', '--seed', '1.5'], says: /--seed 1.5: must be a non-negative/ },
  { name: 'run --seed 1e300', args: ['run', 'fig7', '--seed', '1e300'], says: /--seed 1e\+300: must be a non/ },
  {
    name: 'run --seed given twice',
    args: ['run', 'fig7', '--seed', '1', '--seed', '2'],
    says: /--seed is given 2 times; give it once/,
  },
  {
    name: 'run with an extra positional',
    args: ['run', 'fig7', 'fig2b'],
    says: /Unknown argument: fig2b; `repro run --help` lists the commands and options/,
  },
  {
    name: 'run without an experiment',
    args: ['run'],
    says: /missing argument: the usage is `repro run <experiment>`; `repro run --help` explains each/,
  },
  { name: 'run with an unknown flag', args: ['run', 'fig7', '--frobnicate'], says: /Unknown argument: frobnicate/ },
  { name: 'status without a run id', args: ['status'], says: /the usage is `repro status <run-id>`/ },
  { name: 'no command', args: [], says: /name a command; `repro --help` lists them/ },
  {
    name: 'a global option before the command',
    args: ['--conf', 'worker.concurrency=2', 'run', 'fig7', '--seed', '-1'],
    says: /--seed -1: must be a non-negative integer/,
  },
  { name: 'an unknown command', args: ['frobnicate'], says: /Unknown argument: frobnicate; `repro --help`/ },

  // repro hessian: its files, its flags against the model's size.
  {
    name: 'hessian --samples -5',
    args: hessian(file('w.safetensors'), 'mnist', '--samples', '-5'),
    says: /--samples -5: must be a positive integer/,
  },
  {
    name: 'hessian --samples beyond the data',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--samples', '41'),
    says: /--samples 41: .*d.safetensors has 40 samples; ask for at most that/,
  },
  {
    name: 'hessian --probes above the parameter count (trace NaN before)',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--probes', '500'),
    says: /--probes 500: mlp:12-6-4 has only 106 parameters; --exact gives the exact trace with 106 products/,
  },
  {
    name: 'hessian --probes 2',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--probes', '2'),
    says: /--probes 2: must be an integer of at least 4/,
  },
  {
    name: 'hessian --top 0',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--top', '0'),
    says: /--top 0: must be an integer from 1 to 106/,
  },
  {
    name: 'hessian --top above the parameter count',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--top', '1000'),
    says: /--top 1000: must be an integer from 1 to 106/,
  },
  {
    name: 'hessian --exact on a model over 10000 parameters',
    args: ['hessian', '--model', 'mlp:784-100-10', '--weights', 'w', '--data', 'mnist', '--exact'],
    says: /--exact forms the 79510×79510 Hessian of mlp:784-100-10 .*drop --exact .*or add --allow-large/,
  },
  {
    name: 'hessian with truncated weights',
    args: hessian(file('w-truncated.safetensors'), file('d.safetensors')),
    says: /w-truncated.safetensors: tensor '.*' ends at byte \d+ but the file has \d+: truncated; write or download/,
  },
  {
    name: 'hessian with garbage weights',
    args: hessian(file('w-garbage.safetensors'), file('d.safetensors')),
    says: /w-garbage.safetensors: its header length says \d+ bytes but the file has 300: truncated, or not a/,
  },
  {
    name: 'hessian with weights whose header is a JSON array',
    args: hessian(file('w-array.safetensors'), file('d.safetensors')),
    says: /w-array.safetensors: not a safetensors file, or a damaged one \(its header is not a JSON object\)/,
  },
  {
    name: 'hessian with a header entry that is not a tensor',
    args: hessian(file('w-entry.safetensors'), file('d.safetensors')),
    says: /w-entry.safetensors: tensor 'fc1.weight' has dtype undefined; supported: F64, F32, I32, I64, U8/,
  },
  {
    name: 'hessian with NaN weights (tqli: no convergence before)',
    args: hessian(file('w-nan.safetensors'), file('d.safetensors'), '--exact'),
    says: /w-nan.safetensors: tensor '.*' holds NaN at index 3; weights must be finite numbers/,
  },
  {
    name: 'hessian with NaN inputs',
    args: hessian(file('w.safetensors'), file('d-nan.safetensors'), '--exact'),
    says: /d-nan.safetensors: tensor 'x' holds NaN at index 5; the inputs must be finite numbers/,
  },
  {
    name: 'hessian with weights that do not exist',
    args: hessian(file('missing.safetensors'), file('d.safetensors')),
    says: /cannot read .*missing.safetensors; check the path/,
  },
  {
    name: 'hessian --data of an unknown kind',
    args: hessian(file('w.safetensors'), 'imagenet'),
    says: /--data imagenet: not a .safetensors file nor one of mnist, mnist-test, cifar10, cifar100/,
  },
  {
    name: 'hessian --data constructor',
    args: hessian(file('w.safetensors'), 'constructor'),
    says: /--data constructor: not a .safetensors file nor one of mnist/,
  },
  {
    name: 'hessian --classes 0',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--classes', '0'),
    says: /--classes 0: must be an integer of at least 2/,
  },
  {
    name: 'hessian --seed -1',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--seed', '-1'),
    says: /--seed -1: must be a non-negative integer/,
  },
  {
    name: 'hessian --smoothing 1',
    args: hessian(file('w.safetensors'), file('d.safetensors'), '--smoothing', '1'),
    says: /--smoothing 1: must be in \[0, 1\)/,
  },
  {
    name: 'hessian --model resnet99',
    args: hessian(file('w.safetensors'), file('d.safetensors')).map((a) => (a === 'mlp:12-6-4' ? 'resnet99' : a)),
    says: /--model resnet99: unknown model 'resnet99'; available/,
  },
  { name: 'hessian without --model', args: ['hessian'], says: /--model is required; `repro hessian --help`/ },
  {
    name: 'hessian --save-weights into a folder that does not exist',
    args: ['hessian', '--model', 'mlp:12-6-4', '--save-weights', file('no/such/folder/w.safetensors')],
    says: /cannot write .*no\/such\/folder\/w.safetensors \(ENOENT\); check that its folder exists/,
  },

  // Configuration: files, keys and values; a secret is never echoed.
  {
    name: '--conf with a mistyped secret key',
    args: ['list', '--conf', `s3.secretAccesKey=${SECRET}`],
    says: /unknown config key 's3.secretAccesKey' \(from flag --conf s3.secretAccesKey\); did you mean 's3.secretAcc/,
    secret: SECRET,
  },
  {
    name: '--conf with a secret in key:value form',
    args: ['list', '--conf', `s3.secretAccessKey:${SECRET}`],
    says: /--conf takes key=value, not a value; e.g. --conf temporal.address=127.0.0.1:7233/,
    secret: SECRET,
  },
  {
    name: '--conf codec.key of the wrong length',
    args: ['list', '--conf', `codec.key=${SECRET}`],
    says: /config key 'codec.key' must be 32 bytes in base64 \(its value is not shown\); make one with: openssl/,
    secret: SECRET,
  },
  {
    name: 'a config file with a secret of the wrong type',
    args: ['list', '--config', file('secret-number.json')],
    says: /config key 's3.secretAccessKey' must be a string, got a value not shown \(it may be a secret\)/,
    secret: '8675309123',
  },
  {
    name: 'a config file that is not JSON, around a secret',
    args: ['list', '--config', file('not-json.json')],
    says: /config file .*not-json.json is not valid JSON \(.*\); fix it there/,
    secret: SECRET,
  },
  {
    name: 'a config file cut short',
    args: ['list', '--config', file('cut.json')],
    says: /config file .*cut.json is not valid JSON \(.*at line 3, column \d+\); fix it there/,
  },
  {
    name: 'a config file that does not exist',
    args: ['list', '--config', file('missing.json')],
    says: /config file .*missing.json does not exist; check the path given by --config/,
  },
  {
    name: 'a config file that is a folder',
    args: ['list', '--config', dir],
    says: /config file .* is a folder; check the path given by --config/,
  },
  { name: '--config empty', args: ['list', '--config', ''], says: /--config is empty: give the path of a JSON/ },
  {
    name: 'a config file holding an array',
    args: ['list', '--config', file('array.json')],
    says: /config file .*array.json: expected a JSON object/,
  },
  {
    name: 'a config file with a wrong type',
    args: ['list', '--config', file('wrong-type.json')],
    says: /config key 'worker.concurrency' must be an integer, got "lots" \(from config file .*wrong-type.json\)/,
  },
  {
    name: 'a config file with a section given a string',
    args: ['list', '--config', file('section.json')],
    says: /unknown config key 'temporal' .*; 'temporal' is a section: give it an object of address, namespace/,
  },
  {
    name: '--conf temporal.address without a port',
    args: ['list', '--conf', 'temporal.address=localhost'],
    says: /config key 'temporal.address' must be host:port, e.g. 127.0.0.1:7233.* got "localhost"/,
  },
  {
    name: '--conf temporal.address with a port past 65535',
    args: ['worker', '--conf', 'temporal.address=127.0.0.1:99999'],
    says: /config key 'temporal.address' must be host:port/,
  },
  {
    name: '--conf worker.concurrency=0',
    args: ['list', '--conf', 'worker.concurrency=0'],
    says: /config key 'worker.concurrency' must be an integer >= 1, got "0" \(from flag --conf worker.concurrency\)/,
  },
  { name: '--backend foo', args: ['list', '--backend', 'foo'], says: /config key 'backend' must be one of auto\|/ },

  // The worker: its flags, and an unreachable server in one line (exit 1: not the caller's mistake).
  {
    name: 'worker --concurrency 0',
    args: ['worker', '--concurrency', '0'],
    says: /--concurrency 0: must be an integer from 1 to 1024/,
  },
  {
    name: 'worker --gpu-slots many',
    args: ['worker', '--gpu-slots', 'many'],
    says: /--gpu-slots \(not a number\): must be an integer from 1 to 64/,
  },
  { name: 'worker --queue tpu', args: ['worker', '--queue', 'tpu'], says: /Invalid values: Argument: queue/ },
  {
    name: 'worker with Temporal unreachable (a raw tonic error before)',
    args: ['worker'],
    says: /^Error: cannot reach Temporal at 127.0.0.1:1 \(Connection refused\); start the embedded stack/,
    status: 1,
  },

  // Other commands.
  { name: 'gc --older-than 7x', args: ['gc', '--older-than', '7x'], says: /--older-than 7x: give a duration such/ },
  { name: 'gc --older-than -1d', args: ['gc', '--older-than=-1d'], says: /--older-than -1d: give a duration/ },
  {
    name: 'reproduce --seed -1',
    // A remote address: were the seed not checked first, `reproduce` would refuse to start servers for it.
    args: ['reproduce', '--seed', '-1', '--conf', 'temporal.address=temporal.example.com:7233'],
    says: /--seed -1: must be a non-negative integer/,
  },
  {
    name: 'data import of a variant that does not exist',
    args: ['data', 'import', 'cifar99', file('x.tar.gz')],
    says: /data import cifar99: use cifar10 or cifar100/,
  },
  {
    name: 'data import of an archive that does not exist',
    args: ['data', 'import', 'cifar10', file('missing.tar.gz')],
    says: /missing.tar.gz: no such file; give the path of cifar-10-binary.tar.gz/,
  },
  {
    name: 'data import of a folder',
    args: ['data', 'import', 'cifar10', dir],
    says: /: a folder, not a file; give the path of cifar-10-binary.tar.gz/,
  },
  {
    name: 'data import --md5 zz',
    args: ['data', 'import', 'cifar10', file('x.tar.gz'), '--md5', 'zz'],
    says: /--md5 zz: an MD5 is 32 hexadecimal digits/,
  },
];

before(() => {
  const w = runCli(['hessian', '--model', 'mlp:12-6-4', '--init-seed', '0', '--save-weights', file('w.safetensors')]);
  assert.equal(w.status, 0, w.stderr);
  const bytes = readFileSync(file('w.safetensors'));
  writeFileSync(file('w-truncated.safetensors'), bytes.subarray(0, bytes.length - 100));
  writeFileSync(file('w-garbage.safetensors'), Buffer.alloc(300, 0xab));
  const withHeader = (header: string): Buffer => {
    const h = Buffer.from(header);
    const len = Buffer.alloc(8);
    len.writeBigUInt64LE(BigInt(h.length));
    return Buffer.concat([len, h, Buffer.alloc(16)]);
  };
  writeFileSync(file('w-array.safetensors'), withHeader('[1, 2]'));
  writeFileSync(file('w-entry.safetensors'), withHeader('{"fc1.weight": 1}'));
  const { tensors } = decodeSafetensors(new Uint8Array(bytes), 'w');
  const first = Object.keys(tensors).sort()[0]!;
  const nan = Float32Array.from(tensors[first]!.data);
  nan[3] = NaN;
  writeFileSync(
    file('w-nan.safetensors'),
    encodeSafetensors({ ...tensors, [first]: { ...tensors[first]!, data: nan } }),
  );
  const data = (x: Float32Array): Uint8Array =>
    encodeSafetensors({
      x: { dtype: 'F32', shape: [40, 12], data: x },
      y: { dtype: 'I32', shape: [40], data: Int32Array.from({ length: 40 }, (_, i) => i % 4) },
    });
  const x = Float32Array.from({ length: 40 * 12 }, (_, i) => Math.sin(i));
  writeFileSync(file('d.safetensors'), data(x));
  x[5] = NaN;
  writeFileSync(file('d-nan.safetensors'), data(x));
  writeFileSync(file('secret-number.json'), JSON.stringify({ s3: { secretAccessKey: 8675309123 } }));
  writeFileSync(file('not-json.json'), `{"s3": {"secretAccessKey": ${SECRET}}}`);
  writeFileSync(file('cut.json'), '{\n  "s3": {\n    "bucket": "repro"');
  writeFileSync(file('array.json'), '[]');
  writeFileSync(file('wrong-type.json'), JSON.stringify({ worker: { concurrency: 'lots' } }));
  writeFileSync(file('section.json'), JSON.stringify({ temporal: '127.0.0.1:7233' }));
});

for (const c of CASES) {
  test(`bad input: ${c.name}`, () => {
    const r = runCli([...c.args, ...offline(c.args)]);
    const status = c.status ?? 2;
    assert.equal(r.status, status, `exit status ${r.status}, not ${status}; stderr: ${r.stderr}`);
    assert.equal(r.stdout, '', 'nothing on stdout');
    const lines = r.stderr.split('\n').filter((l) => l !== '');
    assert.equal(lines.length, 1, `exactly one line on stderr: ${r.stderr}`);
    assert.match(lines[0]!, /^Error: \S/);
    assert.doesNotMatch(r.stderr, /\n\s+at \S+ \(|node:internal|TypeError|RangeError/, 'no stack trace');
    assert.match(lines[0]!, c.says);
    if (c.secret) assert.ok(!r.stderr.includes(c.secret), 'the secret is not echoed');
  });
}

test('a reader that closes the pipe early (`repro experiments | head -1`) ends the command quietly', async () => {
  for (const args of [['experiments'], ['experiments', '--json'], ['--help']]) {
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    // The reading end closes before the command writes: every write it makes meets a closed pipe.
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const status = await new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    assert.equal(stderr, '', `nothing on stderr for ${args.join(' ')}: ${stderr}`);
    assert.equal(status, 0, `${args.join(' ')} exits 0`);
  }
});
