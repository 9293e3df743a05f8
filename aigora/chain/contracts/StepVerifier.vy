# pragma version ~=0.4.3
# pragma optimize codesize
"""
@title Aigora step verifier
@notice One-step recomputation for a dispute over an integer BERT execution trace: given one
        element of one op, the contract recomputes what that element must be from its inputs,
        exactly as `aigora/engine/_numpy.py` defines the integer model. The inputs are trace
        chunks proven against the operator's trace root (positional trees) and model chunks
        proven against the registered model root (OpenZeppelin sorted trees). The caller
        (Disputes) compares the result with the operator's claimed value.
@dev Input layout (built by `aigora.verify._step.step_arguments`):
     - `_ops`: the `tokens` op leaf first (it fixes n, the token count), then every trace op whose
       chunks are supplied, each proven against the trace root;
     - `_chunks`: the trace chunks in the order the recomputation reads them: each contiguous byte
       span's chunks in ascending order, then each strided column's distinct chunks ascending;
     - `_params`: the model chunks in read order (a weight row's chunks, then the site's mult,
       offset and shift chunks of the output channel).
     Every supplied item is proven, must sit exactly where the recomputation reads it and must
     be used: a missing, extra or badly proven input reverts with a reason.
     Limits: n <= 256 tokens (ctx reads one qkv chunk per token plus up to two probs chunks, so
     MAX_CHUNKS = 258); hidden <= 512, intermediate <= 2048, head dim and widths multiples of 32;
     at most 10 layers (one-digit op names).
"""

from .lib import merkle

# ---- formats shared with aigora.engine ---------------------------------------------------------

CHUNK: constant(uint256) = 1024
MAX_TOKENS: constant(uint256) = 256
MAX_LAYERS: constant(uint256) = 10
MAX_CHUNKS: constant(uint256) = 258
MAX_PARAMS: constant(uint256) = 5
MAX_SPAN: constant(uint256) = 2048  # bytes of one contiguous read (a row)
SPAN: constant(uint256) = 3104  # a gathered span: up to three chunks plus 32 zero bytes
MAX_VALUES: constant(uint256) = 512  # int32 values decoded from one span
MAX_WORDS: constant(uint256) = 64  # 32-byte words of one int8 row

INT8_MAX: constant(int256) = 127
INT16_MAX: constant(int256) = 32767
INT32_MAX: constant(int256) = 2147483647
LN_INV_BITS: constant(uint256) = 48
LN_FRAC_BITS: constant(uint256) = 24
EXP_IN_BITS: constant(uint256) = 16
EXP_OUT_BITS: constant(int256) = 20
EXP_POLY_BITS: constant(int256) = 30
EXP_MIN_INPUT: constant(int256) = -20 * 65536
LN2_Q: constant(int256) = 45426
EXP_COEFFS: constant(int256[6]) = [1073741765, 1073735662, 536765846, 178297639, 42844901, 6358820]
PROB_BITS: constant(uint256) = 15
PROB_INV_BITS: constant(uint256) = 47
GELU_BITS: constant(uint256) = 12
GELU_CLAMP: constant(int256) = 4 * 4096
PHI_ARG_BITS: constant(uint256) = 24
PHI_POLY_BITS: constant(uint256) = 30
PHI_COEFFS: constant(int256[9]) = [
    1713439295,
    -4567698177,
    10917945143,
    -20316728144,
    29085540413,
    -30729741620,
    22155831947,
    -9560885742,
    1839143767,
]

BYTE_BIAS: constant(uint256) = max_value(uint256) // 255 * 128  # 0x80 in every byte
LOW_BYTES: constant(uint256) = max_value(uint256) // 65535 * 255  # 0x00ff in every 16-bit lane
LOW_HALVES: constant(uint256) = max_value(uint256) // (2**32 - 1) * 65535  # 0x0000ffff per 32 bits
DIGITS: constant(String[10]) = "0123456789"

# ---- op kinds: 0..3 the embedding ops, 4..18 a layer's ops in order, then pool and embedding -----

K_SUM: constant(uint256) = 1
K_LN_RES: constant(uint256) = 2
K_LN_MM: constant(uint256) = 3
K_QKV: constant(uint256) = 4
K_SCORES: constant(uint256) = 5
K_PROBS: constant(uint256) = 6
K_CTX: constant(uint256) = 7
K_ATTN_OUT: constant(uint256) = 8
K_ATTN_SUM: constant(uint256) = 9
K_LN1_RES: constant(uint256) = 10
K_LN1_MM: constant(uint256) = 11
K_FFN_IN: constant(uint256) = 12
K_GELU: constant(uint256) = 13
K_GELU_OUT: constant(uint256) = 14
K_FFN_OUT: constant(uint256) = 15
K_FFN_SUM: constant(uint256) = 16
K_LN2_RES: constant(uint256) = 17
K_LN2_MM: constant(uint256) = 18
K_POOL: constant(uint256) = 19
K_EMBEDDING: constant(uint256) = 20

# ---- argument structs (built by aigora.verify._step) --------------------------------------------

