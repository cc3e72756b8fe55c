// NAS-Bench-101 cells in the browser: pruning, validity problems and the module hash, giving the same
// results and messages as nasbenchmark.nasbench101.graph_util (tests/test_nb101_cell_js.py runs both on
// the same cells). A cell is nasbench's (matrix, ops): matrix[i][j] = 1 for an edge i -> j (i < j),
// vertex 0 the input, the last vertex the output. No DOM here, so node can run it.

export const INPUT = "input";
export const OUTPUT = "output";
/** Inner-vertex ops in nasbench's order: the position is the op's label in the hash. */
export const AVAILABLE_OPS = ["conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"];
export const MAX_VERTICES = 7;
export const MAX_EDGES = 9;

const NO_PATH = "no path from the input to the output";

// ---- MD5 (RFC 1321). The browser's SubtleCrypto has no MD5 and the release's hash is MD5. ----------

// floor(|sin(i + 1)| * 2^32), written out: Math.sin is not correctly rounded in every engine.
const SINES = new Uint32Array([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);
// Left-rotation amounts: four per round.
const ROTATIONS = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
const UTF8 = new TextEncoder();

/** Lower-case hex MD5 of the UTF-8 bytes of `text`. */
export function md5Hex(text) {
  const bytes = UTF8.encode(text);
  const length = bytes.length;
  // Message, a 0x80 byte, zeros, then the bit length as 64-bit little-endian: whole 64-byte blocks.
  const words = new Uint32Array((((length + 8) >>> 6) + 1) * 16);
  for (let i = 0; i < length; i++) words[i >>> 2] |= bytes[i] << ((i & 3) * 8);
  words[length >>> 2] |= 0x80 << ((length & 3) * 8);
  words[words.length - 2] = (length * 8) >>> 0;
  words[words.length - 1] = Math.floor(length / 0x20000000);
  let a0 = 0x67452301, b0 = 0xefcdab89, c0 = 0x98badcfe, d0 = 0x10325476;
  for (let block = 0; block < words.length; block += 16) {
    let a = a0, b = b0, c = c0, d = d0;
    for (let step = 0; step < 64; step++) {
      let mixed, word;
      if (step < 16) { mixed = (b & c) | (~b & d); word = step; }
      else if (step < 32) { mixed = (d & b) | (~d & c); word = (5 * step + 1) & 15; }
      else if (step < 48) { mixed = b ^ c ^ d; word = (3 * step + 5) & 15; }
      else { mixed = c ^ (b | ~d); word = (7 * step) & 15; }
      const sum = (a + mixed + SINES[step] + words[block + word]) | 0;
      const rotation = ROTATIONS[((step >>> 4) << 2) | (step & 3)];
      a = d; d = c; c = b;
      b = (b + ((sum << rotation) | (sum >>> (32 - rotation)))) | 0;
    }
    a0 = (a0 + a) | 0; b0 = (b0 + b) | 0; c0 = (c0 + c) | 0; d0 = (d0 + d) | 0;
  }
  let hex = "";
  for (const value of [a0, b0, c0, d0]) {
    for (let shift = 0; shift < 32; shift += 8) hex += ((value >>> shift) & 0xff).toString(16).padStart(2, "0");
  }
  return hex;
}

// ---- spec checks and pruning (nasbench's ModelSpec) ------------------------------------------------

const quoted = (value) => JSON.stringify(value);

function unknownOp(vertex, op) {
  return `vertex ${vertex} has unknown op ${quoted(op)} (expected ${AVAILABLE_OPS.slice(0, -1).join(", ")} ` +
    `or ${AVAILABLE_OPS[AVAILABLE_OPS.length - 1]})`;
}

/** The first reason `matrix`/`ops` is not a square, one-op-per-vertex, upper-triangular spec, or null. */
function shapeProblem(matrix, ops) {
  if (!Array.isArray(matrix) || !matrix.every(Array.isArray)) {
    return `the matrix must be a list of rows of 0/1 entries, got ${typeof matrix}`;
  }
  if (!Array.isArray(ops)) return `ops must be a list of op names, one per vertex, got ${typeof ops}`;
  const size = matrix.length;
  if (size < 2) return `a cell needs at least 2 vertices (input and output), got ${size}`;
  for (let i = 0; i < size; i++) {
    const row = matrix[i];
    if (row.length !== size) {
      return `the matrix must be square: row ${i} has ${row.length} entries for ${size} vertices`;
    }
    for (let j = 0; j < size; j++) {
      const entry = row[j];
      if (entry !== 0 && entry !== 1 && entry !== true && entry !== false) {
        return `matrix entries must be 0 or 1, got ${quoted(entry)} at row ${i}, column ${j}`;
      }
    }
  }
  if (ops.length !== size) return `the matrix has ${size} vertices but there are ${ops.length} ops`;
  const backwards = [];
  for (let i = 0; i < size; i++) for (let j = 0; j <= i; j++) if (matrix[i][j]) backwards.push(`${i}->${j}`);
  if (backwards.length) {
    return "edges must go from a lower to a higher vertex (an upper-triangular matrix), " +
      `but ${backwards.join(", ")} do not`;
  }
  return null;
}

function reachable(start, next) {
  const seen = new Set([start]);
  const stack = [start];
  while (stack.length) {
    for (const vertex of next[stack.pop()]) {
      if (!seen.has(vertex)) { seen.add(vertex); stack.push(vertex); }
    }
  }
  return seen;
}

/** Vertices on some input -> output path, ascending; null when the output is unreachable. */
function keptVertices(matrix) {
  const vertices = matrix.map((_, i) => i);
  const successors = vertices.map((i) => vertices.filter((j) => matrix[i][j]));
  const predecessors = vertices.map((j) => vertices.filter((i) => matrix[i][j]));
  const fromInput = reachable(0, successors);
  const toOutput = reachable(vertices.length - 1, predecessors);
  if (!fromInput.has(vertices.length - 1)) return null;
  return vertices.filter((v) => fromInput.has(v) && toOutput.has(v));
}

/**
 * Everything the designer shows about a cell:
 * {problems: [messages], removed: [vertices pruning drops], matrix, ops (pruned, null if it cannot be
 * pruned), hash (the module hash, null unless the cell is a valid NAS-Bench-101 model)}.
 * The dangling-vertex message is the only problem that leaves the cell valid: nasbench prunes them.
 */
export function analyzeCell(matrix, ops) {
  const invalid = (message) => ({problems: [message], removed: [], matrix: null, ops: null, hash: null});
  const shape = shapeProblem(matrix, ops);
  if (shape) return invalid(shape);
  const entries = matrix.map((row) => row.map(Number));
  const kept = keptVertices(entries);
  if (kept === null) return invalid(NO_PATH);
  const removed = entries.map((_, v) => v).filter((v) => !kept.includes(v));
  const pruned = kept.map((i) => kept.map((j) => entries[i][j]));
  const prunedOps = kept.map((v) => ops[v]);
  const notes = [];
  if (removed.length === 1) notes.push(`vertex ${removed[0]} is on no input-to-output path and will be pruned`);
  if (removed.length > 1) {
    notes.push(`vertices ${removed.join(", ")} are on no input-to-output path and will be pruned`);
  }
  const errors = [];
  if (kept.length > MAX_VERTICES) {
    errors.push(`${kept.length} vertices after pruning, more than the ${MAX_VERTICES} allowed`);
  }
  const edges = pruned.flat().reduce((total, entry) => total + entry, 0);
  if (edges > MAX_EDGES) errors.push(`${edges} edges after pruning, more than the ${MAX_EDGES} allowed`);
  if (prunedOps[0] !== INPUT) errors.push(`the first vertex must be the input, got ${quoted(prunedOps[0])}`);
  const last = prunedOps[prunedOps.length - 1];
  if (last !== OUTPUT) errors.push(`the last vertex must be the output, got ${quoted(last)}`);
  for (const vertex of kept.slice(1, -1)) {
    if (!AVAILABLE_OPS.includes(ops[vertex])) errors.push(unknownOp(vertex, ops[vertex]));
  }
  const hash = errors.length ? null : fingerprint(pruned, labels(prunedOps));
  return {problems: [...notes, ...errors], removed, matrix: pruned, ops: prunedOps, hash};
}

/** Readable reasons the cell is not (or, for dangling vertices, not as drawn) a NAS-Bench-101 model. */
export function cellProblems(matrix, ops) {
  return analyzeCell(matrix, ops).problems;
}

/** {matrix, ops} without the vertices off every input -> output path; throws for a malformed spec. */
export function prune(matrix, ops) {
  const result = analyzeCell(matrix, ops);
  if (result.matrix === null) throw new Error(result.problems[0]);
  return {matrix: result.matrix, ops: result.ops};
}

/** The module hash the release stores for this cell (pruned first), or null if it is not valid. */
export function canonicalHash(matrix, ops) {
  return analyzeCell(matrix, ops).hash;
}

// ---- the module hash (google nasbench graph_util.hash_module) ---------------------------------------

function labels(ops) {
  const inner = ops.slice(1, -1).map((op, index) => {
    if (!AVAILABLE_OPS.includes(op)) throw new Error(unknownOp(index + 1, op));
    return AVAILABLE_OPS.indexOf(op);
  });
  return [-1, ...inner, -2];
}

// Each vertex starts as md5 of Python's repr of (out-degree, in-degree, label), then, once per vertex,
// becomes md5(sorted predecessor hashes + "|" + sorted successor hashes + "|" + own), all at once;
// the result is md5 of Python's repr of the sorted list: "['ab…', 'cd…']".
function fingerprint(matrix, vertexLabels) {
  const vertices = matrix.map((_, i) => i);
  const predecessors = vertices.map((v) => vertices.filter((w) => matrix[w][v]));
  const successors = vertices.map((v) => vertices.filter((w) => matrix[v][w]));
  let hashes = vertices.map((v) => md5Hex(`(${successors[v].length}, ${predecessors[v].length}, ${vertexLabels[v]})`));
  for (let round = 0; round < vertices.length; round++) {
    const previous = hashes;
    hashes = vertices.map((v) => md5Hex(
      predecessors[v].map((w) => previous[w]).sort().join("") + "|" +
      successors[v].map((w) => previous[w]).sort().join("") + "|" + previous[v]));
  }
  return md5Hex("[" + [...hashes].sort().map((hash) => `'${hash}'`).join(", ") + "]");
}

/** The module hash of the spec exactly as given (no pruning), like graph_util.spec_hash. */
export function specHash(matrix, ops) {
  const shape = shapeProblem(matrix, ops);
  if (shape) throw new Error(shape);
  return fingerprint(matrix.map((row) => row.map(Number)), labels(ops));
}
