//! Pure rules about data subjects that every layer needs: the pseudonym under which the audit
//! log names a subject, the tombstone that replaces an erased subject's id, and who must say how
//! a caller's identity was checked.

use super::validation::Checker;
use super::{Actor, Role};

/// Erased subjects' records carry `erased-<uuid>` in place of the subject id.
pub const TOMBSTONE_PREFIX: &str = "erased-";

/// The fingerprint of an erased decision; exports for retraining leave such decisions out.
pub const ERASED_FINGERPRINT: &str = "erased";

/// What replaces erased free text.
pub const ERASED: &str = "[erased]";

/// Whether a subject id is an erasure tombstone rather than a person's identifier.
pub fn is_tombstone(subject_id: &str) -> bool {
    subject_id.starts_with(TOMBSTONE_PREFIX)
}

/// A stable pseudonym for a subject id, for places that must refer to a subject without holding
/// their identifier (audit entries): the same id always gives the same reference, so a DPO can
/// still find every audited access to one subject.
pub fn subject_ref(subject_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("recourse/subject/{subject_id}").as_bytes());
    format!("subj_{}", &hex::encode(digest)[..24])
}

/// An agent acts for a caller only after checking who the caller is, and says how (GDPR
/// Art. 12(6)), as when filing an appeal or exporting for them: `/identity_method` is required
/// from an agent and refused from anyone else, who acts for themself or from their office.
pub fn check_identity_method(c: &mut Checker, actor: &Actor, method: Option<&str>) {
    match (actor.is(Role::Agent), method) {
        (true, Some(m)) => c.check::<super::fields::IdentityMethod>("/identity_method", m),
        (true, None) => c.fail(
            "/identity_method",
            "is required when an agent acts for a caller: say how their identity was verified",
        ),
        (false, Some(_)) => c.fail(
            "/identity_method",
            "only an agent acting for a caller states how the caller's identity was verified",
        ),
        (false, None) => {}
    }
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

    #[test]
    fn tombstones_are_recognised_by_their_prefix() {
        assert!(super::is_tombstone("erased-0a1b"));
        assert!(!super::is_tombstone("cust-erased-1"));
    }
}
