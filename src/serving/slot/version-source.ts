/**
 * Where a slot's versions come from: the slot's base path `<bucket>/<slot>/`
 * in MinIO, polled like TF Serving polls its file system, through the model
 * store: only complete, claimed versions whose files match their digests are
 * seen, and odd directory names are ignored.
 */
export { downloadVersion, latestCompleteVersion } from '../../store';
