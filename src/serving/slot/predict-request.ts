/**
 * Parsing of TF Serving predict bodies, both forms of the REST API:
 *   row:      {"signature_name": "...", "instances": [{"users": [3], "products": [17]}, …]}
 *   columnar: {"signature_name": "...", "inputs": {"users": [[3], …], "products": [[17], …]}}
 * Each rejection is a 400 (TF Serving's InvalidArgument) naming what is
 * wrong and where. The body is hostile: its nesting is bounded by a linear
 * scan before JSON.parse sees it, and its rows by `maxRows`.
 */
import { scanColumnarBody } from './columnar-scan';
import { SIGNATURE_NAME } from '../../savedmodel/serving-contract';

export class BadRequestError extends Error {
  override name = 'BadRequestError';
  constructor(
    message: string,
    readonly status: 400 | 404 | 413 = 400,
  ) {
    super(message);
  }
}

export interface PredictBatch {
  format: 'instances' | 'inputs';
  signatureName: string;
  /** one entry per example, in request order */
  columns: Record<string, Int32Array>;
  size: number;
}

/** Deep enough for any tensor this model takes ([n, 1] ids are depth 4); far below what could cost time. */
export const MAX_JSON_DEPTH = 32;

const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Throws when `raw` nests arrays/objects deeper than `maxDepth` — one pass,
 * no allocation, stopping at the first offending byte, so a hostile body
 * costs at most a scan of its (size-limited) text.
 */
export function checkJsonDepth(raw: string, maxDepth = MAX_JSON_DEPTH): void {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > maxDepth) throw new BadRequestError(`JSON Parse error: nesting deeper than ${maxDepth} levels at offset ${i}`);
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) depth--;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(value: unknown): string {
  if (Array.isArray(value)) return `a list of ${value.length}`;
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.slice(0, 60);
}

/** A scalar id: an integer, possibly wrapped as [id] (shape [1] per example). */
function readId(value: unknown, where: string): number {
  const v = Array.isArray(value) && value.length === 1 ? value[0] : value;
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    throw new BadRequestError(`${where}: expected an integer id or [id], got ${describe(value)}`);
  }
  if (v < 0 || v > 0x7fffffff) throw new BadRequestError(`${where}: id ${v} is outside [0, 2147483647]`);
  return v;
}

function checkRows(rows: number, maxRows: number, what: string): void {
  if (rows > maxRows) throw new BadRequestError(`batch of ${rows} ${what} exceeds the maximum of ${maxRows} rows per predict call`);
}

/** The fast scan's result when it is a valid request; anything else is left to the general parser. */
function fastColumnar(raw: string, inputNames: string[], maxRows: number): PredictBatch | undefined {
  const scanned = scanColumnarBody(raw, maxRows);
  if (!scanned) return undefined;
  const { signatureName = SIGNATURE_NAME, columns } = scanned;
  if (signatureName !== SIGNATURE_NAME && signatureName !== '') return undefined;
  const names = Object.keys(columns);
  if (names.length !== inputNames.length || !inputNames.every((n) => n in columns)) return undefined;
  const size = columns[inputNames[0]].length;
  if (size === 0 || size > maxRows || names.some((n) => columns[n].length !== size)) return undefined;
  return { format: 'inputs', signatureName, columns, size };
}

export function parsePredictBody(raw: string, inputNames: string[], maxRows: number): PredictBatch {
  const fast = fastColumnar(raw, inputNames, maxRows);
  if (fast) return fast;
  checkJsonDepth(raw);
  let body: unknown;
  try {
    body = JSON.parse(raw);
  } catch (err) {
    throw new BadRequestError(`JSON Parse error: ${(err as Error).message}`);
  }
  if (!isRecord(body)) throw new BadRequestError('JSON Parse error: the request body must be a JSON object');
  const signatureName = body.signature_name === undefined ? SIGNATURE_NAME : body.signature_name;
  if (typeof signatureName !== 'string') throw new BadRequestError('"signature_name" must be a string');
  if (signatureName !== SIGNATURE_NAME && signatureName !== '') {
    throw new BadRequestError(`Serving signature name: "${signatureName}" not found in signature def`);
  }
  const hasInstances = 'instances' in body;
  const hasInputs = 'inputs' in body;
  if (hasInstances === hasInputs) {
    throw new BadRequestError('the request must have exactly one of "instances" (row format) or "inputs" (columnar format)');
  }

  if (hasInstances) {
    const instances = body.instances;
    if (!Array.isArray(instances) || instances.length === 0) throw new BadRequestError('"instances" must be a non-empty list');
    checkRows(instances.length, maxRows, 'instances');
    const columns = Object.fromEntries(inputNames.map((n) => [n, new Int32Array(instances.length)]));
    instances.forEach((inst, i) => {
      if (!isRecord(inst)) throw new BadRequestError(`instances[${i}]: expected an object with ${inputNames.join(', ')}`);
      for (const k in inst) if (!inputNames.includes(k)) throw new BadRequestError(`instances[${i}]: unknown input "${k}"`);
      for (const n of inputNames) {
        if (!(n in inst)) throw new BadRequestError(`instances[${i}]: missing input "${n}"`);
        columns[n][i] = readId(inst[n], `instances[${i}].${n}`);
      }
    });
    return { format: 'instances', signatureName, columns, size: instances.length };
  }

  const inputs = body.inputs;
  if (!isRecord(inputs)) throw new BadRequestError(`"inputs" must be an object with ${inputNames.join(', ')}`);
  for (const k in inputs) if (!inputNames.includes(k)) throw new BadRequestError(`inputs: unknown input "${k}"`);
  let size = -1;
  const columns: Record<string, Int32Array> = {};
  for (const n of inputNames) {
    const list = inputs[n];
    if (!Array.isArray(list)) throw new BadRequestError(`inputs.${n}: missing or not a list`);
    if (size >= 0 && list.length !== size) {
      throw new BadRequestError(`inputs.${n} has ${list.length} rows but inputs.${inputNames[0]} has ${size}`);
    }
    size = list.length;
    if (size === 0) throw new BadRequestError(`inputs.${n} is empty`);
    checkRows(size, maxRows, 'rows');
    const ids = new Int32Array(size);
    for (let i = 0; i < size; i++) ids[i] = readId(list[i], `inputs.${n}[${i}]`);
    columns[n] = ids;
  }
  return { format: 'inputs', signatureName, columns, size };
}

/**
 * The response body, written straight from the scores: `JSON.stringify` of
 * n one-element arrays costs several times this for a 20,000-row batch.
 */
export function predictResponseBody(format: PredictBatch['format'], scores: Float32Array): string {
  const parts = new Array<string>(scores.length);
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i];
    // NaN/Infinity have no JSON form; TF Serving writes them as NaN/Infinity
    // literals, which JSON parsers reject, so null says "no number" legally.
    // 9 significant digits round-trip every float32 (FLT_DECIMAL_DIG) and are
    // shorter and quicker to write than the float's full double expansion
    parts[i] = Number.isFinite(v) ? v.toPrecision(9) : 'null';
  }
  return `{"${format === 'instances' ? 'predictions' : 'outputs'}":[[${parts.join('],[')}]]}`;
}
