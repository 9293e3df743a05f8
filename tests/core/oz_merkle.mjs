// Cross-check helper for test_merkle_openzeppelin.py: builds trees with @openzeppelin/merkle-tree.
//
// Reads one JSON object from stdin: {"cases": [{"leafEncoding", "values", "root", "proofs"}]},
// where root and proofs are what the Python implementation produced. Writes one JSON object:
// {"results": [{"dump", "proofs", "verifiesOurs", "loadedRoot"}]}: OpenZeppelin's dump and proofs
// of the same values, whether each of our proofs passes StandardMerkleTree.verify against our
// root, and the root OpenZeppelin computes after loading its own dump.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { StandardMerkleTree } = require('@openzeppelin/merkle-tree');

let input = '';
for await (const chunk of process.stdin) input += chunk;
const { cases } = JSON.parse(input);

const results = cases.map(({ leafEncoding, values, root, proofs }) => {
  const tree = StandardMerkleTree.of(values, leafEncoding);
  const dump = tree.dump();
  return {
    dump,
    proofs: values.map((_, i) => tree.getProof(i)),
    verifiesOurs: values.map((value, i) => StandardMerkleTree.verify(root, leafEncoding, value, proofs[i])),
    loadedRoot: StandardMerkleTree.load(JSON.parse(JSON.stringify(dump))).root,
  };
});
process.stdout.write(JSON.stringify({ results }));
