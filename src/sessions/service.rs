use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use rand::RngCore;
use serde_json::json;
use sha2::{Digest, Sha256};

use super::repo::{self, SessionRow};
use crate::audit;
use crate::auth::Claims;
use crate::db::{self, Db, DbConnection, DbError};
use crate::domain::{Actor, Role};

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("this sign-in link has already been used")]
    LinkUsed,
    #[error("the token has already expired")]
    Expired,
    #[error("the session store holds an unknown role {0:?}")]
    Corrupt(String),
    #[error(transparent)]
    Db(#[from] DbError),
}

/// A live browser session, as the UI sees it.
#[derive(Debug, Clone)]
pub struct WebSession {
    pub id_hash: String,
    pub actor_id: String,
    pub role: Role,
    pub csrf_token: String,
    pub expires_at: DateTime<Utc>,
}

impl WebSession {
    fn from_row(row: SessionRow) -> Result<Self, SessionError> {
        let role = row.role.parse().map_err(|_| SessionError::Corrupt(row.role.clone()))?;
        Ok(Self {
            id_hash: row.id_hash,
            actor_id: row.actor_id,
            role,
            csrf_token: row.csrf_token,
            expires_at: row.expires_at.and_utc(),
        })
    }

    /// The principal this session acts as, exactly as a bearer token with the same claims would.
    pub fn actor(&self, request_id: Option<String>) -> Actor {
        Actor {
            id: self.actor_id.clone(),
            role: self.role,
            request_id,
        }
    }
}

/// A new session and the cookie value that names it (shown to the browser once, never stored).
pub struct Started {
    pub cookie_value: String,
    pub session: WebSession,
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::rng().fill_bytes(&mut buf);
    hex::encode(buf)
}

