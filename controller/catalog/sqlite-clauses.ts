/**
 * The two dynamic SQL fragments the catalog's adapters build: the WHERE of a filtered listing and
 * the SET of a partial update. Only the presence of each part varies; column names and SQL come
 * from the caller's fixed text, values always travel as named parameters.
 */

/**
 * `WHERE c1 AND c2 ...` of the conditions whose value is set (undefined: no condition), and the
 * named parameters they use; `sql` is '' when none is set. Each key is the parameter's name.
 */
export function whereClause(conditions: Record<string, readonly [sql: string, value: unknown]>): {
  sql: string;
  values: Record<string, unknown>;
} {
  const where: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, [sql, value]] of Object.entries(conditions)) {
    if (value === undefined) continue;
    where.push(sql);
    values[name] = value;
  }
  return { sql: where.length > 0 ? `WHERE ${where.join(' AND ')}` : '', values };
}

/**
 * `column = @column, ...` for the fields of `update` that are set (undefined: unchanged), with
 * their values; undefined when nothing is set. Column names come from the caller's fixed map.
 */
export function setClause<U extends object>(
  columns: Record<keyof U, string>,
  update: U,
): { sql: string; values: Record<string, unknown> } | undefined {
  const sets: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [field, column] of Object.entries(columns) as [keyof U, string][]) {
    const value = update[field];
    if (value === undefined) continue;
    sets.push(`${column} = @${column}`);
    values[column] = value;
  }
  return sets.length === 0 ? undefined : { sql: sets.join(', '), values };
}
