/**
 * The names every served model answers to (docs/design.md, "SavedModel
 * contract"), defined once for the exporter, the slots, the readiness check
 * and the model server. No imports: cheap for any layer to use.
 */
export const SERVE_TAG = 'serve';
export const SIGNATURE_NAME = 'serving_default';
export const PREDICT_METHOD = 'tensorflow/serving/predict';
export const USERS_INPUT = 'users';
export const PRODUCTS_INPUT = 'products';
export const PREDICTIONS_OUTPUT = 'predictions';
