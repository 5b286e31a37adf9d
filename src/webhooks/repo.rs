//! Queries for webhook endpoints and deliveries.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text, Timestamp};

use crate::db::schema::{outbox, webhook_deliveries as wd, webhook_endpoints as we};
use crate::db::{DbConnection, DbError, MultiBackend};

#[derive(Debug, Clone, Queryable, Insertable)]
#[diesel(table_name = we, treat_none_as_null = true)]
pub struct EndpointRow {
    pub id: String,
    pub engine_id: String,
    pub url: String,
    pub secret: String,
    pub previous_secret: Option<String>,
    pub previous_secret_expires_at: Option<NaiveDateTime>,
    pub status: String,
    pub disabled_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, Queryable)]
pub struct DeliveryRow {
    pub id: String,
    pub event_id: String,
    pub endpoint_id: String,
    pub engine_id: String,
    pub status: String,
    pub attempts: i32,
    pub next_attempt_at: NaiveDateTime,
    pub window_start: NaiveDateTime,
    pub lease_token: Option<String>,
    pub last_attempt_at: Option<NaiveDateTime>,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub delivered_at: Option<NaiveDateTime>,
}

pub fn insert_endpoint(conn: &mut DbConnection, row: &EndpointRow) -> Result<(), DbError> {
    diesel::insert_into(we::table).values(row).execute(conn)?;
    Ok(())
}

pub fn endpoints_for(conn: &mut DbConnection, engine_id: &str) -> Result<Vec<EndpointRow>, DbError> {
    Ok(we::table
        .filter(we::engine_id.eq(engine_id))
        .order(we::created_at.asc())
        .load(conn)?)
}

pub fn find_endpoint(conn: &mut DbConnection, id: &str) -> Result<Option<EndpointRow>, DbError> {
    Ok(we::table.find(id).first(conn).optional()?)
}

pub fn endpoints_by_ids(conn: &mut DbConnection, ids: &[String]) -> Result<Vec<EndpointRow>, DbError> {
    Ok(we::table.filter(we::id.eq_any(ids)).load(conn)?)
}

