export { chunkLines, linesToReadable } from './csv-stream';
export { generateOptionsSchema, resolveGenerateOptions, type GenerateOptions, type ResolvedGenerateOptions } from './generate-options';
export {
  dayTransactionLines,
  generatePurchaseDay,
  generatePurchaseHistory,
  generatePurchaseHistoryInMemory,
  historyTransactionLines,
  userLines,
  type GeneratedPurchaseData,
} from './purchase-generator';
