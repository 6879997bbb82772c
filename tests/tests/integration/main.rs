//! The integration tests, one test binary: the real handlers on API Gateway
//! events against DynamoDB Local (each test on a table of its own, so they run
//! in parallel), and the template's agreement with everything else.
//!
//! Run one module with a filter, e.g.
//! `cargo test -p conduit-tests --test integration articles::`. The cost
//! benchmark is `#[ignore]`d: `scripts/test.sh` runs it in a step of its own
//! (`cargo test -p conduit-tests --test integration -- --ignored --nocapture cost::`).

mod articles;
mod bad_input;
mod comments;
mod concurrency;
mod conditional;
mod cost;
mod edge;
mod events;
mod faults;
mod feed;
mod iam;
mod idempotency;
mod key_ring;
mod layers;
mod login_limits;
mod openapi;
mod operations;
mod sessions;
mod template;
mod users;
