//! A deadline for receiving a request body. actix's `client_request_timeout` bounds only the
//! request line and headers; a client that sends its headers promptly and then dribbles the body
//! (or goes silent) would otherwise hold its connection, and the handler waiting on it, for as
//! long as it likes. Past the deadline the request gets 408, and actix closes the connection
//! (its unread body makes it unusable).

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Payload, ServiceRequest, ServiceResponse};
use actix_web::error::PayloadError;
use actix_web::http::{StatusCode, header};
use actix_web::middleware::Next;
use actix_web::web::Bytes;
use futures_util::Stream;

use crate::error::ApiError;

/// The request's payload, noting when it has been read to the end.
struct Watched {
    inner: Payload,
    finished: Arc<AtomicBool>,
}

impl Stream for Watched {
    type Item = Result<Bytes, PayloadError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let next = Pin::new(&mut self.inner).poll_next(cx);
        if matches!(next, Poll::Ready(None) | Poll::Ready(Some(Err(_)))) {
            self.finished.store(true, Ordering::Relaxed);
        }
        next
    }
}

fn has_body(req: &ServiceRequest) -> bool {
    let headers = req.headers();
    headers.contains_key(header::TRANSFER_ENCODING)
        || headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim() != "0")
}

/// Middleware: answers 408 if the body has not been received `within` of the handler starting.
/// A handler that is merely slow after reading its body is left alone.
pub async fn limit(
    within: Duration,
    mut req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    if !has_body(&req) {
        return next.call(req).await;
    }
    let finished = Arc::new(AtomicBool::new(false));
    let (_, payload) = req.parts_mut();
    let watched = Watched {
        inner: std::mem::replace(payload, Payload::None),
        finished: finished.clone(),
    };
    *payload = Payload::from(Box::pin(watched) as Pin<Box<dyn Stream<Item = _>>>);
    let call = next.call(req);
    tokio::pin!(call);
    let deadline = tokio::time::sleep(within);
    tokio::pin!(deadline);
    tokio::select! {
        response = &mut call => return response,
        () = &mut deadline => {}
    }
    if finished.load(Ordering::Relaxed) {
        // The body arrived in time; the handler is just working.
        return call.await;
    }
    tracing::info!(
        timeout_ms = within.as_millis() as u64,
        "request body not received in time"
    );
    Err(ApiError::client(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request body did not arrive within {}",
            humantime::format_duration(within)
        ),
    )
    .into())
}
