/*
 * A README's YAML block merged into a file the way a person would: a new file is the block as written
 * (comments included); in an existing file each value of the block is set at its path, keeping the
 * file's other keys and comments. Lists are values: the block's list replaces the file's.
 */
import { isMap, parseDocument } from 'yaml';

function leaves(
  value: unknown,
  path: string[] = [],
): { path: string[]; value: unknown }[] {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    return Object.entries(value).flatMap(([key, child]) =>
      leaves(child, [...path, key]),
    );
  }
  return [{ path, value }];
}

export function mergeYaml(target: string | undefined, block: string): string {
  if (target === undefined || target.trim() === '') {
    return block;
  }
  const doc = parseDocument(target);
  if (doc.errors.length > 0) {
    throw new Error(`the file is not valid YAML: ${doc.errors[0].message}`);
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new Error('the file is not a YAML mapping');
  }
  const snippet = parseDocument(block);
  if (snippet.errors.length > 0) {
    throw new Error(
      `the block is not valid YAML: ${snippet.errors[0].message}`,
    );
  }
  for (const leaf of leaves(snippet.toJS())) {
    doc.setIn(leaf.path, leaf.value);
  }
  return doc.toString({ flowCollectionPadding: false });
}
