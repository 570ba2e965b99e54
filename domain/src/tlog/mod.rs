//! A transparency log for the audit trail, as Certificate Transparency (RFC 9162), Go's
//! checksum database and Sigstore's Rekor keep theirs: events are the leaves of a Merkle
//! tree, a signed checkpoint commits to the tree's size and root, and two proofs let
//! anyone check, with hashes only, that an event is in the tree (inclusion) and that a
//! later tree extends an earlier one without rewriting it (consistency).
//!
//! Pure: the hashes of complete subtrees come from a [`Nodes`] source (the service stores
//! them), and signing is in [`note`].

pub mod bundle;
pub mod note;

use sha2::{Digest, Sha256};

pub type Hash = [u8; 32];

/// JSON in the one form a leaf hash covers: object keys sorted at every depth, no
/// spaces (the bytes `serde_json` writes for strings and numbers).
pub fn canonical_json(v: &serde_json::Value) -> Vec<u8> {
    fn write(v: &serde_json::Value, out: &mut Vec<u8>) {
        match v {
            serde_json::Value::Object(map) => {
                let mut keys: Vec<&String> = map.keys().collect();
                keys.sort();
                out.push(b'{');
                for (i, k) in keys.into_iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    out.extend(serde_json::to_vec(k).unwrap_or_default());
                    out.push(b':');
                    write(&map[k], out);
                }
                out.push(b'}');
            }
            serde_json::Value::Array(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    write(item, out);
                }
                out.push(b']');
            }
            other => out.extend(serde_json::to_vec(other).unwrap_or_default()),
        }
    }
    let mut out = Vec::new();
    write(v, &mut out);
    out
}

/// RFC 9162 §2.1.1: the hash of a leaf, `SHA-256(0x00 || data)`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(data);
    h.finalize().into()
}

/// The hash of an interior node, `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree, `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The hashes of the tree's complete subtrees: the node at `level` and `index` covers the
/// leaves `index·2^level .. (index+1)·2^level` (level 0 are the leaf hashes).
pub trait Nodes {
    fn node(&self, level: u32, index: u64) -> Option<Hash>;
}

/// A node the source does not have: the store is incomplete (or the size is wrong).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the log has no node at level {level}, index {index}")]
pub struct MissingNode {
    pub level: u32,
    pub index: u64,
}

/// Why a proof cannot be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    #[error("index {index} is not below the tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("a consistency proof needs 0 < from ≤ to, not {from} → {to}")]
    BadRange { from: u64, to: u64 },
    #[error(transparent)]
    Missing(#[from] MissingNode),
}

/// The largest power of two below `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH(D[start..end]) for `end > start`, built from stored complete subtrees.
pub fn subtree_root(nodes: &impl Nodes, start: u64, end: u64) -> Result<Hash, MissingNode> {
    let n = end - start;
    if n.is_power_of_two() && start.is_multiple_of(n) {
        let level = n.trailing_zeros();
        let index = start >> level;
        return nodes.node(level, index).ok_or(MissingNode { level, index });
    }
    let k = split(n);
    Ok(node_hash(&subtree_root(nodes, start, start + k)?, &subtree_root(nodes, start + k, end)?))
}

/// The root of the tree of the first `size` leaves.
pub fn root(nodes: &impl Nodes, size: u64) -> Result<Hash, MissingNode> {
    if size == 0 { Ok(empty_root()) } else { subtree_root(nodes, 0, size) }
}

/// RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof(nodes: &impl Nodes, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    fn path(nodes: &impl Nodes, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) -> Result<(), MissingNode> {
        let n = end - start;
        if n == 1 {
            return Ok(());
        }
        let k = split(n);
        if m < k {
            path(nodes, m, start, start + k, out)?;
            out.push(subtree_root(nodes, start + k, end)?);
        } else {
            path(nodes, m - k, start + k, end, out)?;
            out.push(subtree_root(nodes, start, start + k)?);
        }
        Ok(())
    }
    let mut out = Vec::new();
    path(nodes, index, 0, size, &mut out)?;
    Ok(out)
}

