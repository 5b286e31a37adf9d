//! A longest life for every client connection. actix applies its request-head timeout only to a
//! connection's first request: a client that sends one quick request and then dribbles the
//! headers of the next, a byte at a time, would hold its kept-alive connection for ever.
//!
//! Past `max_age`, the next response on the connection says `Connection: close`, so a
//! well-behaved client finishes and reconnects without racing the close. A connection still open
//! [`GRACE`] later (a client that is not finishing a request) has its read side shut down: the
//! request in flight, if its body is in, is still answered, then the connection closes.
//!
//! The socket is reached through a duplicate of its descriptor, owned here and closed as soon as
//! the connection ends (the guard lives in the connection's extensions), so a closed connection
//! is never held open by the watchdog and a reused descriptor number is never touched.

use std::any::Any;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use actix_web::body::MessageBody;
use actix_web::dev::{Extensions, ServiceRequest, ServiceResponse};
use actix_web::http::ConnectionType;
use actix_web::middleware::Next;

/// How long after `max_age` a connection that has not closed by itself is shut down (at most
/// `max_age` itself, for short ages).
pub const GRACE: Duration = Duration::from_secs(10);

/// Lives in the connection's extensions: dropped with the connection, it closes the duplicate
/// descriptor and ends the watchdog.
struct AgeGuard {
    closes_at: std::time::Instant,
    socket: Arc<Mutex<Option<OwnedFd>>>,
    _cancel: tokio::sync::oneshot::Sender<()>,
}

impl Drop for AgeGuard {
    fn drop(&mut self) {
        if let Ok(mut socket) = self.socket.lock() {
            socket.take();
        }
    }
}

/// For `HttpServer::on_connect`: starts the watchdog of one TCP connection.
pub fn watch(max_age: Duration) -> impl Fn(&dyn Any, &mut Extensions) + Send + Sync + Clone + 'static {
    move |connection, extensions| {
        let Some(stream) = connection.downcast_ref::<actix_web::rt::net::TcpStream>() else {
            return;
        };
        let Ok(duplicate) = stream.as_fd().try_clone_to_owned() else {
            tracing::warn!("could not watch a connection's age: no descriptor left to duplicate");
            return;
        };
        let socket = Arc::new(Mutex::new(Some(duplicate)));
        let (cancel, cancelled) = tokio::sync::oneshot::channel::<()>();
        extensions.insert(AgeGuard {
            closes_at: std::time::Instant::now() + max_age,
            socket: socket.clone(),
            _cancel: cancel,
        });
        actix_web::rt::spawn(async move {
            tokio::select! {
                _ = cancelled => {}
                () = actix_web::rt::time::sleep(max_age + GRACE.min(max_age)) => {
                    if let Ok(socket) = socket.lock()
                        && let Some(fd) = socket.as_ref()
                    {
                        tracing::info!(max_age_s = max_age.as_secs(), "closing a connection at its maximum age");
                        // SAFETY: `fd` is our own open duplicate of the connection's socket;
                        // shutdown(2) only changes the socket's state.
                        unsafe {
                            libc::shutdown(fd.as_raw_fd(), libc::SHUT_RD);
                        }
                    }
                }
            }
        });
    }
}

/// Middleware: once the connection is past its age, the response closes it (`Connection: close`).
pub async fn close_when_old(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let old = req
        .conn_data::<AgeGuard>()
        .is_some_and(|guard| std::time::Instant::now() >= guard.closes_at);
    let mut res = next.call(req).await?;
    if old {
        res.response_mut().head_mut().set_connection_type(ConnectionType::Close);
    }
    Ok(res)
}
