/**
 * Fast path for the body the model server sends many times a second: one
 * columnar predict of up to 20,000 rows,
 *   {"signature_name": "serving_default", "inputs": {"users": [[3], …], "products": [[17], …]}}
 * scanned once, character by character, straight into Int32Arrays —
 * JSON.parse would first build 40,000 one-element arrays and then be walked
 * again. It accepts only plain JSON of exactly that shape (ids as unsigned
 * decimal integers, bare or as [id], no string escapes) and returns
 * undefined for anything else, so the general parser — and its error
 * messages — stay the single authority on what is valid.
 */
const enum Ch {
  Tab = 0x09,
  Lf = 0x0a,
  Cr = 0x0d,
  Space = 0x20,
  Quote = 0x22,
  Comma = 0x2c,
  Zero = 0x30,
  Nine = 0x39,
  Colon = 0x3a,
  OpenBracket = 0x5b,
  Backslash = 0x5c,
  CloseBracket = 0x5d,
  OpenBrace = 0x7b,
  CloseBrace = 0x7d,
}

const MAX_ID = 0x7fffffff;

class Bail extends Error {}
const bail = new Bail();

export interface ScannedColumns {
  signatureName: string | undefined;
  columns: Record<string, Int32Array>;
}

/** The columns of a plain columnar body, or undefined when the body is anything else (then parse it generally). */
export function scanColumnarBody(raw: string, maxRows: number): ScannedColumns | undefined {
  return new ColumnarScanner(raw, maxRows).scan();
}

/**
 * One pass over the body: each method reads one JSON production at the
 * cursor `i` and throws `bail` at anything outside the plain columnar form.
 */
class ColumnarScanner {
  private i = 0;
  private readonly n: number;

  constructor(
    private readonly raw: string,
    private readonly maxRows: number,
  ) {
    this.n = raw.length;
  }

  scan(): ScannedColumns | undefined {
    try {
      let signatureName: string | undefined;
      let columns: Record<string, Int32Array> | undefined;
      this.members((key) => {
        if (key === 'signature_name' && signatureName === undefined) signatureName = this.string();
        else if (key === 'inputs' && columns === undefined) {
          const found: Record<string, Int32Array> = {};
          this.members((name) => {
            if (name in found || name === '__proto__') throw bail;
            found[name] = this.idList();
          });
          columns = found;
        } else throw bail;
      });
      this.ws();
      if (this.i !== this.n || columns === undefined) return undefined;
      return { signatureName, columns };
    } catch (err) {
      if (err === bail) return undefined;
      throw err;
    }
  }

  private ws(): void {
    for (; this.i < this.n; this.i++) {
      const c = this.raw.charCodeAt(this.i);
      if (c !== Ch.Space && c !== Ch.Lf && c !== Ch.Cr && c !== Ch.Tab) return;
    }
  }

  private expect(c: number): void {
    this.ws();
    if (this.raw.charCodeAt(this.i) !== c) throw bail;
    this.i++;
  }

  private peekIs(c: number): boolean {
    this.ws();
    return this.raw.charCodeAt(this.i) === c;
  }

  private string(): string {
    this.expect(Ch.Quote);
    const start = this.i;
    for (; this.i < this.n; this.i++) {
      const c = this.raw.charCodeAt(this.i);
      if (c === Ch.Quote) return this.raw.slice(start, this.i++);
      if (c === Ch.Backslash || c < 0x20) throw bail;
    }
    throw bail;
  }

  private id(): number {
    this.ws();
    let c = this.raw.charCodeAt(this.i);
    if (c < Ch.Zero || c > Ch.Nine) throw bail;
    if (c === Ch.Zero) {
      c = this.raw.charCodeAt(++this.i);
      if (c >= Ch.Zero && c <= Ch.Nine) throw bail;
      return 0;
    }
    let v = 0;
    for (; this.i < this.n; this.i++) {
      c = this.raw.charCodeAt(this.i);
      if (c < Ch.Zero || c > Ch.Nine) break;
      v = v * 10 + (c - Ch.Zero);
      if (v > MAX_ID) throw bail;
    }
    // a fraction or exponent is not an id here: leave it to the general parser's message
    if (c === 0x2e || c === 0x65 || c === 0x45) throw bail;
    return v;
  }

  private idList(): Int32Array {
    this.expect(Ch.OpenBracket);
    let out = new Int32Array(Math.min(1024, this.maxRows));
    let rows = 0;
    if (this.peekIs(Ch.CloseBracket)) {
      this.i++;
      return out.subarray(0, 0);
    }
    for (;;) {
      let v: number;
      if (this.peekIs(Ch.OpenBracket)) {
        this.i++;
        v = this.id();
        this.expect(Ch.CloseBracket);
      } else v = this.id();
      if (rows === this.maxRows) throw bail; // the general path words the limit
      if (rows === out.length) {
        const grown = new Int32Array(Math.min(out.length * 2, this.maxRows));
        grown.set(out);
        out = grown;
      }
      out[rows++] = v;
      this.ws();
      const c = this.raw.charCodeAt(this.i++);
      if (c === Ch.CloseBracket) return out.subarray(0, rows);
      if (c !== Ch.Comma) throw bail;
    }
  }

  private members(each: (key: string) => void): void {
    this.expect(Ch.OpenBrace);
    if (this.peekIs(Ch.CloseBrace)) {
      this.i++;
      return;
    }
    for (;;) {
      const key = this.string();
      this.expect(Ch.Colon);
      each(key);
      this.ws();
      const c = this.raw.charCodeAt(this.i++);
      if (c === Ch.CloseBrace) return;
      if (c !== Ch.Comma) throw bail;
    }
  }
}
