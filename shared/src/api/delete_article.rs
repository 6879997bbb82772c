//! `DELETE /api/articles/{slug}`: delete an article and all that hangs off it.

use lambda_http::{Body, Request, Response};
use tracing::instrument;

use crate::App;
use crate::domain::{ArticleId, Slug};
use crate::http::{self, ApiError, Caller};

/// Why an article could not be deleted: the cases of every author-only
/// article action.
pub(crate) type DeleteArticleError = super::AuthorOnlyError;

/// Deletes an article of the caller's; see `Store::delete_article` for how
/// the delete stays consistent and resumable. A delete that failed part-way
/// left a tombstone, which is still the author's to finish deleting.
#[instrument(skip(app, caller), fields(caller = %caller.id))]
pub(crate) async fn delete_article(
    app: &App,
    slug: &Slug,
    id: &ArticleId,
    caller: &Caller,
) -> Result<(), DeleteArticleError> {
    // The caller's item beside it: their session must be live.
    let found = super::in_session(app, caller, app.store.article_or_tombstone(id, true))
        .await?
        .map_err(super::AuthorOnlyError::Ended)?;
    let article = super::authored(found, slug, &caller.id)?;
    app.store.delete_article(&article).await?;
    Ok(())
}

/// Lambda entry point.
#[utoipa::path(
    delete,
    path = "/articles/{slug}",
    tag = "Articles",
    operation_id = "DeleteArticle",
    summary = "Delete an article",
    params(("slug" = String, Path, description = "The article's slug")),
    responses(
        (status = 204, description = "Deleted, with its comments and favorites"),
        (status = 403, description = "Someone else's article", body = crate::http::ErrorsBody),
        (status = 404, description = "No such article", body = crate::http::ErrorsBody),
        (status = 422, description = "Listed by the RealWorld spec for this operation; this implementation does not answer it here", body = crate::http::ErrorsBody),
    ),
    security(("Token" = [])),
)]
pub async fn handle(app: &App, request: Request) -> Response<Body> {
    http::respond(serve(app, &request).await)
}

async fn serve(app: &App, request: &Request) -> Result<Response<Body>, ApiError> {
    let caller = http::require_auth(app, request)?;
    let (slug, id) = http::slug_param(request)?;
    delete_article(app, &slug, &id, &caller).await?;
    Ok(http::no_content())
}
