/**
 * Which files the process helpers will run: src/ entry points (compiled or
 * not) and, from source, the benchmarks' own helpers (bench:serve's Kafka
 * relay failed here once because only src/ was accepted).
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { entryCommand } from '../../src/process/children';

const root = path.resolve(__dirname, '../..');

describe('entryCommand', () => {
  it('runs src/ and bench/ TypeScript entry points under tsx', () => {
    expect(entryCommand('src/worker.ts')).toEqual(['--import', 'tsx', path.join(root, 'src/worker.ts')]);
    expect(entryCommand('bench/kafka-relay.ts')).toEqual(['--import', 'tsx', path.join(root, 'bench/kafka-relay.ts')]);
  });

  it('names the entry point it refuses', () => {
    expect(() => entryCommand('scripts/x.js')).toThrow('entry point scripts/x.js: expected a path src/….ts or bench/….ts');
    expect(() => entryCommand('../src/worker.ts')).toThrow(/expected a path/);
  });
});
