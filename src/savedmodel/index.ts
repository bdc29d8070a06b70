/** Public API of the SavedModel wing: a pure writer of SavedModel files (publishing is src/model-store/). */
export { exportSavedModel, type ExportOptions } from './export';
export {
  CHECKPOINT_PREFIX,
  SAVED_MODEL_FILE,
  VARIABLES_DATA_FILE,
  VARIABLES_INDEX_FILE,
  type ManifestFile,
  type SavedModelManifest,
} from './manifest';
export {
  PREDICT_METHOD,
  PREDICTIONS_OUTPUT,
  PRODUCTS_INPUT,
  SERVE_TAG,
  SIGNATURE_NAME,
  USERS_INPUT,
  type IdDtype,
  type SignatureSummary,
  type TensorSpec,
} from './signature';
export { InvalidWeightsError } from './validate-weights';
export { type TfjsModelArtifacts, type TfjsModelFiles } from './tfjs-files';
