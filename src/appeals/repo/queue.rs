//! The claim: one UPDATE that picks the best eligible queued appeal and leases it. On Postgres
//! the pick is `FOR UPDATE SKIP LOCKED`, so concurrent claimers skip each other's rows instead of
//! waiting; on SQLite the caller holds the write lock (`BEGIN IMMEDIATE`), which serialises claims.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};

use crate::db::{DbConnection, DbError, MultiBackend};

pub struct ClaimRequest<'a> {
    pub reviewer: &'a str,
    pub authorities: &'a [String],
    pub queue: Option<&'a str>,
    pub appeal_id: Option<&'a str>,
    pub token: &'a str,
    pub now: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

enum Bind {
    Text(String),
    Time(NaiveDateTime),
}

/// Builds SQL with the right placeholder syntax for the backend.
struct Sql {
    text: String,
    binds: Vec<Bind>,
    postgres: bool,
}

impl Sql {
    fn param(&mut self, bind: Bind) -> String {
        self.binds.push(bind);
        // Numbered on both backends, so one parameter can be used several times.
        let n = self.binds.len();
        if self.postgres {
            format!("${n}")
        } else {
            format!("?{n}")
        }
    }
}

#[derive(QueryableByName)]
struct ClaimedId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Leases the next eligible appeal to the reviewer. Returns its id, or `None` when nothing is
/// eligible. Order: priority desc, due_at asc, received_at asc.
pub fn claim_next(conn: &mut DbConnection, req: &ClaimRequest<'_>) -> Result<Option<String>, DbError> {
    if req.authorities.is_empty() {
        return Ok(None);
    }
    let postgres = matches!(conn, DbConnection::Pg(_));
    let mut sql = Sql {
        text: String::new(),
        binds: Vec::new(),
        postgres,
    };
    let reviewer = sql.param(Bind::Text(req.reviewer.to_owned()));
    let token = sql.param(Bind::Text(req.token.to_owned()));
    let expires = sql.param(Bind::Time(req.expires_at));
    let now = sql.param(Bind::Time(req.now));
    let authorities: Vec<String> = req
        .authorities
        .iter()
        .map(|a| sql.param(Bind::Text(a.clone())))
        .collect();
    let mut filters = format!(
        "a.status = 'queued'
           AND a.decision_type IN ({authorities})
           AND a.filed_by <> {reviewer}
           AND (a.assigned_to IS NULL OR a.assigned_to = {reviewer})
           AND NOT EXISTS (SELECT 1 FROM reviews r WHERE r.decision_id = a.decision_id AND r.reviewer_id = {reviewer})
           AND NOT EXISTS (SELECT 1 FROM subject_restrictions x WHERE x.subject_id = a.subject_id)",
        authorities = authorities.join(", "),
    );
    if let Some(queue) = req.queue {
        let p = sql.param(Bind::Text(queue.to_owned()));
        filters.push_str(&format!(" AND a.queue = {p}"));
    }
    if let Some(appeal_id) = req.appeal_id {
        let p = sql.param(Bind::Text(appeal_id.to_owned()));
        filters.push_str(&format!(" AND a.id = {p}"));
    }
    let lock = if postgres { "FOR UPDATE SKIP LOCKED" } else { "" };
    sql.text = format!(
        "UPDATE appeals
            SET status = 'in_review', reviewer_id = {reviewer}, lease_token = {token},
                lease_expires_at = {expires}, claimed_at = {now}, updated_at = {now}
          WHERE id = (SELECT a.id FROM appeals a
                       WHERE {filters}
                       ORDER BY a.priority DESC, a.due_at ASC, a.received_at ASC
                       LIMIT 1 {lock})
      RETURNING id"
    );
    let mut query = diesel::sql_query(sql.text).into_boxed::<MultiBackend>();
    for bind in sql.binds {
        query = match bind {
            Bind::Text(v) => query.bind::<Text, _>(v),
            Bind::Time(v) => query.bind::<Timestamp, _>(v),
        };
    }
    Ok(query.get_result::<ClaimedId>(conn).optional()?.map(|r| r.id))
}

/// Serialises one reviewer's concurrent claims on Postgres, so capacity holds under races.
/// On SQLite the write lock already does.
pub fn lock_reviewer(conn: &mut DbConnection, reviewer: &str) -> Result<(), DbError> {
    if let DbConnection::Pg(pg) = conn {
        diesel::sql_query("SELECT id FROM reviewers WHERE id = $1 FOR UPDATE")
            .bind::<Text, _>(reviewer)
            .execute(pg)?;
    }
    Ok(())
}
