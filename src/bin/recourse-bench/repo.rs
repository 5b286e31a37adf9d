//! The bench's own SQL, run straight on the database and never through the server: the
//! baseline's transactions, bulk seeding of queued appeals, and the scratch PostgreSQL database
//! each run creates and drops.

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use recourse::appeals::repo::queue::{ClaimRequest, claim_next};
use recourse::db::schema::appeals::dsl;
use recourse::db::{self, DbConnection, DbError};
use recourse::decisions::model::DecisionRow;

use crate::error::BoxError;
use crate::workload::ENGINE;

/// Runs `f` in one transaction, begun as the server begins its writes (`BEGIN IMMEDIATE` on
/// SQLite, so the write lock is taken up front), but with none of the server's write path around
/// it (no writer turn, no retry): the bare cost the baseline stands for.
fn transaction<T>(
    conn: &mut DbConnection,
    f: impl FnOnce(&mut DbConnection) -> Result<T, DbError>,
) -> Result<T, DbError> {
    let begin = match conn {
        DbConnection::Sqlite(_) => "BEGIN IMMEDIATE",
        DbConnection::Pg(_) => "BEGIN",
    };
    conn.batch_execute(begin)?;
    match f(conn) {
        Ok(value) => {
            conn.batch_execute("COMMIT")?;
            Ok(value)
        }
        Err(e) => {
            let _ = conn.batch_execute("ROLLBACK");
            Err(e)
        }
    }
}

/// Inserts `rows` in one transaction, with the server's own insert.
pub fn insert_decisions(conn: &mut DbConnection, rows: &[DecisionRow]) -> Result<(), DbError> {
    transaction(conn, |conn| recourse::decisions::repo::insert_many(conn, rows))
}

/// The bare claim, in its own transaction: the server's claim statement for `reviewer`, with
/// none of the checks and reads around it. The claimed appeal's id, if any was eligible.
pub fn claim(
    conn: &mut DbConnection,
    reviewer: &str,
    authorities: &[String],
    token: &str,
) -> Result<Option<String>, DbError> {
    let now = db::now();
    transaction(conn, |conn| {
        claim_next(
            conn,
            &ClaimRequest {
                reviewer,
                authorities,
                queue: None,
                appeal_id: None,
                token,
                now,
                expires_at: now + chrono::Duration::minutes(15),
            },
        )
    })
}

/// Marks a claimed appeal decided, fenced by its lease token, in its own transaction.
pub fn complete(conn: &mut DbConnection, id: &str, token: &str) -> Result<(), DbError> {
    transaction(conn, |conn| {
        diesel::update(dsl::appeals.find(id).filter(dsl::lease_token.eq(token)))
            .set((dsl::status.eq("decided"), dsl::decided_at.eq(db::now())))
            .execute(conn)
            .map_err(DbError::from)
    })?;
    Ok(())
}

/// Inserts `count` decisions with one queued appeal each, in bulk SQL, numbered after `from`
/// (ids carry `tag`, so runs never collide). The appeals carry `decision_type` so that only the
/// intended reviewers can take them.
pub fn seed_appeals(
    conn: &mut DbConnection,
    tag: &str,
    from: usize,
    count: usize,
    decision_type: &str,
) -> Result<(), BoxError> {
    let (first, last) = (from + 1, from + count);
    let now = db::now().format("%Y-%m-%d %H:%M:%S%.6f").to_string();
    let due = (db::now() + chrono::Duration::days(30))
        .format("%Y-%m-%d %H:%M:%S%.6f")
        .to_string();
    let explanation = r#"{"inputs":{"x":1},"contributions":[],"reason_codes":[]}"#;
    let sql = match conn {
        DbConnection::Sqlite(_) => format!(
            "WITH RECURSIVE seq(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM seq WHERE n < {last})
             INSERT INTO decisions SELECT printf('d-{tag}-%d', n), '{ENGINE}', printf('x-{tag}-%d', n), printf('s-%d', n % 100000),
               '{decision_type}', 'declined', 0.4, 0.5, 'limits', '3.2.0', 1, '{now}', '{explanation}', 'bulk',
               'under_appeal', 'declined', '{now}' FROM seq;
             WITH RECURSIVE seq(n) AS (SELECT {first} UNION ALL SELECT n + 1 FROM seq WHERE n < {last})
             INSERT INTO appeals SELECT printf('a-{tag}-%d', n), printf('d-{tag}-%d', n), printf('s-%d', n % 100000),
               '{decision_type}', 'queued', 'default', n % 10, 0, NULL, printf('s-%d', n % 100000), 'subject', 'web', NULL,
               '[\"other\"]', 'bulk statement', NULL, NULL, NULL, '{now}', '{due}', NULL, NULL, NULL, NULL, NULL, NULL,
               NULL, NULL, '{now}' FROM seq;"
        ),
        DbConnection::Pg(_) => format!(
            "INSERT INTO decisions SELECT 'd-{tag}-' || n, '{ENGINE}', 'x-{tag}-' || n, 's-' || (n % 100000),
               '{decision_type}', 'declined', 0.4, 0.5, 'limits', '3.2.0', true, '{now}'::timestamp, '{explanation}', 'bulk',
               'under_appeal', 'declined', '{now}'::timestamp FROM generate_series({first}, {last}) AS n;
             INSERT INTO appeals SELECT 'a-{tag}-' || n, 'd-{tag}-' || n, 's-' || (n % 100000),
               '{decision_type}', 'queued', 'default', n % 10, 0, NULL, 's-' || (n % 100000), 'subject', 'web', NULL,
               '[\"other\"]', 'bulk statement', NULL, NULL, NULL, '{now}'::timestamp, '{due}'::timestamp, NULL, NULL, NULL,
               NULL, NULL, NULL, NULL, NULL, '{now}'::timestamp FROM generate_series({first}, {last}) AS n;
             ANALYZE appeals; ANALYZE decisions;"
        ),
    };
    conn.batch_execute(&sql)?;
    Ok(())
}

/// Creates a fresh, uniquely named database on the server `admin_url` points at. Returns its URL
/// and its name (for [`drop_pg_database`]).
pub fn create_pg_database(admin_url: &str) -> Result<(String, String), BoxError> {
    let name = format!("recourse_bench_{}", uuid::Uuid::new_v4().simple());
    let mut conn = PgConnection::establish(admin_url)?;
    conn.batch_execute(&format!("CREATE DATABASE \"{name}\""))?;
    let base = admin_url.split('?').next().unwrap_or(admin_url);
    let (server, _) = base.rsplit_once('/').ok_or("the Postgres URL needs a /database path")?;
    Ok((format!("{server}/{name}"), name))
}

/// Drops the database [`create_pg_database`] made, closing what is still connected to it.
pub fn drop_pg_database(admin_url: &str, name: &str) {
    if let Ok(mut conn) = PgConnection::establish(admin_url) {
        let _ = conn.batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"));
    }
}
