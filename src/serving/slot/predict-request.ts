/**
 * Parsing of TF Serving predict bodies, both forms of the REST API:
 *   row:      {"signature_name": "...", "instances": [{"users": [3], "products": [17]}, …]}
 *   columnar: {"signature_name": "...", "inputs": {"users": [[3], …], "products": [[17], …]}}
 * Each rejection names what is wrong and where, as TF Serving's 400s do.
 */
export class BadRequestError extends Error {
  override name = 'BadRequestError';
  constructor(message: string, readonly status: 400 | 404 = 400) {
    super(message);
  }
}

export interface PredictBatch {
  format: 'instances' | 'inputs';
  signatureName: string;
  /** one entry per example, in request order */
  columns: Record<string, number[]>;
  size: number;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A scalar id: an integer, possibly wrapped as [id] (shape [1] per example). */
function readId(value: unknown, where: string): number {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new BadRequestError(`${where}: expected an integer id or [id], got ${JSON.stringify(value)?.slice(0, 60)}`);
  }
  if (v < 0 || v > 0x7fffffff) throw new BadRequestError(`${where}: id ${v} is outside [0, 2147483647]`);
  return v;
}

export function parsePredictBody(raw: string, inputNames: string[], maxBatch: number): PredictBatch {
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    throw new BadRequestError(`JSON Parse error: ${(err as Error).message}`);
  }
  if (!isRecord(body)) throw new BadRequestError('the request body must be a JSON object');
  const signatureName = body.signature_name === undefined ? 'serving_default' : body.signature_name;
  if (typeof signatureName !== 'string') throw new BadRequestError('"signature_name" must be a string');
  if (signatureName !== 'serving_default') {
    throw new BadRequestError(`Serving signature name: "${signatureName}" not found in signature def`);
  }
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (hasInstances === hasInputs) {
    throw new BadRequestError('the request must have exactly one of "instances" (row format) or "inputs" (columnar format)');
  }
  const columns: Record<string, number[]> = Object.fromEntries(inputNames.map((n) => [n, []]));

  if (hasInstances) {
    const instances = body.instances;
    if (!Array.isArray(instances) || instances.length === 0) throw new BadRequestError('"instances" must be a non-empty list');
    if (instances.length > maxBatch) {
      throw new BadRequestError(`batch of ${instances.length} instances exceeds the maximum of ${maxBatch}`);
    }
    instances.forEach((inst, i) => {
      if (!isRecord(inst)) throw new BadRequestError(`instances[${i}]: expected an object with ${inputNames.join(', ')}`);
      const extra = Object.keys(inst).filter((k) => !inputNames.includes(k));
      if (extra.length) throw new BadRequestError(`instances[${i}]: unknown input "${extra[0]}"`);
      for (const n of inputNames) {
        if (!(n in inst)) throw new BadRequestError(`instances[${i}]: missing input "${n}"`);
        columns[n].push(readId(inst[n], `instances[${i}].${n}`));
      }
    });
    return { format: 'instances', signatureName, columns, size: instances.length };
  }

  const inputs = body.inputs;
  if (!isRecord(inputs)) throw new BadRequestError(`"inputs" must be an object with ${inputNames.join(', ')}`);
  const extra = Object.keys(inputs).filter((k) => !inputNames.includes(k));
  if (extra.length) throw new BadRequestError(`inputs: unknown input "${extra[0]}"`);
  let size = -1;
  for (const n of inputNames) {
    const list = inputs[n];
    if (!Array.isArray(list)) throw new BadRequestError(`inputs.${n}: missing or not a list`);
    if (size >= 0 && list.length !== size) {
      throw new BadRequestError(`inputs.${n} has ${list.length} rows but ${inputNames[0]} has ${size}`);
    }
    size = list.length;
    if (size === 0) throw new BadRequestError(`inputs.${n} is empty`);
    if (size > maxBatch) throw new BadRequestError(`batch of ${size} rows exceeds the maximum of ${maxBatch}`);
    list.forEach((v, i) => columns[n].push(readId(v, `inputs.${n}[${i}]`)));
  }
  return { format: 'inputs', signatureName, columns, size };
}