/// The stored name of a session: the SHA-256 of its cookie value.
pub fn hash_cookie(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// Sessions end at the configured lifetime, or earlier when the token they came from expires.
fn session_expiry(now: NaiveDateTime, ttl: Duration, token_exp: Option<i64>) -> NaiveDateTime {
    let by_ttl = now + chrono::Duration::from_std(ttl).unwrap_or(chrono::Duration::hours(8));
    let by_token = token_exp
        .and_then(|exp| DateTime::<Utc>::from_timestamp(exp, 0))
        .map(|t| t.naive_utc());
    by_token.map_or(by_ttl, |t| t.min(by_ttl))
}

/// Opens a session: purges expired ones, ends the one it replaces, and audits the start. Runs in
/// the caller's write transaction.
fn open_in_tx(
    conn: &mut DbConnection,
    claims: &Claims,
    expires_at: NaiveDateTime,
    via: &str,
    replaces: Option<&str>,
    request_id: Option<String>,
) -> Result<Started, SessionError> {
    let now = db::now();
    if expires_at <= now {
        return Err(SessionError::Expired);
    }
    repo::purge_expired(conn, now)?;
    if let Some(old) = replaces {
        repo::delete(conn, &hash_cookie(old))?;
    }
    let cookie_value = random_hex(32);
    let row = SessionRow {
        id_hash: hash_cookie(&cookie_value),
        actor_id: claims.sub.clone(),
        role: claims.role.as_str().to_owned(),
        csrf_token: random_hex(32),
        created_at: now,
        expires_at,
    };
    repo::insert(conn, &row)?;
    let actor = Actor {
        id: claims.sub.clone(),
        role: claims.role,
        request_id,
    };
    // The object id is a prefix of the hash: enough to correlate start and end, useless as a key.
    audit::record(
        conn,
        &actor,
        "session.started",
        "web_session",
        &row.id_hash[..16],
        json!({"via": via, "expires_at": expires_at.and_utc()}),
    )?;
    Ok(Started {
        cookie_value,
        session: WebSession::from_row(row)?,
    })
}

/// Opens a session for the holder of a verified bearer token. `replaces` is the cookie of a
/// session this browser already had, which is ended.
#[tracing::instrument(skip_all, fields(role = %claims.role))]
pub async fn start(
    db: &Db,
    claims: Claims,
    ttl: Duration,
    replaces: Option<String>,
    request_id: Option<String>,
) -> Result<Started, SessionError> {
    db.write(move |conn| {
        let expires_at = session_expiry(db::now(), ttl, Some(claims.exp));
        open_in_tx(
            conn,
            &claims,
            expires_at,
            "token",
            replaces.as_deref(),
            request_id.clone(),
        )
    })
    .await
}

/// Exchanges a verified login-link token for a session, once: the link's `jti` is recorded in
/// the same transaction, so a second exchange fails on any instance.
#[tracing::instrument(skip_all, fields(role = %claims.role))]
pub async fn redeem_link(
    db: &Db,
    claims: Claims,
    ttl: Duration,
    replaces: Option<String>,
    request_id: Option<String>,
) -> Result<Started, SessionError> {
    let link_id = claims.jti.clone().unwrap_or_default();
    let link_expires = DateTime::<Utc>::from_timestamp(claims.exp, 0)
        .map(|t| t.naive_utc())
        .unwrap_or_else(db::now);
    let result = db
        .write(move |conn| {
            let now = db::now();
            repo::spend_link(conn, &link_id, now, link_expires.max(now))?;
            let expires_at = session_expiry(now, ttl, None);
            open_in_tx(
                conn,
                &claims,
                expires_at,
                "login_link",
                replaces.as_deref(),
                request_id.clone(),
            )
        })
        .await;
    match result {
        Err(SessionError::Db(e)) if e.is_unique_violation() => Err(SessionError::LinkUsed),
        other => other,
    }
}

/// The URL of a one-time login link, which the web UI exchanges for a session. JWTs are URL-safe
/// (base64url and dots), so the token needs no escaping.
pub fn login_link_url(base_url: &str, token: &str) -> String {
    format!("{}/ui/login/link?t={token}", base_url.trim_end_matches('/'))
}

/// Whether a login link was already exchanged (to say so before asking to confirm).
pub async fn link_spent(db: &Db, link_id: String) -> Result<bool, SessionError> {
    db.run(move |conn| Ok(repo::link_spent(conn, &link_id)?)).await
}

/// The live session named by a cookie value, if any.
pub async fn find(db: &Db, cookie_value: String) -> Result<Option<WebSession>, SessionError> {
    db.run(move |conn| {
        repo::find_live(conn, &hash_cookie(&cookie_value), db::now())?
            .map(WebSession::from_row)
            .transpose()
    })
    .await
}

/// Ends a session (logout). The row is deleted, so the cookie is worthless from now on.
#[tracing::instrument(skip_all)]
pub async fn end(db: &Db, session: WebSession, actor: Actor) -> Result<(), SessionError> {
    db.write(move |conn| {
        if repo::delete(conn, &session.id_hash)? {
            audit::record(
                conn,
                &actor,
                "session.ended",
                "web_session",
                &session.id_hash[..16],
                json!({}),
            )?;
        }
        Ok(())
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_never_outlives_its_token_or_its_lifetime() {
        let now: NaiveDateTime = "2026-11-29T10:00:00".parse().unwrap();
        let ttl = Duration::from_secs(3600);
        let token_soon = now.and_utc().timestamp() + 600;
        assert_eq!(
            session_expiry(now, ttl, Some(token_soon)),
            now + chrono::Duration::minutes(10)
        );
        let token_late = now.and_utc().timestamp() + 86_400;
        assert_eq!(
            session_expiry(now, ttl, Some(token_late)),
            now + chrono::Duration::hours(1)
        );
        assert_eq!(session_expiry(now, ttl, None), now + chrono::Duration::hours(1));
    }

    #[test]
    fn cookie_values_are_random_and_stored_hashed() {
        let a = random_hex(32);
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_hex(32));
        assert_ne!(hash_cookie(&a), a);
        assert_eq!(hash_cookie(&a).len(), 64);
    }
}
