#!/bin/sh
# Mirrors the complete versions of one slot from MinIO/S3 to a local volume
# for real TensorFlow Serving (images from 2.7 on cannot read s3:// paths).
#
# A version is copied only once complete (its saved_model.pb exists: the
# exporter writes it last), into a hidden staging directory, and then renamed
# to its number: rename is atomic on one file system, and TF Serving ignores
# directory names that are not integers, so it never sees a partial version.
# Versions removed from the bucket (a failed readiness clean-up) are removed
# here too.
#
# Runs in the `minio/mc` image: sync-versions.sh <alias/bucket> <slot> <dir>
set -eu
SRC=$1 SLOT=$2 DEST=$3 INTERVAL=${SYNC_INTERVAL_SECONDS:-2}
mkdir -p "$DEST/$SLOT"
while :; do
  remote=$(mc ls "$SRC/$SLOT/" 2>/dev/null | awk '{print $NF}' | tr -d / | grep -E '^[0-9]+$' || true)
  for v in $remote; do
    [ -d "$DEST/$SLOT/$v" ] && continue
    mc stat "$SRC/$SLOT/$v/saved_model.pb" >/dev/null 2>&1 || continue
    tmp="$DEST/$SLOT/.incoming-$v"
    rm -rf "$tmp"
    mc cp --recursive --quiet "$SRC/$SLOT/$v/" "$tmp/" && mv "$tmp" "$DEST/$SLOT/$v" && echo "synced $SLOT/$v"
  done
  for d in "$DEST/$SLOT"/*; do
    v=$(basename "$d")
    case "$v" in *[!0-9]*|'') continue ;; esac
    echo "$remote" | grep -qx "$v" || { rm -rf "$d"; echo "removed $SLOT/$v"; }
  done
  sleep "$INTERVAL"
done
