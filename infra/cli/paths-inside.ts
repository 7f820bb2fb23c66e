import * as path from 'path';

/** A file that `report` or `export` was about to write outside its folder: nothing is written. */
export class OutsideFolderError extends Error {
  override name = 'OutsideFolderError';
}

/**
 * The path of `rel` inside `folder`, or an {@link OutsideFolderError} naming `source` (the S3 key
 * or run id it came from) when it would resolve outside: a `..` component (legal in an AWS S3
 * key), an absolute path, or the folder itself.
 */
export function pathInside(folder: string, rel: string, source: string): string {
  const root = path.resolve(folder);
  const file = path.resolve(root, rel);
  const up = path.relative(root, file);
  if (rel.includes('\0') || up === '' || up === '..' || up.startsWith(`..${path.sep}`) || path.isAbsolute(up))
    throw new OutsideFolderError(
      `refusing to write ${JSON.stringify(rel)} (from ${source}): it resolves outside ${root}; nothing was written`,
    );
  return file;
}
