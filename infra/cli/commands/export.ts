import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'fs';
import * as path from 'path';
import type { Argv, CommandModule } from 'yargs';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { checkRunId, runIdOfWorkflow } from '../../../src/runs/ids';
import { layout } from '../../../src/storage/layout';
import { checkS3, connectTemporal, makeObjectStore } from '../../clients';
import { findRun } from '../runs';
import { pathInside } from '../paths-inside';
import { configFrom, print, printJson, UsageError, type GlobalArgs } from '../context';

interface ExportArgs extends GlobalArgs {
  runId: string;
  dir: string;
}

/**
 * `repro export <run-id> DIR`: everything a run left, in one folder that reads without the
 * servers: result.json, the report and every artifact, and the workflow histories of the run
 * and its children (replayable with the Temporal SDK). Written to DIR.partial, then renamed, so
 * DIR is complete or absent.
 */
export const exportCommand: CommandModule<GlobalArgs, ExportArgs> = {
  command: 'export <run-id> <dir>',
  describe: "Copy a run's result, report, artifacts and workflow histories into a folder",
  builder: (y) =>
    y.positional('run-id', { type: 'string', demandOption: true }).positional('dir', {
      type: 'string',
      demandOption: true,
      describe: 'a folder that does not exist yet',
    }) as unknown as Argv<ExportArgs>,
  handler: async (argv) => {
    checkRunId(argv.runId);
    const out = path.resolve(argv.dir);
    if (existsSync(out)) throw new UsageError(`${argv.dir} exists already; name a new folder`);
    const config = configFrom(argv);
    const { client, connection } = await connectTemporal(config);
    const partial = `${out}.partial`;
    try {
      await checkS3(config);
      const { handle, status } = await findRun(client, argv.runId);
      const runId = runIdOfWorkflow(handle.workflowId);
      if (status === 'RUNNING') {
        throw new UsageError(`run ${runId} is still running; export it when it has ended (\`repro status ${runId}\`)`);
      }
      const store = makeObjectStore(config);
      rmSync(partial, { recursive: true, force: true });
      const files: string[] = [];
      const write = (rel: string, body: Uint8Array | string, source: string): void => {
        const file = pathInside(partial, rel, source);
        mkdirSync(path.dirname(file), { recursive: true });
        writeFileSync(file, body);
        files.push(rel);
      };
      for (const key of await store.list(layout.run(runId))) {
        const rel = key.slice(layout.run(runId).length);
        if (rel === 'result.json' || rel.startsWith('artifacts/')) write(rel, await store.get(key), key);
      }
      // The run and every child workflow (`run/<id>/...`): found by id prefix in visibility.
      const ids = [handle.workflowId];
      const children = client.workflow.list({ query: `WorkflowId STARTS_WITH "${handle.workflowId}/"` });
      for await (const w of children) ids.push(w.workflowId);
      for (const id of ids) {
        const history = await client.workflow.getHandle(id).fetchHistory();
        write(path.join('histories', `${encodeURIComponent(id)}.json`), historyToJSON(history), `workflow ${id}`);
      }
      renameSync(partial, out);
      if (argv.json) printJson({ runId, dir: out, files });
      else print(`exported ${runId}: ${files.length} files (${ids.length} workflow histories) to ${out}`);
    } catch (err) {
      rmSync(partial, { recursive: true, force: true });
      throw err;
    } finally {
      await connection.close();
    }
  },
};
