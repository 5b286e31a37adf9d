//! Denied accesses are audited (GDPR Art. 5(2), 32): an authenticated caller refused an object
//! (403) or sent to a 404 on a real route (another person's object, or probing for ids) leaves
//! an `access.denied` entry naming the route and the ids asked for. Unauthenticated requests
//! carry no identity worth recording; they are logged and throttled instead.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::StatusCode;
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest, web};

use crate::audit::access::{self, Denial};
use crate::db::Db;
use crate::domain::Actor;

pub async fn audit_denials(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let status = res.status();
    if status == StatusCode::FORBIDDEN || status == StatusCode::NOT_FOUND {
        audit_denial(res.request(), status).await;
    }
    Ok(res)
}

async fn audit_denial(req: &HttpRequest, status: StatusCode) {
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
    let denial = Denial {
        method: req.method().as_str().to_owned(),
        status: status.as_u16(),
        route,
        params: req
            .match_info()
            .iter()
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
    };
    if let Err(e) = access::record_denial(&db, actor, denial).await {
        tracing::warn!(error = %e, "could not audit a denied access");
    }
}
