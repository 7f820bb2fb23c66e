import { defineSearchAttributeKey, SearchAttributeType, type SearchAttributePair } from '@temporalio/common';
import type { RunInput } from './run-input';

/**
 * The custom search attributes of a run (one owner for their names): the Web UI and `repro list`
 * find runs by them. `repro up` registers them on the dev server; a production cluster needs
 * `temporal operator search-attribute create` once (README, `registerCommand`).
 */
export const SA = {
  experiment: defineSearchAttributeKey('ReproExperiment', SearchAttributeType.KEYWORD),
  preset: defineSearchAttributeKey('ReproPreset', SearchAttributeType.KEYWORD),
  seed: defineSearchAttributeKey('ReproSeed', SearchAttributeType.INT),
  stage: defineSearchAttributeKey('ReproStage', SearchAttributeType.KEYWORD),
  codeVersion: defineSearchAttributeKey('ReproCodeVersion', SearchAttributeType.KEYWORD),
  backend: defineSearchAttributeKey('ReproBackend', SearchAttributeType.KEYWORD),
  verdict: defineSearchAttributeKey('ReproVerdict', SearchAttributeType.KEYWORD),
} as const;

/** Each attribute's name and its type as the Temporal CLI spells it. */
export const SEARCH_ATTRIBUTE_TYPES: ReadonlyArray<[string, 'Keyword' | 'Int']> = Object.values(SA).map((k) => [
  k.name,
  k.type === SearchAttributeType.INT ? 'Int' : 'Keyword',
]);

/** The command that registers them on a cluster's namespace. */
export function registerCommand(namespace: string): string {
  return (
    `temporal operator search-attribute create --namespace ${namespace} ` +
    SEARCH_ATTRIBUTE_TYPES.map(([name, type]) => `--name ${name} --type ${type}`).join(' ')
  );
}

/** What a run carries from its start: the attributes known before any worker runs it. */
export function startAttributes(input: RunInput, codeVersion: string): SearchAttributePair[] {
  return [
    { key: SA.experiment, value: input.experiment },
    { key: SA.preset, value: input.preset },
    { key: SA.seed, value: input.seed },
    { key: SA.stage, value: 'queued' },
    { key: SA.codeVersion, value: codeVersion },
  ];
}

/** A run's one-line summary and its details (Temporal markdown) for the Web UI. */
export function runSummary(
  input: RunInput,
  where: { bucket: string; prefix: string },
): { staticSummary: string; staticDetails: string } {
  const params = Object.entries(input.params)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(', ');
  return {
    staticSummary:
      `${input.experiment} · preset ${input.preset} · ` + `seed ${input.seed}${input.noCache ? ' · no cache' : ''}`,
    staticDetails: [
      `**${input.experiment}**, preset \`${input.preset}\`, seed ${input.seed}`,
      `parameters: ${params}`,
      `report: \`s3://${where.bucket}/${where.prefix}runs/${input.runId || '<run-id>'}/artifacts/report.html\` ` +
        `(\`repro report ${input.runId || '<run-id>'}\`)`,
    ].join('\n\n'),
  };
}
