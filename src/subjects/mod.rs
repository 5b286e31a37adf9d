//! Data-subject rights. So far: access and portability (GDPR Art. 15/20), one JSON document with
//! everything held about a subject and who received it; and erasure (Art. 17) with legal holds.

pub mod erasure;
pub mod objection;
pub mod rectification;
mod repo;
pub mod restriction;
pub mod service;

/// Erased subjects' records carry `erased-<uuid>` in place of the subject id.
pub const TOMBSTONE_PREFIX: &str = "erased-";

/// Whether a subject id is an erasure tombstone rather than a person's identifier.
pub fn is_tombstone(subject_id: &str) -> bool {
    subject_id.starts_with(TOMBSTONE_PREFIX)
}

/// An agent acts for a caller only after checking who the caller is, and says how (GDPR
/// Art. 12(6)), as when filing an appeal or exporting for them: `/identity_method` is required
/// from an agent and refused from anyone else, who acts for themself or from their office.
pub(crate) fn check_identity_method(
    c: &mut crate::domain::validation::Checker,
    actor: &crate::domain::Actor,
    method: Option<&str>,
) {
    match (actor.is(crate::domain::Role::Agent), method) {
        (true, Some(m)) => c.text("/identity_method", m, 100),
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

/// A stable pseudonym for a subject id, for places that must refer to a subject without holding
/// their identifier (audit entries): the same id always gives the same reference, so a DPO can
/// still find every audited access to one subject.
pub fn subject_ref(subject_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("recourse/subject/{subject_id}").as_bytes());
    format!("subj_{}", &hex::encode(digest)[..24])
}

/// Tells each engine holding the subject's decisions (GDPR Art. 19), with the engine's own
/// references added to `data`. An announcement reaches the engine even while the subject is
/// restricted; it is still linked to the subject, so erasure finds it.
pub(crate) fn announce_to_engines(
    conn: &mut crate::db::DbConnection,
    event: crate::outbox::EventKind,
    subject_id: &str,
    data: serde_json::Value,
) -> Result<(), crate::db::DbError> {
    let mut by_engine: std::collections::BTreeMap<String, Vec<serde_json::Value>> = Default::default();
    for d in crate::decisions::repo::all_for_subject(conn, subject_id)? {
        by_engine
            .entry(d.engine_id)
            .or_default()
            .push(serde_json::json!({"decision_id": d.id, "external_id": d.external_id}));
    }
    for (engine, refs) in by_engine {
        let mut payload = data.clone();
        payload["decisions"] = serde_json::json!(refs);
        crate::outbox::enqueue(
            conn,
            event,
            Some(&engine),
            crate::outbox::About::Subject(subject_id),
            payload,
        )?;
    }
    Ok(())
}

/// Tells the subject something that belongs to no appeal (a refusal with its reasons, a lift of a
/// restriction, a breach), and records in the audit log that they were told, in the caller's
/// transaction.
pub(crate) fn notify_subject(
    conn: &mut crate::db::DbConnection,
    actor: &crate::domain::Actor,
    subject_id: &str,
    kind: &str,
    body: String,
) -> Result<restriction::SubjectNotice, crate::db::DbError> {
    let notice = restriction::send_notice(conn, subject_id, kind, body)?;
    crate::audit::repo::record(
        conn,
        actor,
        crate::audit::repo::Event {
            action: "subject.notified",
            object_type: "subject",
            object_id: &subject_ref(subject_id),
            details: serde_json::json!({"kind": kind, "notice_id": notice.id}),
        },
    )?;
    Ok(notice)
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
