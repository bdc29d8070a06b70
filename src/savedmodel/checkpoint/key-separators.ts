/**
 * The bytewise comparator's key-shortening rules (LevelDB's
 * BytewiseComparatorImpl, as TensorFlow's tsl table builder uses them): an
 * index entry needs a key >= the last key of its block and < the first key
 * of the next, and a shorter one keeps the index small. Reproducing them
 * exactly makes our .index byte-identical to TensorFlow's own.
 */

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** Shortest key k with start <= k < limit, or `start` unchanged when no shorter one is found. */
export function shortestSeparator(start: Uint8Array, limit: Uint8Array): Uint8Array {
  const minLength = Math.min(start.length, limit.length);
  let diff = 0;
  while (diff < minLength && start[diff] === limit[diff]) diff++;
  if (diff >= minLength) return start; // one is a prefix of the other
  const diffByte = start[diff];
  if (diffByte < 0xff && diffByte + 1 < limit[diff]) {
    const out = Uint8Array.from(start.subarray(0, diff + 1));
    out[diff] = diffByte + 1;
    return out;
  }
  return start;
}

/** Shortest key >= `key`: bump the first byte that is not 0xff and cut after it. */
export function shortSuccessor(key: Uint8Array): Uint8Array {
  for (let i = 0; i < key.length; i++) {
    if (key[i] !== 0xff) {
      const out = Uint8Array.from(key.subarray(0, i + 1));
      out[i] = key[i] + 1;
      return out;
    }
  }
  return key; // all 0xff (or empty): no shorter successor
}
