"""Validates rendered Kubernetes manifests against the Kubernetes API's JSON
schemas, offline, with the `kubernetes-validate` package (PyPI), which ships
the schemas of every Kubernetes minor it supports inside the package.

    python3 k8s-validate.py --kubernetes-version 1.33.0 [--crd-group kafka.strimzi.io]... FILE|-

Each object is validated in strict mode (unknown fields are errors), with the
package's schemas and its own schema lookup (kubernetes_validate.validate),
and every error of an invalid object is listed. An object whose kind has no
schema in the package is an error, except for the API groups passed with
--crd-group (custom resources such as Strimzi's, whose CRD schemas the
package does not have): their `metadata` is validated against the ObjectMeta
schema and they are reported as "custom", for the caller to check their spec
structurally. Prints one JSON document {"objects": [{kind, apiVersion, name,
status: valid|invalid|custom, errors}], "ok": bool} (with --emit-documents
also the objects themselves, as JSON); exit status 0 when ok.
"""
import argparse
import json
import re
import sys

import jsonschema
import kubernetes_validate
import yaml
from kubernetes_validate import utils as kv
from referencing import Registry, Resource


def schema_dir(version):
    """The package's strict schema directory for a Kubernetes version, as validate() picks it."""
    usable = [v for v in kv.all_versions() if kv.major_minor(v) <= kv.major_minor(version)]
    if not usable:
        raise SystemExit(f"kubernetes-validate has no schemas for Kubernetes {version}")
    return f"v{usable[-1]}-local-strict"


def all_errors(doc, filename, version):
    """Every schema error of doc against one of the package's schema files."""
    directory = schema_dir(version)
    schema = kv.schema_contents(f"kubernetes-json-schema/{directory}/{filename}", version)
    definitions = kv.schema_contents(f"kubernetes-json-schema/{directory}/_definitions.json", version)
    registry = Resource.from_contents(definitions) @ (Resource.from_contents(schema) @ Registry())
    validator = jsonschema.validators.Draft202012Validator(schema, registry=registry)
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}"
            for e in sorted(validator.iter_errors(doc), key=lambda e: list(map(str, e.absolute_path)))]


def check(doc, version, crd_groups):
    kind = doc.get("kind", "?")
    api_version = doc.get("apiVersion", "?")
    meta = doc.get("metadata") or {}
    entry = {"kind": kind, "apiVersion": api_version, "name": meta.get("name", "?"), "status": "valid", "errors": []}
    group = api_version.split("/")[0] if "/" in api_version else ""
    if group in crd_groups:
        entry["status"] = "custom"
        entry["errors"] = [f"metadata.{e}" for e in all_errors(meta, "objectmeta-meta-v1.json", version)]
    else:
        try:
            kubernetes_validate.validate(doc, version, strict=True)
        except kubernetes_validate.ValidationError as e:
            # the package stops at the first error; list them all, same schema
            # file naming of the package: apps/v1 -> apps-v1, networking.k8s.io/v1 -> networking-v1
            group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
            try:
                entry["errors"] = all_errors(doc, f"{kind.lower()}-{group_version}.json", version)
            except Exception:  # fall back to the package's own message
                entry["errors"] = []
            if not entry["errors"]:
                entry["errors"] = [f"{'.'.join(str(p) for p in e.caught.absolute_path)}: {e.caught.message}"]
        except kubernetes_validate.SchemaNotFoundError:
            entry["errors"] = [f"no schema for {api_version} {kind} in Kubernetes {version} (a typo, a removed API,"
                               " or a custom resource not declared with --crd-group)"]
        except kubernetes_validate.InvalidSchemaError as e:
            entry["errors"] = [str(e)]
    if entry["errors"]:
        entry["status"] = "invalid"
    return entry


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kubernetes-version", required=True)
    parser.add_argument("--crd-group", action="append", default=[])
    parser.add_argument("--emit-documents", action="store_true", help="include the parsed objects in the output")
    parser.add_argument("file")
    args = parser.parse_args()
    text = sys.stdin.read() if args.file == "-" else open(args.file, encoding="utf-8").read()
    try:
        docs = [d for d in yaml.safe_load_all(text) if d is not None]
    except yaml.YAMLError as e:
        print(json.dumps({"ok": False, "objects": [], "error": f"not YAML: {e}"}))
        sys.exit(1)
    results = [check(d, args.kubernetes_version, set(args.crd_group)) for d in docs]
    ok = bool(results) and all(r["status"] != "invalid" for r in results)
    json.dump({"kubernetesVersion": args.kubernetes_version, "schemas": schema_dir(args.kubernetes_version),
               "package": getattr(kubernetes_validate, "__version__", "?"), "objects": results, "ok": ok,
               **({"documents": docs} if args.emit_documents else {})},
              sys.stdout, indent=2)
    sys.stdout.write("\n")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
