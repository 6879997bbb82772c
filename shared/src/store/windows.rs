//! Fixed-window counters: a client's sign-in and sign-up requests, and the
//! failed logins against one email from every client together. Each window
//! is an item of its own, counted by one conditional `UpdateItem` and
//! expired by the table's TTL. The limits and windows are the use cases'.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::items::key_item;
use super::keys::{self, Key};
use super::writes::n;
use super::{Store, StoreError};
use crate::domain::{ClientAddress, Email};

/// One counted window: which one (its number since the Unix epoch), how many
/// it may count, and when its item may go (Unix seconds, the TTL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Window {
    /// The window's number: Unix time divided by its length.
    pub number: i64,
    /// Events it admits.
    pub limit: u32,
    /// When its item expires (Unix seconds).
    pub expires_at: i64,
}

impl Store {
    /// Counts one sign-in or sign-up request of `client` in `window`:
    /// `false` (and nothing counted) once it holds `window.limit`.
    pub(crate) async fn claim_client_request(
        &self,
        client: &ClientAddress,
        window: Window,
    ) -> Result<bool, StoreError> {
        self.claim_in(&keys::client_window(client, window.number), window)
            .await
    }

    /// Counts one login attempt against `email` in `window`, from whichever
    /// client: `false` (and nothing counted) once it holds `window.limit`.
    pub(crate) async fn claim_login_budget(
        &self,
        email: &Email,
        window: Window,
    ) -> Result<bool, StoreError> {
        self.claim_in(
            &keys::login_budget(&email.canonical(), window.number),
            window,
        )
        .await
    }

    /// Gives back an attempt [`Store::claim_login_budget`] counted in window
    /// `number` (it succeeded, so it was no guess). Nothing if the window's
    /// item has gone.
    pub(crate) async fn release_login_budget(
        &self,
        email: &Email,
        number: i64,
    ) -> Result<(), StoreError> {
        self.take_one_back(&keys::login_budget(&email.canonical(), number), "count")
            .await
    }

    /// Subtracts one from `attribute` of `key` while it is above zero (a
    /// claim given back); nothing when the item or the count is gone.
    pub(super) async fn take_one_back(&self, key: &Key, attribute: &str) -> Result<(), StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .update_expression("ADD #count :minus_one")
            .condition_expression("#count > :zero")
            .expression_attribute_names("#count", attribute)
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self.call("UpdateItem", request).await? {
            Ok(_) => Ok(()),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(())
            }
            Err(e) => Err(StoreError::request("UpdateItem", e)),
        }
    }

    /// Adds one to the count of `key` while it is below the window's limit,
    /// atomically, so concurrent requests cannot all pass a count they read.
    async fn claim_in(&self, key: &Key, window: Window) -> Result<bool, StoreError> {
        let request = self
            .client
            .update_item()
            .table_name(self.table())
            .set_key(Some(key_item(key)))
            .update_expression("SET expires_at = :expires ADD #count :one")
            .condition_expression("attribute_not_exists(#count) OR #count < :limit")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":expires", n(window.expires_at))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":limit", n(window.limit))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send();
        match self.call("UpdateItem", request).await? {
            Ok(_) => Ok(true),
            Err(SdkError::ServiceError(e))
                if matches!(e.err(), UpdateItemError::ConditionalCheckFailedException(_)) =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::request("UpdateItem", e)),
        }
    }
}
