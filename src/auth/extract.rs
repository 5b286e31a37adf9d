//! The `Actor` extractor: a verified bearer token from the `Authorization` header, and nothing
//! else (tokens in query strings or cookies are never read here).

use std::future::{Ready, ready};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use tracing_actix_web::RequestId;

use super::TokenVerifier;
use crate::domain::Actor;
use crate::error::ApiError;

impl FromRequest for Actor {
    type Error = ApiError;
    type Future = Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

fn authenticate(req: &HttpRequest) -> Result<Actor, ApiError> {
    let verifier = req
        .app_data::<web::Data<TokenVerifier>>()
        .ok_or_else(|| ApiError::Internal("token verifier missing from app data".into()))?;
    let value = req
        .headers()
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing bearer token in the Authorization header"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("the Authorization header must be 'Bearer <token>'"))?;
    let claims = verifier.verify(token).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        let why = match e.kind() {
            ErrorKind::ExpiredSignature => "the token has expired",
            ErrorKind::ImmatureSignature => "the token is not yet valid",
            ErrorKind::InvalidIssuer => "the token has the wrong issuer",
            ErrorKind::InvalidAudience => "the token has the wrong audience",
            ErrorKind::InvalidAlgorithm => "the token's algorithm is not accepted",
            ErrorKind::MissingRequiredClaim(_) => "the token lacks a required claim",
            _ => "the token is invalid",
        };
        tracing::info!(reason = why, "rejected bearer token");
        ApiError::unauthorized(why)
    })?;
    if claims.sub.is_empty() {
        return Err(ApiError::unauthorized("the token has an empty subject"));
    }
    // The subject is stored as the actor of what it does; a control character (NUL above all,
    // which PostgreSQL cannot store) has no place in an identifier.
    if claims.sub.chars().any(char::is_control) {
        return Err(ApiError::unauthorized(
            "the token's subject contains control characters",
        ));
    }
    if claims.role == crate::domain::Role::System {
        return Err(ApiError::unauthorized("the token's role is not accepted"));
    }
    let actor = Actor {
        id: claims.sub,
        role: claims.role,
        request_id: req.extensions().get::<RequestId>().map(ToString::to_string),
    };
    // Kept on the request so that middleware can attribute what happens next (denied accesses).
    req.extensions_mut().insert(actor.clone());
    Ok(actor)
}
