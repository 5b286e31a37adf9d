//! Denied accesses are audited (GDPR Art. 5(2), 32): an authenticated caller refused an object
//! (403) or sent to a 404 on a real route (another person's object, or probing for ids) leaves
//! an `access.denied` entry naming the route and the ids asked for. Unauthenticated requests
//! carry no identity worth recording; they are logged and throttled instead.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};
use serde_json::{Map, Value, json};

use crate::audit::repo::{self, Event};
use crate::db::{Db, DbError, write_tx};
use crate::domain::Actor;
use crate::subjects::subject_ref;

pub async fn audit_denials(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
        record_denial(res.request(), status).await;
    }
    Ok(res)
}

async fn record_denial(req: &HttpRequest, status: StatusCode) {
    // A 404 off the route table is a wrong URL, not a refused object.
    let Some(route) = req.match_pattern() else {
        return;
    };
    let Some(actor) = req.extensions().get::<Actor>().cloned() else {
        return;
    };
    let Some(db) = req.app_data::<web::Data<Db>>().cloned() else {
        return;
    };
    // Path ids are recorded as asked for, except a subject id, which is personal data and is
    // recorded under its pseudonym like everywhere else in the log.
    let params: Map<String, Value> = req
        .match_info()
        .iter()
        .map(|(name, value)| {
            let value = if name == "subject_id" {
                subject_ref(value)
            } else {
                value.to_owned()
            };
            (name.to_owned(), Value::String(value))
        })
        .collect();
    let details = json!({"method": req.method().as_str(), "status": status.as_u16(), "params": params});
    let written: Result<(), DbError> = db
        .maintain(move |conn| {
            write_tx(conn, |conn| {
                repo::record(
                    conn,
                    &actor,
                    Event {
                        action: "access.denied",
                        object_type: "route",
                        object_id: &route,
                        details,
                    },
                )
            })
        })
        .await;
    if let Err(e) = written {
        tracing::warn!(error = %e, "could not audit a denied access");
    }
}
