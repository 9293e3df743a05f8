"""The snapshot of 100,000 passages: cutting, embedding, grouping copies, the tree, the file.

    python bench/snapshot.py [--passages 100000] [--sample 1000] [--threads 2]

A store of long documents (standard-library docstrings as paragraphs, about 1,000 tokens and
8 passages each) is snapshotted by `build_snapshot` with a rich progress bar, as `aigora
snapshot` does. Embedding 100,000 passages with the integer engine takes over an hour on two
cores, so the run splits the work: everything but the model runs at full size with a stand-in
embedder (a unit vector drawn from each passage's text's SHA-256, scaled to the int8 norm 127 of
a real embedding: no two passages are near, so every one is an item and the copy grouping does
its full work), and the engine's own rate is measured on `--sample` of
the same passages in the same run. The total is the sum; the ratio printed is the rest of the
pipeline against the embedding it waits on.
"""

import argparse
import hashlib
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

from aigora.core.cid import cid_of
from aigora.engine import Encoder, load_default_model
from aigora.engine.evaluation import stdlib_docstrings
from aigora.index import AdmissionPolicy, build_snapshot
from aigora.store import BlobStore, make_engine, migrate, session_scope, sqlite_url
from aigora.store.content_models import ContentItem


class HashedEmbedder:
    """The engine's passage rule and token counts, with int8 vectors drawn from each text's
    SHA-256 (not a model: a stand-in that costs nothing, so the rest can be timed)."""

    def __init__(self, encoder: Encoder) -> None:
        self.passage_tokens = encoder.passage_tokens
        self.passage_overlap = encoder.passage_overlap
        self.token_count = encoder.token_count

    def embed(self, sentences, progress=None):
        out = np.empty((len(sentences), 384), dtype=np.int8)
        for i, text in enumerate(sentences):
            seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
            g = np.random.default_rng(seed).standard_normal(384)
            out[i] = np.round(127 * g / np.linalg.norm(g))  # the norm of a real embedding
            if progress is not None and i % 256 == 255:
                progress(256)
        if progress is not None:
            progress(len(sentences) % 256)
        return out


def documents(count: int) -> list[str]:
    """`count` distinct documents of a title and 40 docstrings drawn at random (seeded)."""
    docs = stdlib_docstrings()
    rng = np.random.default_rng(0)
    return [
        f"Document {d}.\n\n" + "\n\n".join(docs[int(i)] for i in rng.choice(len(docs), 40))
        for d in range(count)
    ]


def store(directory: Path, texts: list[str]):
    engine = make_engine(sqlite_url(directory / "db.sqlite"))
    migrate(engine)
    blobs = BlobStore(directory / "blobs")
    now = datetime.now(UTC)
    rows = []
    for i, text in enumerate(texts):
        body = text.encode()
        blobs.put(body)
        rows.append(
            {
                "cid": cid_of(body),
                "author": "0x" + "44" * 20,
                "media_type": "text/plain",
                "license": "CC-BY-4.0",
                "url": "",
                "url_hash": None,
                "created_at": 1,
                "size": len(body),
                "digest": f"0x{i:064x}",
                "signature": "0x" + "00" * 65,
                "received_at": now,
                "anchor_id": None,
            }
        )
    with engine.begin() as connection:
        connection.execute(ContentItem.__table__.insert(), rows)
    return engine, blobs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--sample", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    encoder = Encoder(load_default_model(), threads=args.threads)
    per_document = 7.5  # about; only sizes the store (the printout counts)
    texts = documents(int(args.passages / per_document) + 1)
    with tempfile.TemporaryDirectory() as tmp:
        engine, blobs = store(Path(tmp), texts)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} passages · {task.fields[rate]}"),
            TimeRemainingColumn(),
        )
        start = time.perf_counter()
        with Progress(*columns) as bar, session_scope(engine) as session:
            task = bar.add_task("snapshot", total=args.passages, rate="")

            def step(n: int) -> None:
                done = bar.tasks[0].completed + n
                rate = done / (time.perf_counter() - start)
                bar.update(task, advance=n, rate=f"{rate:,.0f}/s")

            built = build_snapshot(
                session, blobs, HashedEmbedder(encoder), bytes(32), AdmissionPolicy(), None, step
            )
        built.snapshot.root  # noqa: B018  (the tree)
        built.snapshot.save(Path(tmp) / "snapshot.npz")
        rest_s = time.perf_counter() - start
        n = len(built.snapshot)
        sample = [
            texts[p.cid_index][p.start : p.end]
            for p in _sample_passages(built.snapshot, texts, args.sample)
        ]
        encoder.embed(sample[:64])  # warm-up (torch.compile)
        start = time.perf_counter()
        encoder.embed(sample)
        rate = len(sample) / (time.perf_counter() - start)
        size = (Path(tmp) / "snapshot.npz").stat().st_size
        engine.dispose()
    embed_s = n / rate
    print(
        f"{len(texts):,} documents, {n:,} passages ({n / len(texts):.1f} per document), "
        f"{len(built.snapshot.copies)} copies; snapshot file {size / 1e6:.0f} MB"
    )
    print(f"cutting, grouping copies, tree and file at full size: {rest_s:.1f} s")
    print(f"integer engine on {len(sample)} of the passages: {rate:.1f} passages/s")
    print(f"projected snapshot of {n:,} passages: {(rest_s + embed_s) / 60:.0f} min")
    print(f"ratio rest / embedding: {rest_s / embed_s:.3f}")


class _Located:
    def __init__(self, cid_index: int, start: int, end: int) -> None:
        self.cid_index, self.start, self.end = cid_index, start, end


def _sample_passages(snapshot, texts: list[str], count: int) -> list[_Located]:
    index = {cid_of(t.encode()): i for i, t in enumerate(texts)}
    step = max(1, len(snapshot) // count)
    return [_Located(index[p.cid], p.start, p.end) for p in snapshot.passages[::step][:count]]


if __name__ == "__main__":
    main()
