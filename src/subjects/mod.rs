//! Data-subject rights. So far: access and portability (GDPR Art. 15/20), one JSON document with
//! everything held about a subject and who received it; and erasure (Art. 17) with legal holds.

pub mod erasure;
pub mod objection;
pub mod rectification;
mod repo;
pub mod restriction;
pub mod service;

/// A stable pseudonym for a subject id, for places that must refer to a subject without holding
/// their identifier (audit entries): the same id always gives the same reference, so a DPO can
/// still find every audited access to one subject.
pub fn subject_ref(subject_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("recourse/subject/{subject_id}").as_bytes());
    format!("subj_{}", &hex::encode(digest)[..24])
}

#[cfg(test)]
mod tests {
    #[test]
    fn subject_refs_are_stable_distinct_and_free_of_the_id() {
        let a = super::subject_ref("cust-1001");
        assert_eq!(a, super::subject_ref("cust-1001"));
        assert_ne!(a, super::subject_ref("cust-1002"));
        assert!(!a.contains("1001") && a.starts_with("subj_") && a.len() == 29);
    }
}
