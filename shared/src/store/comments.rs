//! Comments: written beside a check of the live article, read a bounded
//! page at a time, deleted on a condition of the author.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValuesOnConditionCheckFailure};

use super::articles::ArticleWriteError;
use super::follows::ProfileRequest;
use super::items::{from_item, key_item, to_item};
use super::keys;
use super::transact::{TxOutcome, undecided};
use super::writes::{ABSENT, s};
use super::{Store, StoreError};
use crate::domain::{Article, ArticleId, Comment, CommentId, CommentView, UserId};
use crate::store::receipts::Receipt;

/// Why a new comment was not written.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CommentWriteError {
    /// No live article has this id (or it is being deleted).
    #[error("article not found")]
    NotFound,
    /// The write's idempotency key already holds a receipt; nothing was written.
    #[error("idempotency key already used")]
    KeyTaken,
    /// Another comment on the article has this id; nothing was written.
    #[error("comment id already used")]
    IdTaken,
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A page of an article's comments.
#[derive(Debug)]
pub(crate) struct CommentPage {
    /// The live article they belong to.
    pub article: Article,
    /// Newest first.
    pub comments: Vec<CommentView>,
    /// Whether older comments remain (the next page is `before` the last).
    pub more: bool,
}

impl Store {
    /// Writes `comment` on a live article, with `receipt` in the same
    /// transaction when given. The article is only checked, never written
    /// (on one of its counters, at random, once it is hot: `favorite_shards`
    /// as it was read), so comments share no item they write.
    pub(crate) async fn put_comment(
        &self,
        article: &ArticleId,
        favorite_shards: u8,
        comment: &Comment,
        receipt: Option<&Receipt>,
    ) -> Result<(), CommentWriteError> {
        // The check keeps a comment from landing on an article mid-delete.
        let writes = vec![
            self.live_check(article, favorite_shards),
            self.put(
                to_item(&keys::comment(article, comment.id), &[], comment),
                Some(ABSENT),
            ),
        ];
        match self.transact(writes, receipt, undecided).await? {
            TxOutcome::Committed => Ok(()),
            TxOutcome::ConditionFailed(failed) if failed[0] => Err(CommentWriteError::NotFound),
            TxOutcome::ConditionFailed(_) => Err(CommentWriteError::IdTaken),
            TxOutcome::KeyTaken => Err(CommentWriteError::KeyTaken),
        }
    }

    /// A page of an article's comments, newest first, older than `before`
    /// when given, at most `limit`, with authors and the viewer's follow
    /// flags, and whether older comments remain. One query (the article item
    /// sorts just below its comments, so a short list brings it along) and
    /// one batch read (authors, flags, and the article when the page was
    /// too long to reach it): whatever the article holds, a page reads at
    /// most `limit + 1` comments.
    pub(crate) async fn comments(
        &self,
        article: &ArticleId,
        viewer: Option<&UserId>,
        before: Option<CommentId>,
        limit: usize,
    ) -> Result<Option<CommentPage>, StoreError> {
        let end = match before {
            Some(id) => keys::comment_below(id),
            None => keys::COMMENTS_END.to_owned(),
        };
        let request = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND sk BETWEEN :article AND :end")
            .expression_attribute_values(":pk", s(keys::article_partition(article)))
            .expression_attribute_values(":article", s(keys::ARTICLE_SK))
            .expression_attribute_values(":end", s(end))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut items = self.collect_query(request, Some(limit + 1)).await?;
        // Descending, so the article item comes last when it was reached.
        let reached = items.last().is_some_and(|item| {
            item.get(keys::attr::SK)
                .and_then(|v| v.as_s().ok())
                .map(String::as_str)
                == Some(keys::ARTICLE_SK)
        });
        let article_item = if reached { items.pop() } else { None };
        if article_item.is_none() && items.len() <= limit {
            // Neither the article nor a full page: there is no article.
            return Ok(None);
        }
        let more = items.len() > limit;
        items.truncate(limit);
        let comments: Vec<Comment> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        let authors: Vec<UserId> = comments.iter().map(|c| c.author_id.clone()).collect();
        let profiles = ProfileRequest::new(viewer, &authors);
        let mut wanted = profiles.keys();
        let article_key = keys::article(article);
        if article_item.is_none() {
            wanted.push(article_key.clone());
        }
        let found = self.batch_get(wanted, false).await?;
        let Some(article_item) = article_item.or_else(|| found.get(&article_key).cloned()) else {
            return Ok(None);
        };
        let article: Article = from_item(article_item)?;
        if article.deleting {
            return Ok(None);
        }
        let profiles = profiles.resolve(&found)?;
        let comments = comments
            .into_iter()
            .filter_map(|comment| {
                let (author, following) = profiles.get(&comment.author_id)?.clone();
                Some(CommentView {
                    comment,
                    author,
                    following,
                })
            })
            .collect();
        Ok(Some(CommentPage {
            article,
            comments,
            more,
        }))
    }

    /// Deletes a comment of `author`'s, in one conditional request.
    pub(crate) async fn delete_comment(
        &self,
        article: &ArticleId,
        id: CommentId,
        author: &UserId,
    ) -> Result<(), ArticleWriteError> {
        let request = self
            .client
            .delete_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::comment(article, id))))
            .condition_expression("attribute_exists(pk) AND author_id = :me")
            .expression_attribute_values(":me", s(author.as_str()))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self.call("DeleteItem", request).await? {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e)) => match e.err() {
                DeleteItemError::ConditionalCheckFailedException(failed) => {
                    if failed.item().is_some_and(|item| !item.is_empty()) {
                        Err(ArticleWriteError::Forbidden)
                    } else {
                        Err(ArticleWriteError::NotFound)
                    }
                }
                _ => Err(StoreError::request("DeleteItem", SdkError::ServiceError(e)).into()),
            },
            Err(e) => Err(StoreError::request("DeleteItem", e).into()),
        }
    }
}
