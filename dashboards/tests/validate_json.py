#!/usr/bin/env python3
"""Validates every JSON file of the Power BI project that declares a `$schema` against Microsoft's
published schemas, offline.

The schemas are Microsoft's (github.com/microsoft/json-schemas, MIT), not copied into this
repository: a folder holds each file at the path that follows https://developer.microsoft.com/json-schemas/
in its URL, the URL prefix is mapped onto that folder, and nothing is fetched from the network.

Usage: validate_json.py [--schemas DIR] [PROJECT_DIR]
  PROJECT_DIR  default: the dashboards/ folder this script sits in
  --schemas    default: $CARDIO_SCHEMA_DIR/powerbi-schemas
Exit status: 0 all valid; 1 a file is invalid (or declares no known schema); 2 usage error.
"""

import argparse
import json
import os
import pathlib
import sys

from jsonschema import validators
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource

PREFIX = "https://developer.microsoft.com/json-schemas/"
# Extensions of the PBIP files that are JSON: .pbip, definition.pbir, definition.pbism, *.json.
JSON_SUFFIXES = {".json", ".pbip", ".pbir", ".pbism"}


def make_registry(schemas: pathlib.Path) -> Registry:
    def retrieve(uri: str) -> Resource:
        if not uri.startswith(PREFIX):
            raise NoSuchResource(ref=uri)
        path = schemas / uri[len(PREFIX):].split("#", 1)[0]
        if not path.is_file():
            raise NoSuchResource(ref=uri)
        return Resource.from_contents(json.loads(path.read_text(encoding="utf-8")))

    return Registry(retrieve=retrieve)


def project_files(root: pathlib.Path):
    for path in sorted(root.rglob("*")):
        if "node_modules" in path.parts or not path.is_file():
            continue
        if path.suffix in JSON_SUFFIXES:
            yield path


def main() -> int:
    here = pathlib.Path(__file__).resolve().parent
    default_project = here.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("project", nargs="?", type=pathlib.Path, default=default_project)
    parser.add_argument("--schemas", type=pathlib.Path, default=None)
    args = parser.parse_args()

    schemas = args.schemas
    if schemas is None and os.environ.get("CARDIO_SCHEMA_DIR"):
        schemas = pathlib.Path(os.environ["CARDIO_SCHEMA_DIR"]) / "powerbi-schemas"
    if schemas is None:
        print("validate_json: give --schemas DIR or set CARDIO_SCHEMA_DIR", file=sys.stderr)
        return 2
    if not schemas.is_dir():
        print(f"validate_json: schema folder {schemas} not found", file=sys.stderr)
        return 2
    registry = make_registry(schemas)

    checked = failed = 0
    for path in project_files(args.project):
        rel = path.relative_to(args.project)
        raw = path.read_bytes()
        if raw.startswith(b"\xef\xbb\xbf"):
            print(f"FAIL {rel}: starts with a UTF-8 BOM (Power BI project files are UTF-8 without BOM)")
            failed += 1
            continue
        try:
            doc = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as e:
            print(f"FAIL {rel}: not UTF-8 JSON: {e}")
            failed += 1
            continue
        uri = doc.get("$schema") if isinstance(doc, dict) else None
        if uri is None:
            continue
        checked += 1
        if not uri.startswith(PREFIX) or not (schemas / uri[len(PREFIX):]).is_file():
            print(f"FAIL {rel}: $schema {uri} is not in {schemas}")
            failed += 1
            continue
        schema = registry.get_or_retrieve(uri).value.contents
        cls = validators.validator_for(schema)
        validator = cls(schema, registry=registry)
        errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
        if errors:
            failed += 1
            for e in errors[:5]:
                where = "/".join(str(p) for p in e.absolute_path) or "(root)"
                print(f"FAIL {rel}: at {where}: {e.message[:300]}")
        else:
            print(f"ok   {rel}")
    print(f"validate_json: {checked} files with $schema, {failed} failed")
    if checked == 0:
        print("validate_json: no file declares $schema, nothing was checked")
        return 1
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
