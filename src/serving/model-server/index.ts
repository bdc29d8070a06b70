/** The model server's public surface. */
export { startModelServer, type ModelServer, type ModelServerOptions } from './server';
export { decodeResult, encodeResult, type RecommendationResult, type ResultOutcome, type ModelRef } from '../../messaging/result';
export { decodeDeadLetter, type DeadLetter } from '../../messaging/dead-letter';
export { REJECTION_CODES, type RejectionCode } from './request-validation';
export { parsePredictUrl, type PredictTarget } from '../../messaging/predict-url';
export { createPredictClient, predictBody, type PredictClient, type PredictOutcome } from './predict-client';
export { lineagePopularitySource, cachedPopularitySource, type LoadPopularity } from './popularity-source';
export type { RankedProduct } from './ranking';
export type { ServerState } from './http-api';
export { silentLog, jsonLineLog, type Log } from '../../process/json-log';
