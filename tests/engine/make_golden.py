"""Regenerate data/golden.json with the numpy reference backend (run once; commit the result).

python tests/engine/make_golden.py
"""

import json
from pathlib import Path

from aigora.engine import Encoder, load_default_model

DATA = Path(__file__).parent / "data"
TRACED = 4


def main() -> None:
    import hashlib

    sentences = json.loads((DATA / "sentences.json").read_text("utf-8"))
    model = load_default_model()
    encoder = Encoder(model, backend="numpy")
    embeddings = encoder.embed(sentences, batch_size=7)
    _, trace = encoder.embed_with_trace(sentences[TRACED])
    golden = {
        "model_root": model.root_hex,
        "embeddings_sha256": hashlib.sha256(embeddings.tobytes()).hexdigest(),
        "per_sentence_sha256": [hashlib.sha256(row.tobytes()).hexdigest() for row in embeddings],
        "traced_sentence": TRACED,
        "trace_root": "0x" + trace.root.hex(),
    }
    (DATA / "golden.json").write_text(json.dumps(golden, indent=1) + "\n", "utf-8")


if __name__ == "__main__":
    main()
