//! Response bodies that several handlers share. They exist for the OpenAPI contract: handlers
//! build the same JSON with `json!`, and these types give it a schema.

use utoipa::ToSchema;

/// A list that is not paged: `{"items": [...]}`.
#[derive(ToSchema)]
pub struct Items<T: ToSchema> {
    pub items: Vec<T>,
}

/// A page of a list that is paged by cursor: pass `next_cursor` back as `after`; `null` when
/// there are no more pages.
#[derive(ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    pub next_cursor: Option<String>,
}

/// The body of `/healthz` and `/readyz`.
#[derive(ToSchema)]
pub struct Health {
    /// `ok` (the process is up) or `ready` (the database answers).
    #[schema(examples("ok"))]
    pub status: String,
}
