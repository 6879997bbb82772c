//! Comments: ids from a per-article counter, the article and its comments
//! read in one query, deletes conditioned on the author.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    ReturnConsumedCapacity, ReturnValue, ReturnValuesOnConditionCheckFailure,
};
use serde::Deserialize;

use super::articles::{ABSENT, ArticleWriteError, LIVE};
use super::items::{from_item, key_item, to_item};
use super::keys;
use super::transact::{TxOutcome, undecided};
use super::writes::{n, s};
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
    /// Storage failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl Store {
    /// Hands out the next comment id of a live article: its counter goes up
    /// by one, so concurrent comments get distinct ids. An id handed out to a
    /// comment that is then not written is never used again.
    pub(crate) async fn next_comment_id(
        &self,
        article: &ArticleId,
    ) -> Result<CommentId, CommentWriteError> {
        let request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(&keys::article(article))))
            .update_expression("ADD comment_seq :one")
            .condition_expression(LIVE)
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        let output = match self.call("UpdateItem", request).await? {
            Ok(output) => output,
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                return Err(CommentWriteError::NotFound);
            }
            Err(e) => return Err(StoreError::request("UpdateItem", e).into()),
        };
        #[derive(Deserialize)]
        struct Seq {
            comment_seq: CommentId,
        }
        let seq: Seq = from_item(output.attributes.unwrap_or_default())?;
        Ok(seq.comment_seq)
    }

    /// Writes `comment` (its id from [`Store::next_comment_id`]) on a live
    /// article, with `receipt` in the same transaction when given.
    pub(crate) async fn put_comment(
        &self,
        article: &ArticleId,
        comment: &Comment,
        receipt: Option<&Receipt>,
    ) -> Result<(), CommentWriteError> {
        // The check keeps a comment from landing on an article mid-delete.
        let writes = vec![
            self.check(&keys::article(article), LIVE, &[]),
            self.put(
                to_item(&keys::comment(article, comment.id), &[], comment),
                Some(ABSENT),
            ),
        ];
        match self.transact(writes, receipt, undecided).await? {
            TxOutcome::Committed => Ok(()),
            TxOutcome::ConditionFailed(_) => Err(CommentWriteError::NotFound),
            TxOutcome::KeyTaken => Err(CommentWriteError::KeyTaken),
        }
    }

    /// An article's comments, newest first, with authors and the viewer's
    /// follow flags: one query (article and comments together) and one batch read.
    pub(crate) async fn comments(
        &self,
        article: &ArticleId,
        viewer: Option<&UserId>,
    ) -> Result<Option<(Article, Vec<CommentView>)>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND sk BETWEEN :article AND :end")
            .expression_attribute_values(":pk", s(keys::article_partition(article)))
            .expression_attribute_values(":article", s(keys::ARTICLE_SK))
            .expression_attribute_values(":end", s(keys::COMMENTS_END))
            .scan_index_forward(false)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let mut items = self.collect_query(request, None).await?;
        // Descending, so the article item comes last.
        let Some(article_item) = items.pop() else {
            return Ok(None);
        };
        let article: Article = from_item(article_item)?;
        if article.deleting {
            return Ok(None);
        }
        let comments: Vec<Comment> = items.into_iter().map(from_item).collect::<Result<_, _>>()?;
        let authors: Vec<UserId> = comments.iter().map(|c| c.author_id.clone()).collect();
        let profiles = self.profiles(viewer, authors).await?;
        Ok(Some((
            article,
            comments
                .into_iter()
                .filter_map(|comment| {
                    let (author, following) = profiles.get(&comment.author_id)?.clone();
                    Some(CommentView {
                        comment,
                        author,
                        following,
                    })
                })
                .collect(),
        )))
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
