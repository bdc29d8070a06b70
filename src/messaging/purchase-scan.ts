/**
 * A second reader of `Purchase` bytes (proto/recommender.proto) for the data
 * publisher's hot path, where decodePurchase (schemas.ts) allocated a
 * message, a Long per int64 and a string per record. It reads only the
 * canonical encoding — the fields 1–4 with their own wire types (products
 * packed or not, repeats as protobuf merges them: the last scalar wins,
 * products append), varints of at most 8 bytes below 2^53, an ASCII id —
 * into a reused struct, and declines anything else. A declined record goes
 * through decodePurchase, so every record it reads decodes to the same
 * purchase there and every other one is decided there as before
 * (test/messaging/purchase-scan.test.ts compares the two on generated and
 * hostile bytes).
 */

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** Tags (field number << 3 | wire type) of the canonical encoding. */
const USER = 0x08;
const PRODUCT = 0x10;
const PRODUCTS_PACKED = 0x12;
const TIME_MS = 0x18;
const ID = 0x22;

/** One purchase as read from its record's bytes; the id stays in those bytes. */
export class ScannedPurchase {
  user = 0;
  timeMs = 0;
  /** products[0, count) */
  readonly products: Float64Array;
  count = 0;
  /** the id is bytes[idStart, idEnd) of the record last scanned (ASCII) */
  idStart = 0;
  idEnd = 0;
  private pos = 0;

  /** `maxProducts`: a record with more is declined (the validation rejects it with its reason). */
  constructor(readonly maxProducts: number) {
    this.products = new Float64Array(Math.max(1, maxProducts));
  }

  /** Reads `bytes` into this struct; false when they are not in the canonical encoding. */
  scan(bytes: Uint8Array): boolean {
    this.user = 0;
    this.timeMs = 0;
    this.count = 0;
    this.idStart = this.idEnd = 0;
    this.pos = 0;
    const end = bytes.length;
    while (this.pos < end) {
      const tag = bytes[this.pos++];
      if (tag === USER) {
        if ((this.user = this.varint(bytes, end)) < 0) return false;
      } else if (tag === TIME_MS) {
        if ((this.timeMs = this.varint(bytes, end)) < 0) return false;
      } else if (tag === PRODUCT) {
        if (!this.product(this.varint(bytes, end))) return false;
      } else if (tag === PRODUCTS_PACKED) {
        const length = this.varint(bytes, end);
        if (length < 0 || length > end - this.pos) return false;
        const stop = this.pos + length;
        while (this.pos < stop) if (!this.product(this.varint(bytes, stop))) return false;
      } else if (tag === ID) {
        const length = this.varint(bytes, end);
        if (length < 0 || length > end - this.pos) return false;
        for (let i = this.pos; i < this.pos + length; i++) if (bytes[i] >= 0x80) return false;
        this.idStart = this.pos;
        this.idEnd = this.pos += length;
      } else {
        return false;
      }
    }
    return true;
  }

  private product(value: number): boolean {
    if (value < 0 || this.count === this.products.length) return false;
    this.products[this.count++] = value;
    return true;
  }

  /** A varint of at most 8 bytes ending before `end` with a value below 2^53, or -1. */
  private varint(bytes: Uint8Array, end: number): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 8 && this.pos < end; i++) {
      const byte = bytes[this.pos++];
      // each term is exact; a sum beyond 2^53 - 1 stays beyond it when rounded
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value <= MAX_SAFE ? value : -1;
      scale *= 128;
    }
    return -1;
  }
}
