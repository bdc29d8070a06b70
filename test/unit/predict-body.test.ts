/**
 * The slot's predict-body parsing without a slot: the columnar fast scan
 * must agree with the general JSON path on every body (same columns, or it
 * defers and the general path gives the error), the nesting scan bounds
 * hostile bodies, and the reply writer emits JSON that round-trips float32.
 */
import { describe, expect, it } from 'vitest';
import { scanColumnarBody } from '../../src/serving/slot/columnar-scan';
import { BadRequestError, checkJsonDepth, parsePredictBody, predictResponseBody } from '../../src/serving/slot/predict-request';

const NAMES = ['users', 'products'];

describe('columnar fast scan', () => {
  it.each([
    ['plain', '{"inputs":{"users":[[1],[2]],"products":[[3],[4]]}}'],
    [
      'whitespace and signature',
      ' {\n "signature_name" : "serving_default",\t"inputs" : { "products" : [ [3] , [4] ] , "users" : [ [1] , [2] ] } } ',
    ],
    ['bare ids', '{"inputs":{"users":[1,2],"products":[3,0]}}'],
    ['largest id', '{"inputs":{"users":[[2147483647]],"products":[[0]]}}'],
  ])('reads a %s body exactly as JSON.parse does', (_what, raw) => {
    const scanned = scanColumnarBody(raw, 100);
    expect(scanned).toBeDefined();
    const parsed = JSON.parse(raw) as { inputs: Record<string, (number | number[])[]> };
    for (const n of NAMES) expect([...scanned!.columns[n]]).toEqual(parsed.inputs[n].map((v) => (Array.isArray(v) ? v[0] : v)));
    expect(parsePredictBody(raw, NAMES, 100).format).toBe('inputs');
  });

  it.each([
    ['row format', '{"instances":[{"users":[1],"products":[2]}]}'],
    ['a negative id', '{"inputs":{"users":[[-1]],"products":[[1]]}}'],
    ['a fractional id', '{"inputs":{"users":[[1.5]],"products":[[1]]}}'],
    ['an exponent', '{"inputs":{"users":[[1e3]],"products":[[1]]}}'],
    ['a leading zero', '{"inputs":{"users":[[01]],"products":[[1]]}}'],
    ['an id beyond int32', '{"inputs":{"users":[[2147483648]],"products":[[1]]}}'],
    ['a string id', '{"inputs":{"users":[["1"]],"products":[[1]]}}'],
    ['two ids in a row', '{"inputs":{"users":[[1,2]],"products":[[1]]}}'],
    ['an escaped key', '{"inputs":{"us\\u0065rs":[[1]],"products":[[1]]}}'],
    ['a duplicate input', '{"inputs":{"users":[[1]],"users":[[2]],"products":[[1]]}}'],
    ['an unknown member', '{"inputs":{"users":[[1]],"products":[[1]]},"extra":1}'],
    ['trailing garbage', '{"inputs":{"users":[[1]],"products":[[1]]}}x'],
    ['a trailing comma', '{"inputs":{"users":[[1],],"products":[[1]]}}'],
    ['truncation', '{"inputs":{"users":[[1]],"products":[[1]'],
    ['too many rows', `{"inputs":{"users":[${'[1],'.repeat(100)}[1]],"products":[[1]]}}`],
  ])('defers %s to the general parser', (_what, raw) => {
    expect(scanColumnarBody(raw, 100)).toBeUndefined();
  });

  it('agrees with the general parser on thousands of mutated bodies', () => {
    const base = '{"signature_name":"serving_default","inputs":{"users":[[12],[7],[0]],"products":[[3],[19],[4]]}}';
    const alphabet = '[]{},:"0123456789 -.e';
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0);
    let accepted = 0;
    for (let k = 0; k < 5000; k++) {
      const chars = base.split('');
      const edits = 1 + (next() % 3);
      for (let e = 0; e < edits; e++) {
        const at = next() % chars.length;
        const op = next() % 3;
        if (op === 0) chars.splice(at, 1);
        else if (op === 1) chars.splice(at, 0, alphabet[next() % alphabet.length]);
        else chars[at] = alphabet[next() % alphabet.length];
      }
      const raw = chars.join('');
      const scanned = scanColumnarBody(raw, 100);
      if (!scanned) continue;
      accepted++;
      // whatever the scan accepts is valid JSON of the same content
      const parsed = JSON.parse(raw) as { inputs: Record<string, (number | number[])[]> }; // throws if the scan took invalid JSON
      for (const [n, ids] of Object.entries(scanned.columns)) {
        expect([...ids], raw).toEqual(parsed.inputs[n].map((v) => (Array.isArray(v) ? v[0] : v)));
      }
    }
    // the mutations keep many bodies valid (changed digits, whitespace), so the comparison has teeth
    expect(accepted).toBeGreaterThan(500);
  });
});

describe('predict body limits', () => {
  it('stops at the first byte nested deeper than 32 levels, ignoring brackets inside strings', () => {
    expect(() => checkJsonDepth(`${'['.repeat(32)}${']'.repeat(32)}`)).not.toThrow();
    expect(() => checkJsonDepth(`${'['.repeat(33)}`)).toThrowError(/nesting deeper than 32 levels at offset 32/);
    expect(() => checkJsonDepth(`["${'['.repeat(100)}\\"${'{'.repeat(100)}"]`)).not.toThrow();
  });

  it('stops a hostile 16 MB body at its first offending byte, and a flat one passes in one scan', () => {
    expect(() => checkJsonDepth(`{"a":${'['.repeat(16 * 1024 * 1024)}`)).toThrowError(/nesting deeper than 32 levels at offset 36$/);
    expect(() => checkJsonDepth(`{"a":"${'x'.repeat(16 * 1024 * 1024)}"}`)).not.toThrow();
  });

  it('names the row cap in both forms', () => {
    const rows = Array.from({ length: 11 }, () => [1]);
    expect(() => parsePredictBody(JSON.stringify({ inputs: { users: rows, products: rows } }), NAMES, 10)).toThrowError(
      /batch of 11 rows exceeds the maximum of 10 rows per predict call/,
    );
    expect(() => parsePredictBody(JSON.stringify({ instances: rows.map(() => ({ users: 1, products: 1 })) }), NAMES, 10)).toThrowError(
      BadRequestError,
    );
  });
});

describe('predict reply', () => {
  it('writes JSON whose numbers round-trip every float32 score', () => {
    const scores = Float32Array.from([0.1, -2.5e-8, 123456.789, 1, 0, 3.4e38]);
    const body = JSON.parse(predictResponseBody('inputs', scores)) as { outputs: number[][] };
    expect(body.outputs.map((r) => Math.fround(r[0]))).toEqual([...scores]);
    expect(JSON.parse(predictResponseBody('instances', Float32Array.from([Number.NaN]))) as unknown).toEqual({ predictions: [[null]] });
  });
});