/// RFC 9162 §2.1.4.1: the proof that the tree of `from` leaves is a prefix of the tree
/// of `to` leaves.
pub fn consistency_proof(nodes: &impl Nodes, from: u64, to: u64) -> Result<Vec<Hash>, ProofError> {
    if from == 0 || from > to {
        return Err(ProofError::BadRange { from, to });
    }
    fn sub(
        nodes: &impl Nodes,
        m: u64,
        start: u64,
        end: u64,
        whole: bool,
        out: &mut Vec<Hash>,
    ) -> Result<(), MissingNode> {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(subtree_root(nodes, start, end)?);
            }
            return Ok(());
        }
        let k = split(n);
        if m <= k {
            sub(nodes, m, start, start + k, whole, out)?;
            out.push(subtree_root(nodes, start + k, end)?);
        } else {
            sub(nodes, m - k, start + k, end, false, out)?;
            out.push(subtree_root(nodes, start, start + k)?);
        }
        Ok(())
    }
    let mut out = Vec::new();
    sub(nodes, from, 0, to, true, &mut out)?;
    Ok(out)
}

/// RFC 9162 §2.1.3.2: whether `proof` shows leaf `leaf` at `index` in the tree of `size`
/// leaves whose root is `root`.
pub fn verify_inclusion(leaf: &Hash, index: u64, size: u64, proof: &[Hash], root: &Hash) -> bool {
    if index >= size {
        return false;
    }
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    s == 0 && r == *root
}

