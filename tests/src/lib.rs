//! Local tooling and test harness: the table definition read from
//! `template.yaml` (the one source of truth), tables on DynamoDB Local, an
//! [`App`](conduit::App) per test, and API Gateway events built the way API
//! Gateway sends them.

pub mod capacity;
pub mod coldstart;
pub mod events;
pub mod faults;
pub mod gateway;
pub mod iam;
pub mod logs;
pub mod openapi;
pub mod seed;
pub mod stack;

mod lambda;
mod local;
pub mod provider;
mod routes;
mod table;
mod template;
mod test_api;

pub use lambda::{LAMBDA_TIMEOUT, dispatch, event, random_request_id, read, request_from_event};
pub use local::{
    SETUP_BUDGET, app_with_ring, client_at, dynamodb_local_reachable, endpoint, fresh_table,
    local_app, local_client, local_parties, require_dynamodb_local, setup_client, test_app,
    test_ring,
};
pub use routes::{Route, binary_of, route_for, router_toml, routes};
pub use table::TableSpec;
pub use template::{ref_name, template, workspace_root};
pub use test_api::{LOCAL_CLIENT, TestApi, concurrently};