pub fn rotate_secret(
    conn: &mut DbConnection,
    id: &str,
    old: &str,
    new: &str,
    old_expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(we::table.filter(we::id.eq(id)).filter(we::secret.eq(old)))
        .set((
            we::secret.eq(new),
            we::previous_secret.eq(Some(old)),
            we::previous_secret_expires_at.eq(Some(old_expires_at)),
            we::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn disable_endpoint(conn: &mut DbConnection, id: &str, reason: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(we::table.filter(we::id.eq(id)).filter(we::status.eq("active")))
        .set((
            we::status.eq("disabled"),
            we::disabled_reason.eq(Some(reason)),
            we::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Leases up to `limit` due deliveries to this worker: pushes `next_attempt_at` to the lease's
/// end and stamps `lease_token`, so no other instance picks them up while this one sends.
/// Postgres skips rows other claimers hold; on SQLite the caller holds the write lock.
///
/// At most `per_endpoint` deliveries of any one endpoint are taken, oldest first, and none of
/// the endpoints in `skip` (busy or with an open circuit here), so a backlog for one endpoint
/// never fills a claim. A delivery's first claim restarts its retry window: the horizon counts
/// from the first attempt, not from the time the event waited in the queue.
pub fn claim_due(
    conn: &mut DbConnection,
    token: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    limit: i64,
    per_endpoint: i64,
    skip: &[String],
) -> Result<Vec<DeliveryRow>, DbError> {
    let sql = match conn {
        DbConnection::Pg(_) => {
            "UPDATE webhook_deliveries
                SET lease_token = $1, next_attempt_at = $2, attempts = attempts + 1, last_attempt_at = $3,
                    window_start = CASE WHEN attempts = 0 THEN $3 ELSE window_start END
              WHERE id IN (SELECT id FROM webhook_deliveries
                            WHERE status = 'pending' AND next_attempt_at <= $3
                              AND id IN (SELECT id FROM (
                                           SELECT d.id, row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rn
                                             FROM webhook_deliveries d
                                            WHERE d.status = 'pending' AND d.next_attempt_at <= $3
                                              AND d.endpoint_id NOT IN (SELECT jsonb_array_elements_text($6::jsonb))
                                              AND NOT EXISTS (SELECT 1 FROM outbox o JOIN subject_restrictions x ON x.subject_id = o.subject_id
                                                               WHERE o.id = d.event_id)) ranked
                                          WHERE rn <= $5)
                            ORDER BY next_attempt_at LIMIT $4 FOR UPDATE SKIP LOCKED)
          RETURNING id"
        }
        DbConnection::Sqlite(_) => {
            "UPDATE webhook_deliveries
                SET lease_token = ?1, next_attempt_at = ?2, attempts = attempts + 1, last_attempt_at = ?3,
                    window_start = CASE WHEN attempts = 0 THEN ?3 ELSE window_start END
              WHERE id IN (SELECT id FROM (
                             SELECT d.id, d.next_attempt_at,
                                    row_number() OVER (PARTITION BY d.endpoint_id ORDER BY d.next_attempt_at, d.id) AS rn
                               FROM webhook_deliveries d
                              WHERE d.status = 'pending' AND d.next_attempt_at <= ?3
                                AND d.endpoint_id NOT IN (SELECT value FROM json_each(?6))
                                AND NOT EXISTS (SELECT 1 FROM outbox o JOIN subject_restrictions x ON x.subject_id = o.subject_id
                                                 WHERE o.id = d.event_id)) ranked
                            WHERE rn <= ?5
                            ORDER BY next_attempt_at LIMIT ?4)
          RETURNING id"
        }
    };
    let skip = serde_json::to_string(skip).unwrap_or_else(|_| "[]".into());
    let ids: Vec<Id> = diesel::sql_query(sql)
        .into_boxed::<MultiBackend>()
        .bind::<Text, _>(token.to_owned())
        .bind::<Timestamp, _>(lease_until)
        .bind::<Timestamp, _>(now)
        .bind::<BigInt, _>(limit)
        .bind::<BigInt, _>(per_endpoint)
        .bind::<Text, _>(skip)
        .load(conn)?;
    let ids: Vec<String> = ids.into_iter().map(|i| i.id).collect();
    Ok(wd::table.filter(wd::id.eq_any(&ids)).load(conn)?)
}

/// Hands a claimed delivery back unattempted (its endpoint's circuit is open, or a probe is
/// already out): it is due again at `next_attempt_at` and the claim does not count as an
/// attempt. Only while this worker holds the lease.
pub fn release(
    conn: &mut DbConnection,
    id: &str,
    token: &str,
    next_attempt_at: NaiveDateTime,
) -> Result<bool, DbError> {
    let n = diesel::update(leased(id, token))
        .set((
            wd::next_attempt_at.eq(next_attempt_at),
            wd::attempts.eq(wd::attempts - 1),
            wd::lease_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

/// The pending delivery `id`, as long as the lease `token` still holds it.
#[diesel::dsl::auto_type(no_type_alias)]
fn leased<'a>(id: &'a str, token: &'a str) -> _ {
    let pending: &'static str = "pending";
    wd::table
        .filter(wd::id.eq(id))
        .filter(wd::lease_token.eq(token))
        .filter(wd::status.eq(pending))
}

pub fn payloads(conn: &mut DbConnection, event_ids: &[String]) -> Result<Vec<(String, String)>, DbError> {
    Ok(outbox::table
        .filter(outbox::id.eq_any(event_ids))
        .select((outbox::id, outbox::payload))
        .load(conn)?)
}

/// What an attempt came to.
pub struct AttemptResult {
    pub status: &'static str,
    pub next_attempt_at: NaiveDateTime,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub delivered_at: Option<NaiveDateTime>,
}

/// Records an attempt, only if this worker still holds the lease.
pub fn finish_attempt(conn: &mut DbConnection, id: &str, token: &str, result: &AttemptResult) -> Result<bool, DbError> {
    let n = diesel::update(leased(id, token))
        .set((
            wd::status.eq(result.status),
            wd::next_attempt_at.eq(result.next_attempt_at),
            wd::last_status.eq(result.last_status),
            wd::last_error.eq(result.last_error.as_deref()),
            wd::delivered_at.eq(result.delivered_at),
            wd::lease_token.eq(None::<String>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}

pub fn list_deliveries(
    conn: &mut DbConnection,
    engine_id: Option<&str>,
    status: Option<&str>,
    limit: i64,
) -> Result<Vec<DeliveryRow>, DbError> {
    let mut q = wd::table.into_boxed();
    if let Some(engine) = engine_id {
        q = q.filter(wd::engine_id.eq(engine.to_owned()));
    }
    if let Some(status) = status {
        q = q.filter(wd::status.eq(status.to_owned()));
    }
    Ok(q.order((wd::created_at.desc(), wd::id.asc())).limit(limit).load(conn)?)
}

pub fn find_delivery(conn: &mut DbConnection, id: &str) -> Result<Option<DeliveryRow>, DbError> {
    Ok(wd::table.find(id).first(conn).optional()?)
}

/// Puts a finished delivery back in line with a fresh retry window.
pub fn replay(conn: &mut DbConnection, id: &str, now: NaiveDateTime) -> Result<bool, DbError> {
    let n = diesel::update(wd::table.filter(wd::id.eq(id)).filter(wd::status.ne("pending")))
        .set((
            wd::status.eq("pending"),
            wd::attempts.eq(0),
            wd::next_attempt_at.eq(now),
            wd::window_start.eq(now),
            wd::lease_token.eq(None::<String>),
            wd::delivered_at.eq(None::<NaiveDateTime>),
        ))
        .execute(conn)?;
    Ok(n == 1)
}