/// RFC 9162 §2.1.4.2: whether `proof` shows the tree of `from` leaves with root
/// `from_root` to be a prefix of the tree of `to` leaves with root `to_root`.
pub fn verify_consistency(from: u64, to: u64, from_root: &Hash, to_root: &Hash, proof: &[Hash]) -> bool {
    if from == 0 || from > to {
        return false;
    }
    if from == to {
        return proof.is_empty() && from_root == to_root;
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if from.is_power_of_two() {
        path.push(*from_root);
    }
    path.extend_from_slice(proof);
    let Some((first, rest)) = path.split_first() else { return false };
    let (mut f, mut s) = (from - 1, to - 1);
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    let (mut fr, mut sr) = (*first, *first);
    for c in rest {
        if s == 0 {
            return false;
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    fr == *from_root && sr == *to_root && s == 0
}

/// The complete-subtree nodes that appending leaves `from..` (with these hashes) to a tree
/// of `from` leaves creates: each new leaf, and each node it completes. `existing` answers
/// for the nodes already stored (the left siblings). Returned as (level, index, hash).
pub fn nodes_to_store(existing: &impl Nodes, from: u64, leaves: &[Hash]) -> Result<Vec<(u32, u64, Hash)>, MissingNode> {
    let mut out: Vec<(u32, u64, Hash)> = Vec::new();
    let lookup = |out: &Vec<(u32, u64, Hash)>, level: u32, index: u64| {
        out.iter()
            .find(|(l, i, _)| *l == level && *i == index)
            .map(|(_, _, h)| *h)
            .or_else(|| existing.node(level, index))
            .ok_or(MissingNode { level, index })
    };
    for (offset, leaf) in leaves.iter().enumerate() {
        let index = from + offset as u64;
        out.push((0, index, *leaf));
        // Each time the new leaf closes a right child, the parent is complete.
        let (mut level, mut i, mut hash) = (0u32, index, *leaf);
        while i & 1 == 1 {
            let left = lookup(&out, level, i - 1)?;
            hash = node_hash(&left, &hash);
            level += 1;
            i >>= 1;
            out.push((level, i, hash));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    /// MTH straight from RFC 9162 §2.1.1, over the leaf hashes: the reference.
    fn naive_root(leaves: &[Hash]) -> Hash {
        match leaves.len() {
            0 => empty_root(),
            1 => leaves[0],
            n => {
                let k = split(n as u64) as usize;
                node_hash(&naive_root(&leaves[..k]), &naive_root(&leaves[k..]))
            }
        }
    }

    struct Store(HashMap<(u32, u64), Hash>);

    impl Nodes for Store {
        fn node(&self, level: u32, index: u64) -> Option<Hash> {
            self.0.get(&(level, index)).copied()
        }
    }

    /// A store grown the way the sequencer grows it: in batches of uneven size.
    fn grown(n: u64) -> (Store, Vec<Hash>) {
        let leaves: Vec<Hash> = (0..n).map(|i| leaf_hash(format!("event {i}").as_bytes())).collect();
        let mut store = Store(HashMap::new());
        let mut at = 0usize;
        let mut batch = 1usize;
        while at < leaves.len() {
            let end = (at + batch).min(leaves.len());
            for (l, i, h) in nodes_to_store(&store, at as u64, &leaves[at..end]).unwrap() {
                store.0.insert((l, i), h);
            }
            at = end;
            batch = batch % 5 + 1;
        }
        (store, leaves)
    }

    #[test]
    fn hashes_are_domain_separated_as_rfc_9162_says() {
        // SHA-256("") and the leaf hash of the empty string (0x00 prefixed).
        assert_eq!(hex(&empty_root()), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
        assert_eq!(hex(&leaf_hash(b"")), "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d");
        assert_ne!(leaf_hash(b"ab"), node_hash(&leaf_hash(b"a"), &leaf_hash(b"b")));
    }

    fn hex(h: &Hash) -> String {
        h.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn roots_from_stored_nodes_match_the_definition_for_every_size() {
        let (store, leaves) = grown(70);
        for size in 0..=70usize {
            assert_eq!(root(&store, size as u64).unwrap(), naive_root(&leaves[..size]), "size {size}");
        }
    }

    #[test]
    fn every_inclusion_proof_verifies_and_a_wrong_one_does_not() {
        let (store, leaves) = grown(40);
        for size in 1..=40u64 {
            let r = root(&store, size).unwrap();
            for index in 0..size {
                let proof = inclusion_proof(&store, index, size).unwrap();
                let leaf = &leaves[index as usize];
                assert!(verify_inclusion(leaf, index, size, &proof, &r), "{index}/{size}");
                // Another leaf, another position, another size or root: refused.
                let other = leaf_hash(b"not in the log");
                assert!(!verify_inclusion(&other, index, size, &proof, &r));
                if size > 1 {
                    assert!(!verify_inclusion(leaf, (index + 1) % size, size, &proof, &r));
                }
                // (The size itself is bound by the signed checkpoint, not by the path: a
                // leftmost leaf's path can fit a larger tree too.)
                assert!(!verify_inclusion(leaf, size, size, &proof, &r));
                assert!(!verify_inclusion(leaf, index, size, &proof, &empty_root()));
            }
            assert!(inclusion_proof(&store, size, size).is_err());
        }
    }

    #[test]
    fn every_consistency_proof_verifies_and_a_rewritten_history_does_not() {
        let (store, leaves) = grown(33);
        for to in 1..=33u64 {
            let to_root = root(&store, to).unwrap();
            for from in 1..=to {
                let from_root = root(&store, from).unwrap();
                let proof = consistency_proof(&store, from, to).unwrap();
                assert!(verify_consistency(from, to, &from_root, &to_root, &proof), "{from}->{to}");
                // An earlier tree whose leaf 0 was rewritten is not a prefix.
                let mut forged = leaves[..from as usize].to_vec();
                forged[0] = leaf_hash(b"rewritten");
                let forged_root = naive_root(&forged);
                assert!(!verify_consistency(from, to, &forged_root, &to_root, &proof), "{from}->{to}");
                if from < to {
                    assert!(!verify_consistency(from, to, &from_root, &from_root, &proof));
                }
            }
        }
        assert!(consistency_proof(&store, 0, 3).is_err());
        assert!(consistency_proof(&store, 4, 3).is_err());
    }

    #[test]
    fn a_missing_node_is_reported_not_invented() {
        let (mut store, _) = grown(8);
        store.0.remove(&(3, 0));
        assert_eq!(root(&store, 8), Err(MissingNode { level: 3, index: 0 }));
        assert!(root(&store, 7).is_ok());
    }
}