struct OpLeaf:
    index: uint256
    name: String[32]
    dtype: String[8]
    shape: DynArray[uint256, 3]
    tensor_root: bytes32
    proof: DynArray[bytes32, 8]

struct TraceChunk:
    op: uint256
    chunk_index: uint256
    chunk: Bytes[1024]
    proof: DynArray[bytes32, 16]

struct ModelChunk:
    tensor: uint256
    name: String[40]
    dtype: String[8]
    shape: DynArray[uint256, 2]
    tensor_root: bytes32
    tensor_proof: DynArray[bytes32, 10]
    chunk_index: uint256
    chunk: Bytes[1024]
    chunk_proof: DynArray[bytes32, 16]

struct Read:
    op: uint256
    start: uint256  # first byte
    length: uint256  # bytes of a span; element width of a column
    stride: uint256  # 0 for a span; bytes between a column's elements
    count: uint256  # elements of a column

struct ParamRead:
    name: String[40]
    dtype: String[8]
    start: uint256
    length: uint256

layers: public(immutable(uint256))
hidden: public(immutable(uint256))
heads: public(immutable(uint256))
intermediate: public(immutable(uint256))


@deploy
def __init__(_layers: uint256, _hidden: uint256, _heads: uint256, _intermediate: uint256):
    self._require(_layers >= 1 and _layers <= MAX_LAYERS, "layers outside 1..10")
    self._require(_heads >= 1 and _hidden % _heads == 0, "hidden not a multiple of heads")
    self._require((_hidden // _heads) % 32 == 0, "head dim not a multiple of 32")
    self._require(_hidden % 32 == 0 and 4 * _hidden <= MAX_SPAN, "hidden must be 32..512 step 32")
    self._require(_intermediate % 32 == 0 and _intermediate <= MAX_SPAN, "intermediate must be <= 2048")
    self._require(_intermediate > 0 and _hidden > 0, "widths must be positive")
    layers = _layers
    hidden = _hidden
    heads = _heads
    intermediate = _intermediate


# ---- views ------------------------------------------------------------------------------------

@view
@external
def op_count() -> uint256:
    """@notice How many ops a trace of this model has: 4 + 15 per layer - 1 + 2."""
    return self._op_count()


@view
@external
def expected_leaf(_op: uint256, _tokens: uint256) -> (String[32], String[8], DynArray[uint256, 3]):
    """@notice The name, dtype and shape op `_op` has in a trace of `_tokens` tokens."""
    self._require(_op < self._op_count(), "op index out of range")
    self._require(_tokens >= 1 and _tokens <= MAX_TOKENS, "token count outside 1..256")
    return self._leaf_of(_op, _tokens)


@view
@external
def recompute(
    _trace_root: bytes32,
    _op_count: uint256,
    _model_root: bytes32,
    _op: uint256,
    _element: uint256,
    _ops: DynArray[OpLeaf, 4],
    _chunks: DynArray[TraceChunk, MAX_CHUNKS],
    _params: DynArray[ModelChunk, MAX_PARAMS],
) -> int256:
    """
    @notice The value element `_element` (C order) of op `_op` must have, recomputed from proven
            inputs. Reverts with a reason when an input is missing, extra or badly proven.
    @param _trace_root The operator's trace root (positional tree over `_op_count` op leaves).
    @param _model_root The registered model root.
    """
    self._require(_op_count == self._op_count(), "trace has the wrong op count")
    self._require(_op != 0, "tokens are an input")
    self._require(_op < _op_count, "op index out of range")
    self._require(len(_ops) > 0 and _ops[0].index == 0, "tokens op leaf must come first")
    self._require(len(_ops[0].shape) == 1, "op leaf has the wrong shape")
    n: uint256 = _ops[0].shape[0]
    self._require(n >= 1 and n <= MAX_TOKENS, "token count outside 1..256")
    size: uint256 = self._size(self._leaf_of(_op, n)[2])
    self._require(_element < size, "element index out of range")
    indices: DynArray[uint256, 4] = []
    roots: DynArray[bytes32, 4] = []
    sizes: DynArray[uint256, 4] = []
    for i: uint256 in range(len(_ops), bound=4):
        indices.append(_ops[i].index)
        roots.append(_ops[i].tensor_root)
        sizes.append(self._check_op(_ops[i], n, _trace_root, _op_count))
    for i: uint256 in range(len(_chunks), bound=MAX_CHUNKS):
        at: uint256 = self._find(indices, _chunks[i].op)
        self._check_chunk(_chunks[i], roots[at], sizes[at])
    for i: uint256 in range(len(_params), bound=MAX_PARAMS):
        self._check_param(_params[i], _model_root)

    kind: uint256 = 0
    layer: uint256 = 0
    kind, layer = self._kind(_op)

    # trace inputs: contiguous spans and strided columns, chunks consumed in order
    row: Bytes[SPAN] = b""  # the first long span (a row)
    other: Bytes[SPAN] = b""  # the second long span (scores' key)
    small: DynArray[int256, 2] = []  # single elements
    column: DynArray[int256, MAX_TOKENS] = []
    reads: uint256[10] = self._trace_reads(kind, layer, n, _element)
    s: uint256 = 0
    for i: uint256 in range(2):
        op: uint256 = reads[5 * i]
        start: uint256 = reads[5 * i + 1]
        length: uint256 = reads[5 * i + 2]
        stride: uint256 = reads[5 * i + 3]
        if length == 0:
            continue
        if stride == 0:
            first: Bytes[CHUNK] = b""
            second: Bytes[CHUNK] = b""
            third: Bytes[CHUNK] = b""
            for ci: uint256 in range(start // CHUNK, (start + length - 1) // CHUNK + 1, bound=3):
                self._require(s < len(_chunks), "missing input chunk")
                self._require(_chunks[s].op == op and _chunks[s].chunk_index == ci, "missing input chunk")
                if ci == start // CHUNK:
                    first = _chunks[s].chunk
                elif ci == start // CHUNK + 1:
                    second = _chunks[s].chunk
                else:
                    third = _chunks[s].chunk
                s += 1
            joined: Bytes[SPAN] = self._join(first, second, third, start % CHUNK, length)
            if length <= 8:
                small.append(self._int(joined, 0, length))
            elif len(row) == 0:
                row = joined
            else:
                other = joined
        else:
            previous: uint256 = max_value(uint256)
            for t: uint256 in range(reads[5 * i + 4], bound=MAX_TOKENS):
                pos: uint256 = start + t * stride
                ci: uint256 = pos // CHUNK
                if ci != previous:
                    if previous != max_value(uint256):
                        s += 1
                    self._require(s < len(_chunks), "missing input chunk")
                    self._require(_chunks[s].op == op and _chunks[s].chunk_index == ci, "missing input chunk")
                    previous = ci
                raw: uint256 = 0
                if length == 1:
                    raw = convert(slice(_chunks[s].chunk, pos % CHUNK, 1), uint256)
                else:
                    raw = convert(slice(_chunks[s].chunk, pos % CHUNK, 2), uint256)
                column.append(self._from_le(raw, length))
            s += 1
    self._require(s == len(_chunks), "unused input chunk")
    # model inputs: a weight row, then a site's channel; or a word and a position
    site: String[32] = ""
    channel: uint256 = 0
    weight_row: uint256 = 0
    k: uint256 = 0
    site, channel, weight_row, k = self._param_plan(kind, layer, _op, n, _element, small)
    weight: Bytes[SPAN] = b""
    values: DynArray[int256, 3] = []  # a site's mult, offset, shift; or a word and a position
    s = 0
    for i: uint256 in range(4):
        name: String[40] = ""
        start: uint256 = 0
        length: uint256 = 0
        name, start, length = self._param_read(kind, site, channel, weight_row, k, i)
        if length == 0:
            break
        first: Bytes[CHUNK] = b""
        second: Bytes[CHUNK] = b""
        third: Bytes[CHUNK] = b""
        for ci: uint256 in range(start // CHUNK, (start + length - 1) // CHUNK + 1, bound=3):
            self._require(s < len(_params), "missing model chunk")
            self._require(_params[s].name == name, "model chunk of the wrong tensor")
            self._require(_params[s].chunk_index == ci, "missing model chunk")
            if ci == start // CHUNK:
                first = _params[s].chunk
            elif ci == start // CHUNK + 1:
                second = _params[s].chunk
            else:
                third = _params[s].chunk
            s += 1
        joined: Bytes[SPAN] = self._join(first, second, third, start % CHUNK, length)
        if length <= 8:
            values.append(self._int(joined, 0, length))
        else:
            weight = joined
    self._require(s == len(_params), "unused model chunk")
    return self._compute(kind, n, _element, row, other, small, column, weight, values)


# ---- the trace layout ---------------------------------------------------------------------------

@view
@internal
def _op_count() -> uint256:
    return 15 * layers + 5


@view
@internal
def _kind(_op: uint256) -> (uint256, uint256):
    """(kind, layer) of op `_op`; the last layer has no ln2.mm, so pool follows its ln2.res."""
    last: uint256 = 15 * layers + 3
    if _op < 4:
        return _op, 0
    if _op < last:
        return 4 + (_op - 4) % 15, (_op - 4) // 15
    if _op == last:
        return K_POOL, 0
    self._require(_op == last + 1, "op index out of range")
    return K_EMBEDDING, 0


@view
@internal
def _leaf_of(_op: uint256, _n: uint256) -> (String[32], String[8], DynArray[uint256, 3]):
    kind: uint256 = 0
    layer: uint256 = 0
    kind, layer = self._kind(_op)
    name: String[32] = ""
    shape: DynArray[uint256, 3] = [_n, hidden]
    if kind == 0:
        return "tokens", "int32", [_n]
    elif kind == K_SUM:
        name = "embeddings.sum"
    elif kind == K_LN_RES:
        name = "embeddings.ln.res"
    elif kind == K_LN_MM:
        name = "embeddings.ln.mm"
    elif kind == K_POOL:
        return "pool", "int32", [hidden]
    elif kind == K_EMBEDDING:
        return "embedding", "int8", [hidden]
    else:
        name = concat(self._prefix(layer), self._suffix(kind))
        if kind == K_QKV:
            shape = [_n, 3 * hidden]
        elif kind == K_SCORES or kind == K_PROBS:
            shape = [heads, _n, _n]
        elif kind == K_FFN_IN or kind == K_GELU or kind == K_GELU_OUT:
            shape = [_n, intermediate]
    dtype: String[8] = "int32"
    if kind in [K_LN_MM, K_QKV, K_CTX, K_LN1_MM, K_GELU_OUT, K_LN2_MM]:
        dtype = "int8"
    elif kind in [K_LN_RES, K_ATTN_OUT, K_LN1_RES, K_FFN_OUT, K_LN2_RES]:
        dtype = "int16"
    return name, dtype, shape


@pure
@internal
def _prefix(_layer: uint256) -> String[10]:
    """`layers.<i>.`"""
    return concat("layers.", slice(DIGITS, _layer, 1), ".")


@pure
@internal
def _suffix(_kind: uint256) -> String[8]:
    """The name of a layer op after `layers.<i>.`."""
    if _kind == 4:
        return "qkv"
    if _kind == 5:
        return "scores"
    if _kind == 6:
        return "probs"
    if _kind == 7:
        return "ctx"
    if _kind == 8:
        return "attn_out"
    if _kind == 9:
        return "attn_sum"
    if _kind == 10:
        return "ln1.res"
    if _kind == 11:
        return "ln1.mm"
    if _kind == 12:
        return "ffn_in"
    if _kind == 13:
        return "gelu"
    if _kind == 14:
        return "gelu_out"
    if _kind == 15:
        return "ffn_out"
    if _kind == 16:
        return "ffn_sum"
    if _kind == 17:
        return "ln2.res"
    return "ln2.mm"


@view
@internal
def _trace_reads(_kind: uint256, _layer: uint256, _n: uint256, _e: uint256) -> uint256[10]:
    """The trace bytes element `_e` of an op of kind `_kind` depends on, in read order: a span
    [op, first byte, length, 0, 0] then a span or a column [op, first byte, element width,
    stride, count]; length 0 means no read."""
    b: uint256 = 4 + 15 * _layer
    w: uint256 = hidden
    d: uint256 = hidden // heads
    op: uint256 = 0
    start: uint256 = 0
    length: uint256 = 0
    second: uint256 = 0  # op of the second read
    second_start: uint256 = 0
    second_length: uint256 = 0
    stride: uint256 = 0
    count: uint256 = 0
    if _kind == K_SUM:
        start = _e // w * 4
        length = 4
    elif _kind in [K_LN_RES, K_LN_MM, K_LN1_RES, K_LN1_MM, K_LN2_RES, K_LN2_MM]:
        op = 1
        if _kind == K_LN1_RES or _kind == K_LN1_MM:
            op = b + 5
        elif _kind == K_LN2_RES or _kind == K_LN2_MM:
            op = b + 12
        start = _e // w * 4 * w
        length = 4 * w
    elif _kind in [K_QKV, K_ATTN_OUT, K_FFN_IN, K_FFN_OUT]:
        outputs: uint256 = 0
        length, outputs = self._linear(_kind)
        op = b - 1  # qkv reads the previous layer's ln2.mm (embeddings.ln.mm)
        if _kind == K_ATTN_OUT:
            op = b + 3
        elif _kind == K_FFN_IN:
            op = b + 7
        elif _kind == K_FFN_OUT:
            op = b + 10
        start = _e // outputs * length
    elif _kind == K_SCORES:
        op = b
        second = b
        start = (_e // _n % _n) * 3 * w + _e // (_n * _n) * d
        second_start = (_e % _n) * 3 * w + w + _e // (_n * _n) * d
        length = d
        second_length = d
    elif _kind == K_PROBS or _kind == K_CTX:
        op = b + 2  # probs
        start = _e // _n * _n * 4
        if _kind == K_CTX:
            c: uint256 = _e % w
            start = ((c // d) * _n * _n + _e // w * _n) * 4
            second = b
            second_start = 2 * w + c
            second_length = 1
            stride = 3 * w
            count = _n
        else:
            op = b + 1  # scores
        length = 4 * _n
    elif _kind == K_ATTN_SUM or _kind == K_FFN_SUM:
        op = b - 2
        second = b + 4
        if _kind == K_FFN_SUM:
            op = b + 6
            second = b + 11
        start = 2 * _e
        length = 2
        second_start = 2 * _e
        second_length = 2
    elif _kind == K_GELU or _kind == K_GELU_OUT:
        op = b + _kind - K_GELU + 8  # ffn_in or gelu
        start = 4 * _e
        length = 4
    elif _kind == K_POOL:
        second = 15 * layers + 2
        second_start = 2 * _e
        second_length = 2
        stride = 2 * w
        count = _n
    else:
        op = 15 * layers + 3
        length = 4 * w
    return [op, start, length, 0, 0, second, second_start, second_length, stride, count]


@view
@internal
def _linear(_kind: uint256) -> (uint256, uint256):
    """(input width K, outputs N) of a matrix product; weight rows are (N, K)."""
    if _kind == K_QKV:
        return hidden, 3 * hidden
    if _kind == K_ATTN_OUT:
        return hidden, hidden
    if _kind == K_FFN_IN:
        return hidden, intermediate
    return intermediate, hidden


@view
@internal
def _param_plan(
    _kind: uint256, _layer: uint256, _op: uint256, _n: uint256, _e: uint256, _small: DynArray[int256, 2]
) -> (String[32], uint256, uint256, uint256):
    """(site, output channel, weight row, weight row length) of the model reads of element `_e`;
    for embeddings.sum the channel is the element and the weight row the word's element."""
    w: uint256 = hidden
    name: String[32] = self._leaf_of(_op, _n)[0]
    if _kind == K_SUM:
        self._require(_small[0] >= 0, "negative token id")
        return "", _e, convert(_small[0], uint256) * w + _e % w, 0
    if _kind in [K_LN_RES, K_LN_MM, K_LN1_RES, K_LN1_MM, K_LN2_RES, K_LN2_MM, K_CTX]:
        return name, _e % w, 0, 0
    if _kind in [K_QKV, K_ATTN_OUT, K_FFN_IN, K_FFN_OUT]:
        k: uint256 = 0
        outputs: uint256 = 0
        k, outputs = self._linear(_kind)
        return name, _e % outputs, _e % outputs, k
    if _kind == K_PROBS:
        return concat(self._prefix(_layer), "softmax"), _e // (_n * _n), 0, 0
    if _kind == K_GELU_OUT:
        return name, _e % intermediate, 0, 0
    return "", 0, 0, 0


@pure
@internal
def _param_read(
    _kind: uint256, _site: String[32], _channel: uint256, _row: uint256, _k: uint256, _i: uint256
) -> (String[40], uint256, uint256):
    """Model read `_i`: (tensor name, first byte, length); length 0 ends the list. The dtype
    comes with the proven tensor leaf (int16 embeddings, int8 weights, int32 mult and shift,
    int64 offset), so the name fixes how the bytes decode."""
    if _kind == K_SUM:
        if _i == 0:
            return "embeddings.word", 2 * _row, 2
        if _i == 1:
            return "embeddings.position", 2 * _channel, 2
        return "", 0, 0
    if len(_site) == 0:
        return "", 0, 0
    i: uint256 = _i
    if _k == 0:
        i += 1
    if i > 3:
        return "", 0, 0
    suffix: String[7] = ".weight"
    width: uint256 = 4
    if i == 1:
        suffix = ".mult"
    elif i == 2:
        suffix = ".offset"
        width = 8
    elif i == 3:
        suffix = ".shift"
    if i == 0:
        return concat(_site, suffix), _row * _k, _k
    return concat(_site, suffix), width * _channel, width


# ---- proofs -------------------------------------------------------------------------------------

@view
@internal
def _check_op(_leaf: OpLeaf, _n: uint256, _root: bytes32, _count: uint256) -> uint256:
    """Check an op leaf's name, dtype, shape and positional proof; returns its size in bytes."""
    name: String[32] = ""
    dtype: String[8] = ""
    shape: DynArray[uint256, 3] = []
    name, dtype, shape = self._leaf_of(_leaf.index, _n)
    self._require(
        keccak256(abi_encode(_leaf.name, _leaf.dtype, _leaf.shape))
        == keccak256(abi_encode(name, dtype, shape)),
        "wrong op leaf name/dtype/shape",
    )
    leaf: bytes32 = keccak256(
        keccak256(abi_encode(_leaf.index, _leaf.name, _leaf.dtype, _leaf.shape, _leaf.tensor_root))
    )
    self._require(self._positional(leaf, _leaf.index, _count, _leaf.proof, _root), "bad op leaf proof")
    return self._size(shape) * self._width(dtype)


@pure
@internal
def _check_chunk(_c: TraceChunk, _root: bytes32, _bytes: uint256):
    count: uint256 = max((_bytes + CHUNK - 1) // CHUNK, 1)
    self._require(_c.chunk_index < count, "chunk index out of range")
    self._require(len(_c.chunk) == min(CHUNK, _bytes - _c.chunk_index * CHUNK), "chunk has the wrong length")
    leaf: bytes32 = keccak256(keccak256(abi_encode(_c.op, _c.chunk_index, _c.chunk)))
    self._require(self._positional(leaf, _c.chunk_index, count, _c.proof, _root), "bad trace chunk proof")
@pure
@internal
def _check_param(_p: ModelChunk, _root: bytes32):
    leaf: bytes32 = keccak256(
        keccak256(abi_encode(_p.tensor, _p.name, _p.dtype, _p.shape, _p.tensor_root))
    )
    self._require(merkle._process_proof(leaf, _p.tensor_proof) == _root, "bad model tensor proof")
    size: uint256 = 1
    for dim: uint256 in _p.shape:
        size *= dim
    nbytes: uint256 = size * self._width(_p.dtype)
    self._require(_p.chunk_index * CHUNK < max(nbytes, 1), "model chunk index out of range")
    self._require(len(_p.chunk) == min(CHUNK, nbytes - _p.chunk_index * CHUNK), "model chunk has the wrong length")
    chunk: bytes32 = keccak256(keccak256(abi_encode(_p.tensor, _p.chunk_index, _p.chunk)))
    self._require(merkle._process_proof(chunk, _p.chunk_proof) == _p.tensor_root, "bad model chunk proof")
@pure
@internal
def _require(_ok: bool, _reason: String[32]):
    """Revert with `_reason` unless `_ok`: one copy of the revert code for every check."""
    if not _ok:
        raise _reason


@pure
@internal
def _find(_indices: DynArray[uint256, 4], _op: uint256) -> uint256:
    for i: uint256 in range(len(_indices), bound=4):
        if _indices[i] == _op:
            return i
    raise "chunk of an op without an op leaf"


@pure
@internal
def _positional(
    _leaf: bytes32, _position: uint256, _count: uint256, _proof: DynArray[bytes32, 16], _root: bytes32
) -> bool:
    """aigora.core.ordered_merkle.verify: bit h of the position says the sibling is on the left."""
    depth: uint256 = 0
    for i: uint256 in range(16):
        if (1 << depth) >= _count:
            break
        depth += 1
    if _position >= _count or len(_proof) != depth:
        return False
    node: bytes32 = _leaf
    position: uint256 = _position
    for sibling: bytes32 in _proof:
        if position & 1 == 1:
            node = keccak256(concat(sibling, node))
        else:
            node = keccak256(concat(node, sibling))
        position = position >> 1
    return node == _root


@pure
@internal
def _size(_shape: DynArray[uint256, 3]) -> uint256:
    size: uint256 = 1
    for dim: uint256 in _shape:
        size *= dim
    return size


@pure
@internal
def _width(_dtype: String[8]) -> uint256:
    """Bytes per element of a committed dtype (int8 and uint8 are the only one-byte ones)."""
    if _dtype == "int64":
        return 8
    if _dtype == "int32":
        return 4
    if _dtype == "int16":
        return 2
    return 1


# ---- decoding little-endian bytes ---------------------------------------------------------------

@pure
@internal
def _join(
    _first: Bytes[CHUNK], _second: Bytes[CHUNK], _third: Bytes[CHUNK], _offset: uint256, _length: uint256
) -> Bytes[SPAN]:
    """Bytes [_offset, _offset + _length) of up to three consecutive chunks, then 32 zero bytes,
    so that a word read at any element of the span stays in bounds."""
    first: uint256 = min(_length, len(_first) - _offset)
    second: uint256 = min(_length - first, len(_second))
    return concat(
        slice(_first, _offset, first),
        slice(_second, 0, second),
        slice(_third, 0, _length - first - second),
        empty(bytes32),
    )


@pure
@internal
def _from_le(_raw: uint256, _width: uint256) -> int256:
    """The signed integer whose `_width` little-endian bytes are the low bytes of `_raw`."""
    value: uint256 = 0
    raw: uint256 = _raw
    for i: uint256 in range(8):
        if i == _width:
            break
        value = (value << 8) | (raw & 255)
        raw = raw >> 8
    bias: uint256 = 1 << (8 * _width - 1)
    return convert(value ^ bias, int256) - convert(bias, int256)


@pure
@internal
def _int(_data: Bytes[SPAN], _at: uint256, _width: uint256) -> int256:
    """The signed little-endian integer of `_width` bytes at byte `_at` of a span."""
    word: uint256 = convert(extract32(_data, _at), uint256)
    return self._from_le(word >> (256 - 8 * _width), _width)


@pure
@internal
def _int32_word(_data: Bytes[SPAN], _word: uint256) -> uint256:
    """Word `_word` of a span with each 4-byte little-endian lane turned big-endian."""
    x: uint256 = convert(extract32(_data, 32 * _word), uint256)
    x = ((x >> 8) & LOW_BYTES) | ((x & LOW_BYTES) << 8)
    return ((x >> 16) & LOW_HALVES) | ((x & LOW_HALVES) << 16)


@pure
@internal
def _int32s(_data: Bytes[SPAN], _count: uint256) -> DynArray[int256, MAX_VALUES]:
    """The first `_count` int32 values of a span, decoded a word (eight values) at a time."""
    out: DynArray[int256, MAX_VALUES] = []
    for w: uint256 in range((_count + 7) // 8, bound=MAX_VALUES // 8):
        x: uint256 = self._int32_word(_data, w)
        for j: uint256 in range(8):
            if len(out) == _count:
                break
            lane: uint256 = (x >> (224 - 32 * j)) & 4294967295
            out.append(convert(lane ^ 2147483648, int256) - 2147483648)
    return out


@pure
@internal
def _moments(_data: Bytes[SPAN], _count: uint256, _at: uint256) -> (int256, int256, int256):
    """(sum, sum of squares, value `_at`) of the first `_count` int32 values of a span."""
    total: int256 = 0
    squares: int256 = 0
    picked: int256 = 0
    for w: uint256 in range((_count + 7) // 8, bound=MAX_VALUES // 8):
        x: uint256 = self._int32_word(_data, w)
        for j: uint256 in range(8):
            if 8 * w + j == _count:
                break
            lane: uint256 = (x >> (224 - 32 * j)) & 4294967295
            v: int256 = unsafe_sub(convert(lane ^ 2147483648, int256), 2147483648)
            total = unsafe_add(total, v)
            squares = unsafe_add(squares, unsafe_mul(v, v))
            if 8 * w + j == _at:
                picked = v
    return total, squares, picked


@pure
@internal
def _dot(_a: Bytes[SPAN], _b: Bytes[SPAN], _words: uint256) -> int256:
    """Exact dot product of two int8 rows of `_words` 32-byte words (as Disputes._dot): each byte
    is biased by 128 so all arithmetic is unsigned, byte sums taken in sixteen 16-bit lanes."""
    products: uint256 = 0
    lanes: uint256 = 0
    for w: uint256 in range(_words, bound=MAX_WORDS):
        x: uint256 = convert(extract32(_a, w * 32), uint256) ^ BYTE_BIAS
        y: uint256 = convert(extract32(_b, w * 32), uint256) ^ BYTE_BIAS
        lanes = unsafe_add(lanes, (x & LOW_BYTES) + ((x >> 8) & LOW_BYTES))
        lanes = unsafe_add(lanes, (y & LOW_BYTES) + ((y >> 8) & LOW_BYTES))
        for j: uint256 in range(4):
            products = unsafe_add(
                products,
                unsafe_add(
                    unsafe_add(
                        unsafe_add(
                            unsafe_mul(x & 255, y & 255),
                            unsafe_mul((x >> 8) & 255, (y >> 8) & 255),
                        ),
                        unsafe_add(
                            unsafe_mul((x >> 16) & 255, (y >> 16) & 255),
                            unsafe_mul((x >> 24) & 255, (y >> 24) & 255),
                        ),
                    ),
                    unsafe_add(
                        unsafe_add(
                            unsafe_mul((x >> 32) & 255, (y >> 32) & 255),
                            unsafe_mul((x >> 40) & 255, (y >> 40) & 255),
                        ),
                        unsafe_add(
                            unsafe_mul((x >> 48) & 255, (y >> 48) & 255),
                            unsafe_mul((x >> 56) & 255, (y >> 56) & 255),
                        ),
                    ),
                ),
            )
            x = x >> 64
            y = y >> 64
    byte_sum: uint256 = 0
    for j: uint256 in range(16):
        byte_sum = unsafe_add(byte_sum, lanes & 65535)
        lanes = lanes >> 16
    bias: int256 = 128 * 128 * 32 * convert(_words, int256)
    return convert(products, int256) - 128 * convert(byte_sum, int256) + bias


# ---- the integer kernels of aigora/engine/_numpy.py ----------------------------------------------

@pure
@internal
def _round_shift(_v: int256, _shift: uint256) -> int256:
    """v / 2**shift rounded half away from zero (shift >= 1); >> on int256 is arithmetic."""
    v: int256 = _v + convert(1 << (_shift - 1), int256)
    if _v < 0:
        v -= 1
    return v >> _shift


@pure
@internal
def _norm(_squares: int256) -> int256:
    """max(isqrt(sum of squares), 1): a norm that is never zero."""
    return convert(max(isqrt(convert(_squares, uint256)), 1), int256)


@pure
@internal
def _round_div(_a: int256, _b: int256) -> int256:
    """a / b rounded half away from zero (b > 0)."""
    q: int256 = (2 * abs(_a) + _b) // (2 * _b)
    if _a < 0:
        return -q
    return q


@pure
@internal
def _requantize(_v: int256, _site: DynArray[int256, 3], _bound: int256) -> int256:
    """clamp(round_shift(v * mult + offset, shift), -bound, bound); `_site` is one channel's
    (mult, offset, shift)."""
    shifted: int256 = self._round_shift(_v * _site[0] + _site[1], convert(_site[2], uint256))
    return min(max(shifted, -_bound), _bound)


@pure
@internal
def _layer_norm(_row: Bytes[SPAN], _width: uint256, _at: uint256) -> int256:
    """Element `_at` of (x - mean) / ||x - mean|| in units of 2**-24 over one row of int32."""
    total: int256 = 0
    squares: int256 = 0
    x: int256 = 0
    total, squares, x = self._moments(_row, _width, _at)
    width: int256 = convert(_width, int256)
    mean: int256 = self._round_div(total, width)
    spread: int256 = squares - 2 * mean * total + width * mean * mean  # sum((x - mean)**2)
    inv: int256 = convert(1 << LN_INV_BITS, int256) // self._norm(spread)
    return self._round_shift((x - mean) * inv, LN_INV_BITS - LN_FRAC_BITS)


@pure
@internal
def _exp_neg(_x: int256) -> int256:
    """exp(x) for x <= 0 (units 2**-16) in units of 2**-20: 2**-z * poly(p), x = p - z ln 2."""
    x: int256 = max(_x, EXP_MIN_INPUT)
    z: int256 = (-x) // LN2_Q
    if x > 0 and z * LN2_Q != -x:
        z -= 1  # floor, as numpy's //, for a positive input
    p: int256 = x + z * LN2_Q
    y: int256 = EXP_COEFFS[5]
    for i: uint256 in range(5):
        y = self._round_shift(y * p, EXP_IN_BITS) + EXP_COEFFS[4 - i]
    return self._round_shift(y, convert(EXP_POLY_BITS - EXP_OUT_BITS + z, uint256))


@pure
@internal
def _softmax(_row: Bytes[SPAN], _n: uint256, _at: uint256, _site: DynArray[int256, 3]) -> int256:
    """Probability `_at` (units 2**-15) of one scores row over all `_n` keys."""
    scores: DynArray[int256, MAX_VALUES] = self._int32s(_row, _n)
    mult: int256 = _site[0]
    offset: int256 = _site[1]
    bits: uint256 = convert(_site[2], uint256)
    top: int256 = min_value(int256)
    for v: int256 in scores:
        top = max(top, v)
    total: int256 = 0
    mine: int256 = 0
    for m: uint256 in range(_n, bound=MAX_TOKENS):
        e: int256 = self._exp_neg(self._round_shift((scores[m] - top) * mult + offset, bits))
        total += e
        if m == _at:
            mine = e
    inv: int256 = convert(1 << PROB_INV_BITS, int256) // total
    return self._round_shift(mine * inv, PROB_INV_BITS - PROB_BITS)


@pure
@internal
def _gelu(_x: int256) -> int256:
    """x * Phi(x) with x and the result in units of 2**-12; Phi by an integer polynomial."""
    if _x >= GELU_CLAMP:
        return _x
    if _x <= -GELU_CLAMP:
        return 0
    u: int256 = self._round_shift(_x * _x, 2 * (GELU_BITS + 2) - PHI_ARG_BITS)
    y: int256 = PHI_COEFFS[8]
    for i: uint256 in range(8):
        y = self._round_shift(y * u, PHI_ARG_BITS) + PHI_COEFFS[7 - i]
    phi: int256 = self._round_shift(y * _x, GELU_BITS + 2) + convert(1 << (PHI_POLY_BITS - 1), int256)
    return self._round_shift(_x * phi, PHI_POLY_BITS)


@view
@internal
def _compute(
    _kind: uint256,
    _n: uint256,
    _e: uint256,
    _row: Bytes[SPAN],
    _other: Bytes[SPAN],
    _small: DynArray[int256, 2],
    _column: DynArray[int256, MAX_TOKENS],
    _weight: Bytes[SPAN],
    _site: DynArray[int256, 3],
) -> int256:
    """One element of forward(): the op of kind `_kind` applied to its gathered inputs."""
    w: uint256 = hidden
    if _kind == K_SUM:
        return _site[0] + _site[1]  # word + position
    if _kind in [K_LN_RES, K_LN1_RES, K_LN2_RES]:
        return self._requantize(self._layer_norm(_row, w, _e % w), _site, INT16_MAX)
    if _kind in [K_LN_MM, K_LN1_MM, K_LN2_MM]:
        return self._requantize(self._layer_norm(_row, w, _e % w), _site, INT8_MAX)
    if _kind in [K_QKV, K_ATTN_OUT, K_FFN_IN, K_FFN_OUT]:
        k: uint256 = 0
        outputs: uint256 = 0
        k, outputs = self._linear(_kind)
        bound: int256 = INT16_MAX
        if _kind == K_QKV:
            bound = INT8_MAX
        elif _kind == K_FFN_IN:
            bound = INT32_MAX
        return self._requantize(self._dot(_row, _weight, k // 32), _site, bound)
    if _kind == K_SCORES:
        return self._dot(_row, _other, w // heads // 32)
    if _kind == K_PROBS:
        return self._softmax(_row, _n, _e % _n, _site)
    if _kind == K_CTX:
        probs: DynArray[int256, MAX_VALUES] = self._int32s(_row, _n)
        acc: int256 = 0
        for m: uint256 in range(_n, bound=MAX_TOKENS):
            acc += probs[m] * _column[m]
        return self._requantize(acc, _site, INT8_MAX)
    if _kind == K_ATTN_SUM or _kind == K_FFN_SUM:
        return _small[0] + _small[1]
    if _kind == K_GELU:
        return self._gelu(_small[0])
    if _kind == K_GELU_OUT:
        return self._requantize(_small[0], _site, INT8_MAX)
    if _kind == K_POOL:
        total: int256 = 0
        for v: int256 in _column:
            total += v
        return self._round_div(total, convert(_n, int256))
    total: int256 = 0
    squares: int256 = 0
    x: int256 = 0
    total, squares, x = self._moments(_row, w, _e)
    return self._round_div(INT8_MAX * x, self._norm(squares))
