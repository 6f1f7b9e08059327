import { readFileSync } from 'node:fs';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

/** The dotted path and message of a zod issue, for errors that name the field. */
export function describeIssue(issue: z.core.$ZodIssue): { field: string; rule: string } {
  return { field: issue.path.map(String).join('.'), rule: issue.message };
}

/** Validates a value against a schema; a failure names the source, the field and the rule. */
export function parseConfig<S extends z.ZodType>(schema: S, value: unknown, source: string): Readonly<z.output<S>> {
  const result = schema.safeParse(value);
  if (!result.success) {
    const first = result.error.issues[0];
    const { field, rule } = first ? describeIssue(first) : { field: '', rule: 'invalid' };
    throw new ConfigError(source, field, rule);
  }
  return Object.freeze(result.data);
}

/** Reads a JSON config file and validates it; unreadable files and bad JSON are ConfigErrors too. */
export function loadConfigFile<S extends z.ZodType>(schema: S, path: string): Readonly<z.output<S>> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(path, '', `cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`, {
      cause: err,
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(path, '', `not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  return parseConfig(schema, value, path);
}
