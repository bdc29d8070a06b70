/** Version directories of the slots: owned by the model store (src/model-store/). */
export { removeVersion } from '../model-store';
