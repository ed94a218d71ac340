#!/usr/bin/env python3
"""Bundles a subset of the public-domain Gutenberg books as pre-training text.

The source file keeps Gutenberg's hard wrapping at about 70 columns, but `pretrain` reads one
line as one segment, so every paragraph is joined onto one line here. Books are taken in the
source's (already shuffled) order until --megabytes of paragraph text are kept; paragraphs
shorter than --min-chars (chapter headings, contents lines) are dropped. The chosen books' rows
of books.tsv are written beside the text, for attribution.

  python3 scripts/bundle_gutenberg.py ../shared/data/lm/gutenberg data/gutenberg --megabytes 20
"""
import argparse
import gzip
import os
import re
import sys

HEADING = re.compile(r"^= (.*) =$")


def books(path):
    """Yields (heading, paragraphs) for each book of a Gutenberg text file."""
    heading, paragraphs, lines = None, [], []
    with gzip.open(path, "rt", encoding="utf-8") as text:
        for raw in text:
            line = raw.strip()
            match = HEADING.match(line)
            if match:
                if lines:
                    paragraphs.append(" ".join(lines))
                if heading is not None:
                    yield heading, paragraphs
                heading, paragraphs, lines = match.group(1), [], []
            elif line:
                lines.append(" ".join(line.split()))  # contents tables pad with runs of spaces
            elif lines:
                paragraphs.append(" ".join(lines))
                lines = []
    if lines:
        paragraphs.append(" ".join(lines))
    if heading is not None:
        yield heading, paragraphs


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source", help="folder with train.txt.gz and books.tsv")
    parser.add_argument("output", help="folder to write train.txt.gz and books.tsv into")
    parser.add_argument("--megabytes", type=float, default=20.0)
    parser.add_argument("--min-chars", type=int, default=40)
    args = parser.parse_args()

    # books.tsv is read and written as plain tab-separated lines: titles hold quotes and "\\r".
    with open(os.path.join(args.source, "books.tsv"), encoding="utf-8") as table:
        header, *lines = table.read().splitlines()
    columns = header.split("\t")
    by_heading = {}
    for line in lines:
        row = dict(zip(columns, line.split("\t")))
        if row["split"] == "train":
            by_heading[f"{row['title']} by {row['author']}"] = line

    os.makedirs(args.output, exist_ok=True)
    budget = int(args.megabytes * 1e6)
    kept_rows, kept_bytes = [], 0
    text_path = os.path.join(args.output, "train.txt.gz")
    # mtime=0 keeps the gzip bytes the same on every run.
    with open(text_path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as packed:
        for heading, paragraphs in books(os.path.join(args.source, "train.txt.gz")):
            if kept_bytes >= budget:
                break
            if heading not in by_heading:
                sys.exit(f"{args.source}/books.tsv: no train row for the book '{heading}'")
            kept = [p for p in paragraphs if len(p) >= args.min_chars]
            text = "".join(p + "\n" for p in kept).encode("utf-8")
            packed.write(text)
            kept_bytes += len(text)
            kept_rows.append(by_heading[heading])

    with open(os.path.join(args.output, "books.tsv"), "w", encoding="utf-8") as table:
        table.write("".join(line + "\n" for line in [header] + kept_rows))
    print(f"{len(kept_rows)} books, {kept_bytes} bytes of paragraphs -> {text_path} "
          f"({os.path.getsize(text_path)} bytes gzipped)")


if __name__ == "__main__":
    main()
