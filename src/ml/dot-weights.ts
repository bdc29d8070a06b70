/**
 * A recommender served as a dot product of two tables:
 *
 *   predictions[n] = Σ_d userFactors[users[n], d] · productFactors[products[n], d]
 *
 * For the item-to-item linear models (EASE, RP3β and their blend) the user
 * table holds each customer's binary history row, then (default model) the
 * customer's purchase-time context, and the product table the columns of the
 * weights (dim = products + context columns), so the SavedModel computes
 * exactly x_u · W[:, i]. Row-major float32.
 */
export interface DotProductWeights {
  kind: 'dot';
  userRows: number;
  productRows: number;
  dim: number;
  /** [userRows, dim] */
  userFactors: Float32Array;
  /** [productRows, dim] */
  productFactors: Float32Array;
}

export function validateDotProductWeights(w: DotProductWeights): void {
  for (const [name, value] of [
    ['userRows', w.userRows],
    ['productRows', w.productRows],
    ['dim', w.dim],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new Error(`dot-product weights: ${name} must be a positive integer, got ${value}`);
  }
  if (w.userFactors.length !== w.userRows * w.dim)
    throw new Error(`dot-product weights: userFactors has ${w.userFactors.length} floats, expected ${w.userRows}×${w.dim}`);
  if (w.productFactors.length !== w.productRows * w.dim) {
    throw new Error(`dot-product weights: productFactors has ${w.productFactors.length} floats, expected ${w.productRows}×${w.dim}`);
  }
  for (const [name, values] of [
    ['userFactors', w.userFactors],
    ['productFactors', w.productFactors],
  ] as const) {
    for (let i = 0; i < values.length; i++)
      if (!Number.isFinite(values[i])) throw new Error(`dot-product weights: ${name}[${i}] is not finite (${values[i]})`);
  }
}

/** Candidate storage: a small JSON header plus one binary file (user factors then product factors). */
export function encodeDotProductWeights(w: DotProductWeights): { header: Buffer; data: Buffer } {
  const header = Buffer.from(`${JSON.stringify({ kind: 'dot', userRows: w.userRows, productRows: w.productRows, dim: w.dim })}\n`);
  const data = Buffer.concat([
    Buffer.from(w.userFactors.buffer, w.userFactors.byteOffset, w.userFactors.byteLength),
    Buffer.from(w.productFactors.buffer, w.productFactors.byteOffset, w.productFactors.byteLength),
  ]);
  return { header, data };
}

export function decodeDotProductWeights(header: Buffer, data: Buffer): DotProductWeights {
  const h = JSON.parse(header.toString('utf8')) as Partial<DotProductWeights>;
  if (h.kind !== 'dot' || typeof h.userRows !== 'number' || typeof h.productRows !== 'number' || typeof h.dim !== 'number') {
    throw new Error(`dot-product header: expected {kind:'dot', userRows, productRows, dim}, got ${header.toString('utf8').slice(0, 200)}`);
  }
  const expected = (h.userRows + h.productRows) * h.dim * 4;
  if (data.length !== expected) throw new Error(`dot-product data: ${data.length} bytes, header implies ${expected}`);
  const floats = new Float32Array(data.length / 4);
  new Uint8Array(floats.buffer).set(data);
  const w: DotProductWeights = {
    kind: 'dot',
    userRows: h.userRows,
    productRows: h.productRows,
    dim: h.dim,
    userFactors: floats.subarray(0, h.userRows * h.dim),
    productFactors: floats.subarray(h.userRows * h.dim),
  };
  validateDotProductWeights(w);
  return w;
}
