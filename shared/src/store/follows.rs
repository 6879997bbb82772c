//! Follows (one item per edge, under the follower) and profiles: users as
//! one viewer sees them, read in one batch with the follow edges that matter.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;

use super::items::{FollowRecord, Item, follow_item, from_item};
use super::keys::{self, Key};
use super::receipts::Receipt;
use super::transact::{TxOutcome, undecided};
use super::writes::s;
use super::{Store, StoreError};
use crate::domain::{User, UserId};

impl Store {
    /// Makes `follower` follow (or stop following) `followee`, with `receipt`
    /// in the same transaction when given. Idempotent. `false` if the
    /// writer's claim on its idempotency key is gone (nothing written).
    pub(crate) async fn set_following(
        &self,
        follower: &UserId,
        followee: &UserId,
        following: bool,
        receipt: Option<&Receipt>,
    ) -> Result<bool, StoreError> {
        let edge = if following {
            self.put(follow_item(follower, followee), None)
        } else {
            self.delete(&keys::follow(follower, followee), None, &[])
        };
        Ok(self.transact(vec![edge], receipt, undecided).await? != TxOutcome::KeyTaken)
    }

    /// Everyone `follower` follows (one query; its size grows with that number only).
    pub(crate) async fn followed_by(&self, follower: &UserId) -> Result<Vec<UserId>, StoreError> {
        let request = self
            .client
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk AND begins_with(sk, :prefix)")
            .expression_attribute_values(":pk", s(keys::user(follower).pk()))
            .expression_attribute_values(":prefix", s(keys::FOLLOWS_PREFIX))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        self.collect_query(request, None)
            .await?
            .into_iter()
            .map(|item| from_item::<FollowRecord>(item).map(|f| f.followee))
            .collect()
    }

    /// Users by id, with whether `viewer` follows each, in one batch read.
    pub(crate) async fn profiles(
        &self,
        viewer: Option<&UserId>,
        users: impl IntoIterator<Item = UserId>,
    ) -> Result<HashMap<UserId, (User, bool)>, StoreError> {
        let users: Vec<UserId> = users.into_iter().collect();
        let request = ProfileRequest::new(viewer, &users);
        let found = self.batch_get(request.keys(), false).await?;
        request.resolve(&found)
    }
}

/// The keys needed to show some users to a viewer, and how to read them back;
/// lets callers fold profile reads into a larger batch read.
pub(crate) struct ProfileRequest<'a> {
    viewer: Option<&'a UserId>,
    users: Vec<UserId>,
}

impl<'a> ProfileRequest<'a> {
    pub(crate) fn new(viewer: Option<&'a UserId>, users: &[UserId]) -> Self {
        let mut users = users.to_vec();
        users.sort();
        users.dedup();
        Self { viewer, users }
    }

    pub(crate) fn keys(&self) -> Vec<Key> {
        let mut keys: Vec<Key> = self.users.iter().map(keys::user).collect();
        if let Some(viewer) = self.viewer {
            keys.extend(self.users.iter().map(|u| keys::follow(viewer, u)));
        }
        keys
    }

    pub(crate) fn resolve(
        &self,
        found: &HashMap<Key, Item>,
    ) -> Result<HashMap<UserId, (User, bool)>, StoreError> {
        let mut profiles = HashMap::new();
        for user in &self.users {
            let Some(item) = found.get(&keys::user(user)) else {
                continue;
            };
            let record: User = from_item(item.clone())?;
            let following = self
                .viewer
                .is_some_and(|viewer| found.contains_key(&keys::follow(viewer, user)));
            profiles.insert(user.clone(), (record, following));
        }
        Ok(profiles)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Email, PasswordHashString, Username};
    use crate::store::items::user_item;

    /// A user id padded from `name` (ids are 16 base-36 characters).
    fn uid(name: &str) -> UserId {
        UserId::parse(&format!("{name:0<16}")).unwrap()
    }

    fn user(name: &str) -> User {
        User::new(
            uid(name),
            Username::parse(Some(name)).unwrap(),
            Email::parse(Some(&format!("{name}@example.com"))).unwrap(),
            PasswordHashString::parse("$argon2id$x").unwrap(),
        )
    }

    fn found(users: &[&str], follows: &[(&str, &str)]) -> HashMap<Key, Item> {
        let users = users
            .iter()
            .map(|name| (keys::user(&uid(name)), user_item(&user(name))));
        let follows = follows.iter().map(|(from, to)| {
            (
                keys::follow(&uid(from), &uid(to)),
                follow_item(&uid(from), &uid(to)),
            )
        });
        users.chain(follows).collect()
    }

    #[test]
    fn an_anonymous_viewer_reads_each_user_once_and_no_follow_edges() {
        let request = ProfileRequest::new(None, &[uid("b"), uid("a"), uid("b")]);
        assert_eq!(
            request.keys(),
            vec![keys::user(&uid("a")), keys::user(&uid("b"))]
        );
    }

    #[test]
    fn a_signed_in_viewer_also_reads_its_edge_to_each_user() {
        let viewer = uid("v");
        let request = ProfileRequest::new(Some(&viewer), &[uid("a"), uid("b")]);
        assert_eq!(
            request.keys(),
            vec![
                keys::user(&uid("a")),
                keys::user(&uid("b")),
                keys::follow(&viewer, &uid("a")),
                keys::follow(&viewer, &uid("b")),
            ]
        );
    }

    #[test]
    fn following_is_true_exactly_where_the_viewers_edge_was_found() {
        let viewer = uid("v");
        let request = ProfileRequest::new(Some(&viewer), &[uid("a"), uid("b")]);
        // An edge from someone else to `b` must not count as the viewer's.
        let profiles = request
            .resolve(&found(&["a", "b"], &[("v", "a"), ("x", "b")]))
            .unwrap();
        assert_eq!(profiles.len(), 2);
        assert!(profiles[&uid("a")].1);
        assert!(!profiles[&uid("b")].1);
        assert_eq!(profiles[&uid("a")].0.username.as_str(), "a");
    }

    #[test]
    fn a_user_not_found_is_left_out_rather_than_guessed() {
        let request = ProfileRequest::new(None, &[uid("a"), uid("gone")]);
        let profiles = request.resolve(&found(&["a"], &[])).unwrap();
        assert_eq!(profiles.keys().collect::<Vec<_>>(), vec![&uid("a")]);
        assert!(!profiles[&uid("a")].1);
    }
}
