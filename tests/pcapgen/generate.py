"""generate(outdir): runs every case of the catalogue and writes its files; returns their paths."""
import os

from captures import CATALOGUE, demo_capture, error_files
import tunnel_captures  # noqa: F401  (registers the tunnelled cases in CATALOGUE)


def build_files():
    """{relative path: bytes} for everything the generator owns under pcaps/."""
    files = {}
    rows = ["| capture | link | what it covers |", "|---|---|---|"]
    for make in CATALOGUE:
        cap = make()
        files[cap.file_name()] = cap.file_bytes()
        files[cap.name + ".expected.jsonl"] = cap.expected_bytes()
        rows.append(f"| `{cap.file_name()}` | {type(cap.link).__name__} | {cap.description} "
                    f"({len(cap.expected)} alert{'s' if len(cap.expected) != 1 else ''}) |")
    files.update(error_files())
    demo = demo_capture()
    files[demo.file_name()] = demo.file_bytes()
    files[demo.name + ".expected.jsonl"] = demo.expected_bytes()
    table = "# Generated captures\n\nWritten by `scripts/make-pcaps` (tests/pcapgen/captures.py); do not edit.\n\n"
    files["GENERATED.md"] = (table + "\n".join(rows) + "\n").encode()
    return files


def generate(outdir):
    written = []
    for relative, data in sorted(build_files().items()):
        path = os.path.join(outdir, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as out:
            out.write(data)
        written.append(relative)
    return written
