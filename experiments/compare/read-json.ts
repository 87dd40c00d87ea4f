// Reading a JSON input file with one clear error (file:line:col) when it is
// missing or malformed.
import { readFileSync } from 'node:fs';
import { InputError } from '../../util/errors.js';

export function readJsonFile(path: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, path);
  }
  try {
    return JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const m = /position (\d+)/.exec(msg);
    if (m) {
      const pos = Number(m[1]);
      const before = text.slice(0, pos);
      const line = before.split('\n').length;
      const col = pos - before.lastIndexOf('\n');
      throw new InputError(`not valid JSON: ${msg.replace(/ in JSON at position \d+.*$/, '')}`, `${path}:${line}:${col}`);
    }
    throw new InputError(`not valid JSON: ${msg}`, path);
  }
}
