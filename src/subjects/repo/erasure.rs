//! The queries that remove a subject's personal data, and the legal holds that keep some of it.

use diesel::prelude::*;
use serde_json::{Value, json};

use crate::db::schema::{
    appeals, decisions, idempotency_keys, initial_views, legal_holds, notices, outbox, rectifications, reviews,
    subject_notices, subject_objections, subject_restrictions, web_sessions,
};
use crate::db::{DbConnection, DbError};
use crate::decisions::model::DecisionRow;
use crate::domain::Role;
use crate::domain::subject::{ERASED, ERASED_FINGERPRINT};
use crate::subjects::model::LegalHold;

/// The explanation without personal data: which features counted and the reason codes stay
/// (they describe the model), the input values and the counterfactual go.
fn scrub_explanation(raw: &str) -> String {
    let mut explanation: Value = serde_json::from_str(raw).unwrap_or_else(|_| json!({}));
    if let Some(obj) = explanation.as_object_mut() {
        obj.insert("inputs".into(), json!({}));
        obj.remove("counterfactual");
    }
    explanation.to_string()
}

/// What erasure does to one event about the subject.
#[derive(Debug, PartialEq)]
enum EventScrub {
    /// Everything in it is erased: its data becomes `{"erased": true}`.
    Whole,
    /// It also refers to decisions kept under a legal hold: only the erased ones leave it.
    Partly(Value),
    /// It is only about decisions kept under a legal hold.
    Keep,
}

fn scrub_event(data: &Value, erased: &[String], some_held: bool) -> EventScrub {
    let is_erased = |id: &Value| id.as_str().is_some_and(|id| erased.iter().any(|e| e == id));
    if !some_held {
        return EventScrub::Whole;
    }
    if let Some(id) = data.get("decision_id") {
        return if is_erased(id) {
            EventScrub::Whole
        } else {
            EventScrub::Keep
        };
    }
    let Some(refs) = data.get("decisions").and_then(Value::as_array) else {
        return EventScrub::Whole;
    };
    let kept: Vec<Value> = refs.iter().filter(|r| !is_erased(&r["decision_id"])).cloned().collect();
    match kept.len() {
        0 => EventScrub::Whole,
        n if n == refs.len() => EventScrub::Keep,
        _ => {
            let mut data = data.clone();
            data["decisions"] = Value::Array(kept);
            EventScrub::Partly(data)
        }
    }
}

/// Replaces the subject's data on `erase` (and everything hanging off those decisions) with the
/// tombstone or nothing. Returns how many appeals were scrubbed.
///
/// When `some_held` (other decisions of the subject stay under a legal hold), the subject still
/// exists here, and so do the safeguards around what is kept: the restriction, the objections,
/// the notices and the rectifications of the held decisions stay in force.
pub fn scrub(
    conn: &mut DbConnection,
    subject_id: &str,
    tombstone: &str,
    erase: &[DecisionRow],
    some_held: bool,
) -> Result<usize, DbError> {
    let decision_ids: Vec<String> = erase.iter().map(|d| d.id.clone()).collect();
    let appeal_ids: Vec<String> = appeals::table
        .filter(appeals::decision_id.eq_any(&decision_ids))
        .select(appeals::id)
        .load(conn)?;

    for (i, d) in erase.iter().enumerate() {
        diesel::update(decisions::table.find(&d.id))
            .set((
                decisions::subject_id.eq(&tombstone),
                decisions::external_id.eq(format!("{tombstone}-{i}")),
                decisions::explanation.eq(scrub_explanation(&d.explanation)),
                decisions::payload_hash.eq(ERASED_FINGERPRINT),
            ))
            .execute(conn)?;
    }
    diesel::update(appeals::table.filter(appeals::id.eq_any(&appeal_ids)))
        .set((
            appeals::subject_id.eq(&tombstone),
            appeals::statement.eq(ERASED),
            appeals::corrected_inputs.eq(None::<String>),
            appeals::requested_outcome.eq(None::<String>),
            appeals::evidence.eq(None::<String>),
            appeals::identity_check.eq(None::<String>),
        ))
        .execute(conn)?;
    // Nothing is left to review: open appeals are withdrawn, and any lease ends.
    let open = crate::domain::appeal::AppealStatus::OPEN.map(|s| s.as_str());
    diesel::update(
        appeals::table
            .filter(appeals::id.eq_any(&appeal_ids))
            .filter(appeals::status.eq_any(open)),
    )
    .set((
        appeals::status.eq(crate::domain::appeal::AppealStatus::Withdrawn.as_str()),
        appeals::reviewer_id.eq(None::<String>),
        appeals::lease_token.eq(None::<String>),
        appeals::lease_expires_at.eq(None::<chrono::NaiveDateTime>),
    ))
    .execute(conn)?;
    diesel::update(
        appeals::table
            .filter(appeals::id.eq_any(&appeal_ids))
            .filter(appeals::filed_by.eq(subject_id)),
    )
    .set(appeals::filed_by.eq(&tombstone))
    .execute(conn)?;
    diesel::update(
        appeals::table
            .filter(appeals::id.eq_any(&appeal_ids))
            .filter(appeals::extension_reason.is_not_null()),
    )
    .set(appeals::extension_reason.eq(ERASED))
    .execute(conn)?;
    diesel::update(
        appeals::table
            .filter(appeals::id.eq_any(&appeal_ids))
            .filter(appeals::assignment_reason.is_not_null()),
    )
    .set(appeals::assignment_reason.eq(ERASED))
    .execute(conn)?;
    diesel::update(reviews::table.filter(reviews::decision_id.eq_any(&decision_ids)))
        .set((
            reviews::rationale.eq(ERASED),
            reviews::rectified_inputs.eq(None::<String>),
            reviews::approval_note.eq(None::<String>),
        ))
        .execute(conn)?;
    diesel::update(notices::table.filter(notices::appeal_id.eq_any(&appeal_ids)))
        .set((notices::subject_id.eq(&tombstone), notices::body.eq(ERASED)))
        .execute(conn)?;
    diesel::update(initial_views::table.filter(initial_views::appeal_id.eq_any(&appeal_ids)))
        .set(initial_views::note.eq(None::<String>))
        .execute(conn)?;
    // Event payloads about the subject keep their type and id, and lose their data.
    // Every event that carries the subject's data names them in `personal_data_of`
    // (`outbox::enqueue` refuses one that does not).
    let queued: Vec<(i64, Option<String>, String)> = outbox::table
        .filter(outbox::personal_data_of.eq(subject_id))
        .select((outbox::seq, outbox::subject_id, outbox::payload))
        .load(conn)?;
    for (seq, held_for, payload) in queued {
        let mut envelope: Value = serde_json::from_str(&payload).unwrap_or_else(|_| json!({}));
        match scrub_event(&envelope["data"], &decision_ids, some_held) {
            // Events about decisions under a legal hold stay as they are.
            EventScrub::Keep => {}
            EventScrub::Partly(data) => {
                envelope["data"] = data;
                diesel::update(outbox::table.find(seq))
                    .set(outbox::payload.eq(envelope.to_string()))
                    .execute(conn)?;
            }
            EventScrub::Whole => {
                envelope["data"] = json!({"erased": true});
                diesel::update(outbox::table.find(seq))
                    .set((
                        outbox::subject_id.eq(held_for.map(|_| tombstone)),
                        outbox::personal_data_of.eq(&tombstone),
                        outbox::payload.eq(envelope.to_string()),
                    ))
                    .execute(conn)?;
            }
        }
    }
    diesel::delete(idempotency_keys::table.filter(idempotency_keys::actor.eq(subject_id))).execute(conn)?;
    for appeal_id in &appeal_ids {
        diesel::delete(idempotency_keys::table.filter(idempotency_keys::response_body.like(format!("%{appeal_id}%"))))
            .execute(conn)?;
    }
    diesel::delete(
        web_sessions::table
            .filter(web_sessions::actor_id.eq(subject_id))
            .filter(web_sessions::role.eq(Role::Subject.as_str())),
    )
    .execute(conn)?;

    diesel::delete(rectifications::table.filter(rectifications::decision_id.eq_any(&decision_ids))).execute(conn)?;
    // A hold that has run out leaves nothing behind either.
    diesel::delete(legal_holds::table.filter(legal_holds::decision_id.eq_any(&decision_ids))).execute(conn)?;
    if !some_held {
        diesel::delete(subject_restrictions::table.find(subject_id)).execute(conn)?;
        diesel::delete(rectifications::table.filter(rectifications::subject_id.eq(subject_id))).execute(conn)?;
        diesel::delete(subject_objections::table.filter(subject_objections::subject_id.eq(subject_id)))
            .execute(conn)?;
        diesel::delete(subject_notices::table.filter(subject_notices::subject_id.eq(subject_id))).execute(conn)?;
    }
    Ok(appeal_ids.len())
}

