//! Conduit on Lambda: the domain crate every function shares. Its layers,
//! top down; each uses only the layers below it (`docs/architecture.md`,
//! checked by `tests/tests/integration/layers.rs`):
//!
//! - [`lambda`]: start-up wiring used by each function's `main`.
//! - [`openapi`]: the served OpenAPI document, derived from the endpoints.
//! - [`api`]: one module per endpoint: its DTOs, use case, error enum, handler;
//!   [`provision`]: the key ring's CloudFormation custom resource.
//! - [`idempotency`]: the HTTP half of idempotency keys (claim, wait, replay).
//! - [`http`]: request reading, callers, the error-to-status mapping, responses.
//! - [`app`]: what a function holds for its lifetime (store, token keys).
//! - [`store`]: the DynamoDB adapter (single table, see `docs/data-model.md`);
//!   [`auth`]: argon2id passwords, Ed25519 tokens and their key ring,
//!   request fingerprints.
//! - [`config`]: the environment, read once, and the time budgets.
//! - [`invocation`]: what one invocation carries (its deadline, request id).
//! - [`telemetry`]: metrics (EMF) and traces (X-Ray).
//! - [`domain`]: entities and validated values (parse, don't validate).

#![warn(missing_docs)]

pub mod api;
pub mod app;
pub mod auth;
pub mod config;
pub mod domain;
pub mod http;
pub mod idempotency;
pub mod invocation;
pub mod lambda;
pub mod openapi;
pub mod provision;
pub mod store;
pub mod telemetry;

pub use {app::App, app::InitError};
