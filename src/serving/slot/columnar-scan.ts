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
  let i = 0;
  const n = raw.length;
  const ws = () => {
    for (; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c !== Ch.Space && c !== Ch.Lf && c !== Ch.Cr && c !== Ch.Tab) return;
    }
  };
  const expect = (c: number) => {
    ws();
    if (raw.charCodeAt(i) !== c) throw bail;
    i++;
  };
  const peekIs = (c: number) => {
    ws();
    return raw.charCodeAt(i) === c;
  };
  const string = (): string => {
    expect(Ch.Quote);
    const start = i;
    for (; i < n; i++) {
      const c = raw.charCodeAt(i);
      if (c === Ch.Quote) return raw.slice(start, i++);
      if (c === Ch.Backslash || c < 0x20) throw bail;
    }
    throw bail;
  };
  const id = (): number => {
    ws();
    let c = raw.charCodeAt(i);
    if (c < Ch.Zero || c > Ch.Nine) throw bail;
    if (c === Ch.Zero) {
      c = raw.charCodeAt(++i);
      if (c >= Ch.Zero && c <= Ch.Nine) throw bail;
      return 0;
    }
    let v = 0;
    for (; i < n; i++) {
      c = raw.charCodeAt(i);
      if (c < Ch.Zero || c > Ch.Nine) break;
      v = v * 10 + (c - Ch.Zero);
      if (v > MAX_ID) throw bail;
    }
    // a fraction or exponent is not an id here: leave it to the general parser's message
    if (c === 0x2e || c === 0x65 || c === 0x45) throw bail;
    return v;
  };
  const idList = (): Int32Array => {
    expect(Ch.OpenBracket);
    let out = new Int32Array(Math.min(1024, maxRows));
    let rows = 0;
    if (peekIs(Ch.CloseBracket)) {
      i++;
      return out.subarray(0, 0);
    }
    for (;;) {
      let v: number;
      if (peekIs(Ch.OpenBracket)) {
        i++;
        v = id();
        expect(Ch.CloseBracket);
      } else v = id();
      if (rows === maxRows) throw bail; // the general path words the limit
      if (rows === out.length) {
        const grown = new Int32Array(Math.min(out.length * 2, maxRows));
        grown.set(out);
        out = grown;
      }
      out[rows++] = v;
      ws();
      const c = raw.charCodeAt(i++);
      if (c === Ch.CloseBracket) return out.subarray(0, rows);
      if (c !== Ch.Comma) throw bail;
    }
  };
  const members = (each: (key: string) => void) => {
    expect(Ch.OpenBrace);
    if (peekIs(Ch.CloseBrace)) {
      i++;
      return;
    }
    for (;;) {
      const key = string();
      expect(Ch.Colon);
      each(key);
      ws();
      const c = raw.charCodeAt(i++);
      if (c === Ch.CloseBrace) return;
      if (c !== Ch.Comma) throw bail;
    }
  };

  try {
    let signatureName: string | undefined;
    let columns: Record<string, Int32Array> | undefined;
    members((key) => {
      if (key === 'signature_name' && signatureName === undefined) signatureName = string();
      else if (key === 'inputs' && columns === undefined) {
        const found: Record<string, Int32Array> = {};
        members((name) => {
          if (name in found || name === '__proto__') throw bail;
          found[name] = idList();
        });
        columns = found;
      } else throw bail;
    });
    ws();
    if (i !== n || columns === undefined) return undefined;
    return { signatureName, columns };
  } catch (err) {
    if (err === bail) return undefined;
    throw err;
  }
}