/// The decisions of a subject kept under a legal hold after an erasure request.
pub fn legal_holds_of(conn: &mut DbConnection, subject_id: &str) -> Result<Vec<LegalHold>, DbError> {
    let rows: Vec<(String, String, chrono::NaiveDateTime)> = legal_holds::table
        .filter(legal_holds::subject_id.eq(subject_id))
        .select((legal_holds::decision_id, legal_holds::reason, legal_holds::held_until))
        .order(legal_holds::decision_id.asc())
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(decision_id, reason, until)| LegalHold {
            decision_id,
            reason,
            held_until: until.and_utc(),
        })
        .collect())
}

/// Records that a decision is kept under a legal hold after an erasure request, so that it is
/// kept for that obligation only (GDPR Art. 17(3)(b)). Asking again renews the record.
pub fn record_legal_hold(
    conn: &mut DbConnection,
    decision_id: &str,
    subject_id: &str,
    reason: &str,
    until: chrono::NaiveDateTime,
    at: chrono::NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(legal_holds::table.find(decision_id)).execute(conn)?;
    diesel::insert_into(legal_holds::table)
        .values((
            legal_holds::decision_id.eq(decision_id),
            legal_holds::subject_id.eq(subject_id),
            legal_holds::reason.eq(reason),
            legal_holds::held_until.eq(until),
            legal_holds::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{EventScrub, scrub_event};

    #[test]
    fn erasure_keeps_only_what_refers_to_held_decisions() {
        let erased = vec!["d-erased".to_owned()];
        let one = |id: &str| json!({"decision_id": id, "external_id": "x"});
        assert_eq!(scrub_event(&one("d-held"), &erased, false), EventScrub::Whole);
        assert_eq!(scrub_event(&one("d-erased"), &erased, true), EventScrub::Whole);
        assert_eq!(scrub_event(&one("d-held"), &erased, true), EventScrub::Keep);
        let both = json!({"scope": "profiling", "decisions": [one("d-held"), one("d-erased")]});
        assert_eq!(
            scrub_event(&both, &erased, true),
            EventScrub::Partly(json!({"scope": "profiling", "decisions": [one("d-held")]}))
        );
        let only_erased = json!({"decisions": [one("d-erased")]});
        assert_eq!(scrub_event(&only_erased, &erased, true), EventScrub::Whole);
        assert_eq!(scrub_event(&json!({}), &erased, true), EventScrub::Whole);
    }
}
