// Reads a spec file (YAML, or JSON which YAML also reads) and keeps the parsed
// document so that any field path can be turned back into file:line:column for
// error messages.
import { readFileSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { LineCounter, parseDocument, isNode, type Document } from 'yaml';
import { InputError } from '../../util/errors.js';

export type FieldPath = (string | number)[];

export interface SpecSource {
  /** Absolute path of the spec file ('' for a spec given as an object). */
  path: string;
  /** Folder relative paths in the spec are resolved against. */
  baseDir: string;
  raw: unknown;
  /** file:line:col of the field (or of its nearest parent that exists in the file); null for a spec given as an object. */
  locate(field: FieldPath): string | null;
  /** What to call the spec in messages: its path, or "spec". */
  name: string;
}

/** One clear error about a spec field: file:line:col: field "a.b[0]": message. */
export function specError(src: SpecSource, field: FieldPath, message: string): InputError {
  return new InputError(`field "${formatFieldPath(field)}": ${message}`, src.locate(field) ?? src.name);
}

export function formatFieldPath(field: FieldPath): string {
  return field.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') || '(top level)';
}

export function readSpecFile(path: string): SpecSource {
  const abs = resolve(path);
  let text: string;
  try {
    if (!statSync(abs).isFile()) throw new InputError('not a regular file', path);
    text = readFileSync(abs, 'utf8');
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError('no such file', path);
  }
  return specFromText(text, abs);
}

export function specFromText(text: string, absPath: string): SpecSource {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const e = doc.errors[0];
    const pos = e.linePos?.[0];
    const msg = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw new InputError(`invalid YAML: ${msg}`, pos ? `${absPath}:${pos.line}:${pos.col}` : absPath);
  }
  const raw = doc.toJS({ maxAliasCount: 1000 }) as unknown;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError('a spec is a mapping of fields (name, durationMs, workloads, policies, ...)', absPath);
  return { path: absPath, baseDir: dirname(absPath), raw, name: absPath, locate: (field) => locateIn(doc, lc, absPath, field) };
}

/** A spec given as an object (tests, programmatic use): fields are located by path only. */
export function specFromObject(raw: unknown, baseDir: string, name = 'spec'): SpecSource {
  return { path: '', baseDir, raw, name, locate: () => null };
}

function locateIn(doc: Document, lc: LineCounter, file: string, field: FieldPath): string {
  for (let n = field.length; n >= 0; n--) {
    const node = n === 0 ? doc.contents : doc.getIn(field.slice(0, n), true);
    if (isNode(node) && node.range) {
      const p = lc.linePos(node.range[0]);
      return `${file}:${p.line}:${p.col}`;
    }
  }
  return file;
}
