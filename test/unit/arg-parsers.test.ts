import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { integerArg, numberArg, numberListArg, portArg } from '../../src/arg-parsers';
import { formatDuration } from '../../src/cli/format';

describe('command-line value parsers', () => {
  it('accept what the rule allows', () => {
    expect(integerArg(1)('12')).toBe(12);
    expect(integerArg(0, 10)(' 10 ')).toBe(10);
    expect(numberArg(0)('0')).toBe(0);
    expect(numberArg(0, true)('0.5')).toBe(0.5);
    expect(portArg('8501')).toBe(8501);
    expect(numberListArg(1)('1,8,32')).toEqual([1, 8, 32]);
  });

  it.each([
    [integerArg(1), '0', 'an integer ≥ 1'],
    [integerArg(1), '1.5', 'an integer ≥ 1'],
    [integerArg(1), '', 'an integer ≥ 1'],
    [integerArg(0, 10), '11', 'an integer in [0, 10]'],
    [numberArg(0), 'x', 'a number ≥ 0'],
    [numberArg(0), 'Infinity', 'a number ≥ 0'],
    [numberArg(0, true), '0', 'a number > 0'],
    [portArg, '65536', 'an integer in [0, 65535]'],
    [numberListArg(1), '1,,8', 'comma-separated numbers ≥ 1'],
    [numberListArg(1), '1,0', 'comma-separated numbers ≥ 1'],
  ] as const)('refuse a bad value with what was expected (%#: %s)', (parse, value, expected) => {
    expect(() => parse(value)).toThrow(InvalidArgumentError);
    expect(() => parse(value)).toThrow(`expected ${expected}`);
  });
});

describe('formatDuration', () => {
  it.each([
    [250, '250 ms'],
    [1000, '1s'],
    [90_061_000, '1d 1h 1m 1s'],
    [3_600_000, '1h'],
    [Number.NaN, 'unknown'],
  ])('%s ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
});
