/**
 * Command-line value parsers for every tool of the project: commander's
 * `argParser` hooks made from zod schemas, so a bad flag value is refused with
 * the schema's own message (e.g. `option '--rate <perSecond>' argument 'x' is
 * invalid. expected a number ≥ 0`) and each rule is written once.
 */
import { InvalidArgumentError } from 'commander';
import { z } from 'zod';

/** commander's argParser from a zod schema of the flag's string value. */
export function zodArg<T>(schema: z.ZodType<T, string>, expected: string): (value: string) => T {
  return (value: string): T => {
    const parsed = schema.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`expected ${expected}`);
    return parsed.data;
  };
}

const numeric = z
  .string()
  .trim()
  .min(1)
  .transform((v) => Number(v));

/** An integer in [min, max] (max defaults to 2^53 − 1). */
export function integerArg(min: number, max = Number.MAX_SAFE_INTEGER): (value: string) => number {
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in [${min}, ${max}]`;
  return zodArg(numeric.pipe(z.number().int().min(min).max(max)), `an integer ${range}`);
}

/** A finite number ≥ min (and > min when `exclusive`). */
export function numberArg(min: number, exclusive = false): (value: string) => number {
  const bound = exclusive ? z.number().gt(min) : z.number().min(min);
  return zodArg(numeric.pipe(bound.finite()), `a number ${exclusive ? '>' : '≥'} ${min}`);
}

/** A TCP port, 0 = any free one. */
export const portArg = integerArg(0, 65_535);

/** Comma-separated finite numbers ≥ min, e.g. "1,8,32". */
export function numberListArg(min: number): (value: string) => number[] {
  const list = z
    .string()
    .transform((v) => v.split(',').map((x) => (x.trim() === '' ? Number.NaN : Number(x))))
    .pipe(z.array(z.number().finite().min(min)).min(1));
  return zodArg(list, `comma-separated numbers ≥ ${min}`);
}
