#!/bin/sh
# Gives each crate whose manifest is named on the command line empty sources, so that the image's
# dependency layer can run `cargo build` on the manifests and Cargo.lock alone: that layer is
# rebuilt only when a manifest or the lock file changes, not on every edit of our own code.
#
# Besides src/lib.rs and src/main.rs it creates every target file that a manifest names in a
# [lib], [[bin]], [[bench]], [[test]] or [[example]] table, because cargo refuses to load a
# manifest whose declared targets have no source file.
set -eu

for manifest in "$@"; do
  dir=$(dirname "$manifest")
  mkdir -p "$dir/src"
  : >"$dir/src/lib.rs"
  printf 'fn main() {}\n' >"$dir/src/main.rs"
  awk '
    function flush() {
      if (kind != "") {
        if (path != "") file = path
        else if (kind == "bin") file = "src/bin/" name ".rs"
        else if (kind == "bench") file = "benches/" name ".rs"
        else if (kind == "test") file = "tests/" name ".rs"
        else if (kind == "example") file = "examples/" name ".rs"
        else file = ""
        if (file != "") print file
      }
      kind = ""; name = ""; path = ""
    }
    /^\[\[?(lib|bin|bench|test|example)\]\]?[ \t]*$/ { flush(); kind = $0; gsub(/[][ \t]/, "", kind); next }
    /^\[/ { flush(); next }
    kind != "" && /^name[ \t]*=/ { name = $0; sub(/^name[ \t]*=[ \t]*"/, "", name); sub(/".*/, "", name) }
    kind != "" && /^path[ \t]*=/ { path = $0; sub(/^path[ \t]*=[ \t]*"/, "", path); sub(/".*/, "", path) }
    END { flush() }
  ' "$manifest" | while read -r file; do
    mkdir -p "$dir/$(dirname "$file")"
    [ -e "$dir/$file" ] || printf 'fn main() {}\n' >"$dir/$file"
  done
done
