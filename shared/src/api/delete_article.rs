//! `DELETE /api/articles/{slug}`: delete an article and all that hangs off it.

use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, Slug, UserId};
use crate::http::{self, ApiError};

/// Deletes an article of the caller's; see `Store::delete_article` for how
/// the delete stays consistent and resumable.
#[instrument(skip(app))]
pub async fn delete_article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &UserId,
) -> Result<(), ApiError> {
    app.store.delete_article(id, slug, caller).await?;
    Ok(())
}

/// Lambda entry point.
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    delete_article(app, &slug, &id, &caller.id).await?;
    Ok(http::no_content())
}
