import { SCHEMA_VERSION } from './types';

/**
 * Migrations by the version they produce. Version 1 is the first stored shape. Version 2 adds group
 * conversations, only as optional fields, so nothing has to change in what version 1 stored; its
 * number still tells an older build that it can no longer write here. A migration that has work to
 * do is `3: async () => { … }` with SCHEMA_VERSION bumped.
 */
export type Migration = () => Promise<void>;
export const MIGRATIONS: Record<number, Migration> = {};

export type SchemaPlan =
  | { action: 'ok' }
  | { action: 'init' }
  | { action: 'migrate'; from: number; steps: number[] }
  /** Written by a newer version of the app: read it, never overwrite it. */
  | { action: 'read-only'; found: number };

export function planSchema(stored: unknown, hasData: boolean, current = SCHEMA_VERSION): SchemaPlan {
  if (stored === undefined) return hasData ? migrateFrom(0, current) : { action: 'init' };
  if (typeof stored !== 'number' || !Number.isInteger(stored) || stored < 0) return { action: 'read-only', found: NaN };
  if (stored === current) return { action: 'ok' };
  if (stored > current) return { action: 'read-only', found: stored };
  return migrateFrom(stored, current);
}

function migrateFrom(from: number, current: number): SchemaPlan {
  const steps: number[] = [];
  for (let v = from + 1; v <= current; v++) steps.push(v);
  return { action: 'migrate', from, steps };
}
