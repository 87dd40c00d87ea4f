// One clear line for the first problem zod found: the field path and what was expected.
import type { ZodError } from 'zod';

export function describeZodError(err: ZodError): string {
  const issue = err.issues[0];
  const path = issue.path.length ? issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : String(p))).join('.').replace(/\.\[/g, '[') : '(top level)';
  return `field "${path}": ${issue.message}`;
}
