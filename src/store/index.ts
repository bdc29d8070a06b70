/**
 * The model store: the one owner of the `<slot>/<version>/` layout in the
 * models bucket (claims, staged publish, complete versions, removal, stale
 * staging). The exporter, the registry and the slots go through it.
 */
export {
  VersionExistsError,
  listClaimedVersions,
  listVersions,
  publishSavedModel,
  removeStaleStaging,
  type ClaimRecord,
  type PublishEvent,
  type PublishOptions,
  type PublishResult,
  type PublishedObject,
} from './publish';
export { completeVersionFiles, downloadVersion, latestCompleteVersion, listCompleteVersions, removeVersion } from './versions';
export { markSlotChanged, slotChangeTag, type SlotChange } from './slot-change';
export {
  applySlotRetention,
  removeOldCandidates,
  type CandidateRetention,
  type CandidateRetentionReport,
  type SlotRetention,
  type SlotRetentionReport,
} from './retention';
