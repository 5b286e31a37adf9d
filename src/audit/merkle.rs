//! Merkle tree hash as in Certificate Transparency (RFC 6962 §2.1): leaves and inner nodes are
//! domain-separated, and an uneven tree splits at the largest power of two below its size.

use sha2::{Digest, Sha256};

/// The Merkle tree hash of `leaves` (each an entry hash, as bytes), hex encoded.
pub fn root(leaves: &[Vec<u8>]) -> String {
    hex::encode(tree_hash(leaves))
}

fn tree_hash(leaves: &[Vec<u8>]) -> [u8; 32] {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => {
            let mut h = Sha256::new();
            h.update([0u8]);
            h.update(&leaves[0]);
            h.finalize().into()
        }
        n => {
            let k = largest_power_of_two_below(n);
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(tree_hash(&leaves[..k]));
            h.update(tree_hash(&leaves[k..]));
            h.finalize().into()
        }
    }
}

fn largest_power_of_two_below(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(n: u8) -> Vec<Vec<u8>> {
        (0..n).map(|i| vec![i]).collect()
    }

    #[test]
    fn matches_the_rfc_6962_construction_for_small_trees() {
        let leaf = |b: u8| -> [u8; 32] { Sha256::digest([0u8, b]).into() };
        let node = |l: [u8; 32], r: [u8; 32]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(l);
            h.update(r);
            h.finalize().into()
        };
        assert_eq!(root(&leaves(1)), hex::encode(leaf(0)));
        assert_eq!(root(&leaves(2)), hex::encode(node(leaf(0), leaf(1))));
        // Three leaves split 2 + 1.
        assert_eq!(root(&leaves(3)), hex::encode(node(node(leaf(0), leaf(1)), leaf(2))));
    }

    #[test]
    fn order_and_membership_change_the_root() {
        let base = root(&leaves(5));
        let mut swapped = leaves(5);
        swapped.swap(1, 3);
        assert_ne!(root(&swapped), base);
        assert_ne!(root(&leaves(4)), base);
        let mut extra = leaves(5);
        extra.push(vec![9]);
        assert_ne!(root(&extra), base);
    }
}
