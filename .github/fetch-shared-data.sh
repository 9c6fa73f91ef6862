#!/usr/bin/env bash
# Fetch the third-party data the tests read (tests/conftest.py) into DEST, unless present:
# the official BBQ JSONL files of six categories (CC BY 4.0) and WikiText-2 (CC BY-SA 3.0).
# Used by .github/workflows/ci.yml only; never copied into the repository.
set -euo pipefail
dest="${1:?usage: fetch-shared-data.sh DEST}"
bbq="https://raw.githubusercontent.com/nyu-mll/BBQ/main/data"
wikitext="https://raw.githubusercontent.com/pytorch/examples/main/word_language_model/data/wikitext-2"
mkdir -p "$dest/bbq" "$dest/wikitext-2"
for category in Age Disability_status Nationality Physical_appearance Religion Sexual_orientation; do
  [ -s "$dest/bbq/$category.jsonl" ] || curl -fsSL --retry 3 -o "$dest/bbq/$category.jsonl" "$bbq/$category.jsonl"
done
for split in valid test; do
  [ -s "$dest/wikitext-2/$split.txt" ] || curl -fsSL --retry 3 -o "$dest/wikitext-2/$split.txt" "$wikitext/$split.txt"
done
